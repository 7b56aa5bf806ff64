"""`portico doctor`: what portico needs, checked."""

from __future__ import annotations

import argparse

from portico.errors import EXIT_FINDINGS, EXIT_OK


def handle(args: argparse.Namespace) -> int:
    from portico import doctor

    checks = doctor.run()
    for check in checks:
        print(check.line())
    return EXIT_OK if all(c.ok for c in checks if c.required) else EXIT_FINDINGS


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="check what portico needs: Python, Go, the pinned tools, Docker, caches")
    p.set_defaults(handler=handle)
