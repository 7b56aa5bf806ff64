"""`portico setup`: the pinned tools, the renderer and the offline schemas."""

from __future__ import annotations

import argparse
import os
import sys

from portico.errors import EXIT_FINDINGS, EXIT_OK, InputError


def handle(args: argparse.Namespace) -> int:
    from portico.schemas import ensure_schemas
    from portico.toolchain import install

    from portico.toolchain.catalog import TOOLS

    known = [t.name for t in TOOLS]
    for name in args.skip:
        if name not in known:
            raise InputError(f"expected one of {', '.join(known)}, got {name!r}", source="--skip")
    allow_download = not (args.no_download or os.environ.get("PORTICO_NO_DOWNLOAD") == "1")
    code = install.install(args.tools or None, skip=args.skip, allow_download=allow_download,
                           out=lambda line: print(line, flush=True),
                           err=lambda line: print(line, file=sys.stderr, flush=True))
    if not args.tools:
        ensure_schemas()
    return EXIT_FINDINGS if code else EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("setup", help="install the pinned tools, build the renderer and the offline schemas",
                       description="Per tool: the tools dir, a binary on PATH at the pinned version, the official "
                                   "checksum-verified release download, or a build from the Go module proxy. "
                                   "Idempotent and fast when warm.")
    p.add_argument("tools", nargs="*", help="only these tools (default: all, plus the renderer and schemas)")
    p.add_argument("--no-download", action="store_true", help="skip release downloads, build from Go modules")
    p.add_argument("--skip", action="append", default=[], metavar="TOOL",
                   help="all but this tool (repeatable; `make test` builds the release tests' registry later, in "
                        "the background)")
    p.set_defaults(handler=handle)
