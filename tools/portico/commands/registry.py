"""`portico registry`: a throw-away OCI registry on 127.0.0.1."""

from __future__ import annotations

import argparse

from portico.errors import EXIT_OK, PorticoError


def handle(args: argparse.Namespace) -> int:
    from portico.registry import LocalRegistry

    with LocalRegistry(port=args.port) as registry:
        print(f"registry on http://{registry.host} (storage removed on exit); push with:\n"
              f"  portico release CHART --registry {registry.oci()} --plain-http\nCtrl-C to stop", flush=True)
        try:
            registry.process.wait(timeout=args.timeout)  # type: ignore[union-attr]
        except PorticoError:
            pass  # the timeout passed: stop
    return EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("registry", help="run a throw-away OCI registry on 127.0.0.1 (to try releases)")
    p.add_argument("--port", type=int, default=None, help="default: a free port")
    p.add_argument("--timeout", type=float, default=None, help="stop after this many seconds (default: Ctrl-C)")
    p.set_defaults(handler=handle)
