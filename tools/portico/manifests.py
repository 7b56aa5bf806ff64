"""Write rendered manifests to disk, one file per resource."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

# libyaml when present: matrices parse and write thousands of documents.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_UNSAFE = re.compile(r"[^a-z0-9.-]+")


def resource_filename(index: int, doc: dict) -> str:
    kind = str(doc.get("kind", "unknown")).lower()
    name = str((doc.get("metadata") or {}).get("name", "unnamed")).lower()
    return f"{index:03d}-{_UNSAFE.sub('-', kind)}-{_UNSAFE.sub('-', name)}.yaml"


def write_resources(docs: list[dict], out_dir: Path) -> list[Path]:
    """Replace out_dir with one YAML file per resource; all-or-nothing."""
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    names = []
    for index, doc in enumerate(docs):
        name = resource_filename(index, doc)
        (tmp / name).write_text(yaml.dump(doc, Dumper=_DUMPER, sort_keys=False))
        names.append(name)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.replace(out_dir)
    return [out_dir / n for n in names]


def load_all(text: str) -> list[dict]:
    """The mapping documents of a multi-document YAML stream."""
    return [d for d in yaml.load_all(text, Loader=_LOADER) if isinstance(d, dict)]
