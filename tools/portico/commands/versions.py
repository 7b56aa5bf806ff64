"""`portico versions`: the pinned tool versions, KEY=VALUE."""

from __future__ import annotations

import argparse

from portico.errors import EXIT_OK


def handle(args: argparse.Namespace) -> int:
    from portico.toolchain.pins import load_versions

    for key, value in load_versions().items():
        print(f"{key}={value}")
    return EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("versions", help="print the pinned tool versions, KEY=VALUE")
    p.set_defaults(handler=handle)
