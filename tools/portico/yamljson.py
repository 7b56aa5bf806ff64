"""Convert a YAML document to pretty JSON (values.schema.yaml -> values.schema.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def convert(text: str) -> str:
    return json.dumps(yaml.safe_load(text), indent=2) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m portico.yamljson SOURCE.yaml TARGET.json", file=sys.stderr)
        return 2
    source, target = map(Path, argv)
    target.write_text(convert(source.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
