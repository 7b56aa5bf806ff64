"""A chart repository: its charts, what changed, their dependencies offline, and `portico ci` over them."""
