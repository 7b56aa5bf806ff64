"""Subcommands, one module each: `add_parser(subparsers)` declares its flags, `handle(args)` runs it."""
