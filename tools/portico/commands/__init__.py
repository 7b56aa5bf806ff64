"""Subcommands, one module each: `add_parser(sub)` declares its flags, `handle(args)` runs it and returns
the exit code; `args` holds the flag types more than one command takes."""
