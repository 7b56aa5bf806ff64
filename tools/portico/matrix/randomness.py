"""Content a chart randomises (randAlphaNum passwords, genCA certificates, test pod names, checksums of them).

Two renders of the same values that differ show where: those (kind, field path)
places are masked before renders are compared, so dedupe and grouping hold.
The manifests themselves are kept as rendered.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

from portico import manifests

Path_ = tuple[Any, ...]
MASK = "<random>"


def _diff(a: Any, b: Any, path: Path_) -> Iterator[Path_]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            yield from _diff(a.get(key), b.get(key), (*path, key))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from _diff(x, y, (*path, i))
    elif a != b:
        yield path


def masks(pairs: list[tuple[str, str]], cache: manifests.DocCache | None = None) -> set[tuple[int, str, Path_]]:
    """(document position, kind, field path) that differ between two renders of the same values."""
    found: set[tuple[int, str, Path_]] = set()
    load = cache.load_all if cache else manifests.load_all
    for first, second in pairs:
        docs_a, docs_b = load(first), load(second)
        for index, (a, b) in enumerate(zip(docs_a, docs_b)):
            if a is b:  # the same document text, parsed once: nothing differs
                continue
            for path in _diff(a, b, ()):
                found.add((index, str(a.get("kind")), path))
    return found


def _kind_paths(found: set[tuple[int, str, Path_]]) -> dict[str, set[Path_]]:
    out: dict[str, set[Path_]] = {}
    for _, kind, path in found:
        out.setdefault(kind, set()).add(path)
    return out


def _masked(node: Any, path: Path_) -> Any:
    """A copy of node with the value at path replaced by MASK; only the containers along the path are
    copied (the node may be shared with other renders)."""
    if not path:
        return node  # the whole document never is random: two renders always share its kind
    key, rest = path[0], path[1:]
    if isinstance(node, dict) and key in node:
        return {**node, key: _masked(node[key], rest) if rest else MASK}
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return [*node[:key], _masked(node[key], rest) if rest else MASK, *node[key + 1:]]
    return node


def fingerprint(manifest: str, found: set[tuple[int, str, Path_]],
                pieces: dict[str, str] | None = None, cache: manifests.DocCache | None = None) -> str:
    """A hash of the manifest with every randomised place masked (the plain hash when nothing is random).

    Masked per document: `pieces` (document text -> its masked hash) carries the work over from one render
    to the next, since most documents repeat across a matrix; `cache` parses each document text once.
    """
    if not found:
        return hashlib.sha256(manifest.encode()).hexdigest()[:16]
    by_kind = _kind_paths(found)
    pieces = {} if pieces is None else pieces
    digest = hashlib.sha256()
    for piece in manifests.pieces(manifest):
        masked = pieces.get(piece)
        if masked is None:
            docs = list(cache.load_all(piece) if cache else manifests.load_all(piece))
            for i, doc in enumerate(docs):
                for path in by_kind.get(str(doc.get("kind")), ()):
                    docs[i] = doc = _masked(doc, path)
            # JSON with sorted keys is as canonical as a YAML dump here, and its C encoder is much faster.
            text = json.dumps(docs, sort_keys=True, default=str)
            masked = pieces[piece] = hashlib.sha256(text.encode()).hexdigest()
        digest.update(masked.encode())
    return digest.hexdigest()[:16]


def masked_documents(manifest: str, found: set[tuple[int, str, Path_]]) -> list[dict]:
    """The manifest's documents, every randomised place masked: two renders of the same values compare equal."""
    by_kind = _kind_paths(found)
    docs = manifests.load_all(manifest)
    for i, doc in enumerate(docs):
        for path in by_kind.get(str(doc.get("kind")), ()):
            docs[i] = doc = _masked(doc, path)
    return docs


def first_difference(a: Any, b: Any) -> str | None:
    """The first field path where two documents differ, dotted, or None when they are equal."""
    for path in _diff(a, b, ()):
        return ".".join(map(str, path)) or "(the whole document)"
    return None


def describe(found: set[tuple[int, str, Path_]]) -> list[str]:
    return sorted({f"{kind} {'.'.join(map(str, path))}" for _, kind, path in found})
