"""Write rendered manifests to disk, one file per resource."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from portico.files import OutputDir
from portico.values import HelmLoader

# libyaml when present: matrices parse and write thousands of documents. Read as helm reads YAML
# (timestamps stay strings, a bare `=` is a string).
_LOADER = HelmLoader
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_UNSAFE = re.compile(r"[^a-z0-9.-]+")


def resource_filename(index: int, doc: dict) -> str:
    kind = str(doc.get("kind", "unknown")).lower()
    name = str((doc.get("metadata") or {}).get("name", "unnamed")).lower()
    return f"{index:03d}-{_UNSAFE.sub('-', kind)}-{_UNSAFE.sub('-', name)}.yaml"


def write_resources(docs: list[dict], out_dir: Path) -> list[str]:
    """One YAML file per resource into out_dir (created); the file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for index, doc in enumerate(docs):
        name = resource_filename(index, doc)
        (out_dir / name).write_text(yaml.dump(doc, Dumper=_DUMPER, sort_keys=False))
        names.append(name)
    return names


def write_output(docs: list[dict], target: OutputDir) -> int:
    """`portico render -o DIR`: the resources into a directory portico owns, all or nothing."""
    staging = target.staging()
    try:
        count = len(write_resources(docs, staging))
    except BaseException:
        target.discard(staging)
        raise
    target.commit(staging)
    return count


def flatten(docs: list[dict]) -> list[dict]:
    """`kind: List` documents as their items, as helm (and kubectl) apply them."""
    out = []
    for doc in docs:
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            out += [item for item in doc["items"] if isinstance(item, dict)]
        else:
            out.append(doc)
    return out


def load_all(text: str) -> list[dict]:
    """The mapping documents of a multi-document YAML stream."""
    return [d for d in yaml.load_all(text, Loader=_LOADER) if isinstance(d, dict)]
