"""Write rendered manifests to disk, one file per resource."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from portico.files import OutputDir
from portico import values as values_mod

# libyaml when present: matrices write thousands of documents.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_UNSAFE = re.compile(r"[^a-z0-9.-]+")


def resource_filename(index: int, doc: dict) -> str:
    kind = str(doc.get("kind", "unknown")).lower()
    name = str((doc.get("metadata") or {}).get("name", "unnamed")).lower()
    return f"{index:03d}-{_UNSAFE.sub('-', kind)}-{_UNSAFE.sub('-', name)}.yaml"


def write_resources(docs: list[dict], out_dir: Path, cache: "DocCache | None" = None) -> list[str]:
    """One YAML file per resource into out_dir (created); the file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for index, doc in enumerate(docs):
        name = resource_filename(index, doc)
        if cache:
            cache.write(doc, out_dir / name)
        else:
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


def load_all(text: str, source: str = "the manifest") -> list[dict]:
    """The mapping documents of a multi-document YAML stream; InputError naming `source` when it is not YAML."""
    return values_mod.loads_all(text, source=source)


def pieces(text: str) -> list[str]:
    """The stream cut before each `---` line: each piece holds one document (or, where a chart writes its
    own separators differently, a few; YAML still parses each piece whole)."""
    out, begin = [], 0
    at = text.find("\n---")
    while at >= 0:
        out.append(text[begin:at + 1])
        begin = at + 1
        at = text.find("\n---", begin)
    out.append(text[begin:])
    return out


LINK_MIN = 4096  # documents this large are hard-linked between renders, not written again


class DocCache:
    """Documents parsed and dumped once per distinct text, for a matrix's thousands of renders.

    Renders of one chart repeat most documents (CRDs, RBAC, the same Service for many values sets): a
    render's stream is cut at its `---` lines, each piece is parsed once and the same objects are handed to
    every render that holds it, so their dumps are computed once too (by object identity). The objects are
    shared: callers must not change them.
    """

    def __init__(self) -> None:
        self._pieces: dict[str, list[dict]] = {}
        self._dumps: dict[tuple[int, bool], str] = {}
        self._written: dict[int, Path] = {}  # id of a large document -> the first file it was written to
        self._sources: dict[int, str] = {}  # id of a piece's only document -> the piece
        self._keep: list[dict] = []  # keeps dumped objects alive, so their ids stay theirs

    def load_all(self, text: str) -> list[dict]:
        """What `load_all(text)` gives, from the cache where a piece was seen before."""
        docs: list[dict] = []
        for piece in pieces(text):
            parsed = self._pieces.get(piece)
            if parsed is None:
                parsed = self._pieces[piece] = load_all(piece)
                if len(parsed) == 1:
                    self._sources[id(parsed[0])] = piece
            docs.extend(parsed)
        return docs

    def write(self, doc: dict, path: Path) -> None:
        """The document's source into path; a large one written before is hard-linked instead (renders of a
        matrix share most of their documents, CRDs above all)."""
        first = self._written.get(id(doc))
        if first is not None:
            try:
                os.link(first, path)
                return
            except OSError:
                pass  # another filesystem, or no hard links: write it
        text = self.source(doc)
        path.write_text(text)
        if len(text) >= LINK_MIN:
            self._written[id(doc)] = path

    def source(self, doc: dict) -> str:
        """The document as the chart rendered it (its `# Source:` comment included), else a dump of it."""
        text = self._sources.get(id(doc))
        return text if text is not None else self.dump(doc, sort_keys=False)

    def dump(self, doc: dict, *, sort_keys: bool) -> str:
        key = (id(doc), sort_keys)
        text = self._dumps.get(key)
        if text is None:
            text = self._dumps[key] = yaml.dump(doc, Dumper=_DUMPER, sort_keys=sort_keys)
            self._keep.append(doc)
        return text
