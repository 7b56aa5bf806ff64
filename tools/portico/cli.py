"""`portico`: render, validate and smoke-test Helm charts.

Subcommands mirror the pipeline: render -> validate -> matrix (both, for every
values permutation) -> smoke / upgrade-check (on a cluster); cluster manages
the local kind cluster; setup and doctor install and check the toolchain.
Errors print one line and exit non-zero: 1 for findings, 2 for bad input, 3 when a
tool or the environment broke, 4 for a bug in portico (errors.py lists them).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from portico import __version__
from portico.commands import (ci, cluster, doctor, init, matrix, merge_reports, registry, release, render, rules,
                              setup, smoke, upgrade_check, validate, version_check, versions)
from portico.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, InputError, PorticoError

# In the order `portico --help` lists them.
COMMANDS = (setup, doctor, merge_reports, init, release, version_check, registry, versions, render, validate, matrix,
            ci, rules, smoke, upgrade_check, cluster)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portico", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"portico {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command portico runs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        from portico import process

        process.set_verbose(True)
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"portico: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PorticoError as exc:
        print(f"portico: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("portico: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`portico versions | head`): not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - a bug of portico's: one line, the traceback on request
        if args.verbose:
            raise
        print(f"portico: internal error: {type(exc).__name__}: {exc} (a bug in portico: rerun with --verbose for "
              f"the traceback and report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
