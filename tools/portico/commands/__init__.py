"""Subcommands, one module each: `add_parser(subparsers)` declares its flags, `handle(args)` runs it; the flag
types more than one command takes live here."""

from __future__ import annotations

import argparse


def shard(raw: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in raw.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N like 2/4, got {raw!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"{raw!r}: need 1 <= I <= N")
    return index, count
