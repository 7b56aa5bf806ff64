"""A chart's version and what users read before they install it.

Two checks, each returning plain-word problems (empty: fine):
- `bump_problems`: a chart whose files changed since the base ref (the last
  release tag by default) must carry a higher SemVer `version`, as `ct lint`
  demands against its target branch;
- `metadata_problems`: the CHANGELOG has an entry for the chart's version and
  the Artifact Hub annotations (`artifacthub.io/changes`, `images`, `links`,
  optionally `signKey`) parse as Artifact Hub expects.

Release tags are `<chart name>-<version>` (chart-releaser's convention), so one
repository can release several charts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import semver

from portico.clients.git import Git
from portico.errors import InputError
from portico import values as values_mod

CHANGE_KINDS = ("added", "changed", "deprecated", "removed", "fixed", "security")


def chart_yaml(chart: Path) -> dict[str, Any]:
    path = chart / "Chart.yaml"
    data = values_mod.read_mapping(path, "a Chart.yaml")
    if "name" not in data or "version" not in data:
        raise InputError("expected a mapping with name and version", source=str(path))
    return data


def parse(version: str, source: str) -> semver.Version:
    try:
        return semver.Version.parse(str(version))
    except ValueError:
        raise InputError(f"version {version!r} is not SemVer 2 (MAJOR.MINOR.PATCH, e.g. 1.4.0)", source=source,
                         key_path="version") from None


def tag_for(chart: Path) -> str:
    meta = chart_yaml(chart)
    return f"{meta['name']}-{meta['version']}"


def last_release_tag(chart: Path, git: Git | None = None) -> str | None:
    """The newest `<name>-<semver>` tag reachable from HEAD, or None (no tags, or a shallow clone without them)."""
    git = git or Git()
    name = chart_yaml(chart)["name"]
    found: list[tuple[semver.Version, str]] = []
    for tag in git.merged_tags(chart, f"{name}-*"):
        try:
            found.append((semver.Version.parse(tag[len(name) + 1:]), tag))
        except ValueError:
            continue
    return max(found)[1] if found else None


def previous_version_commit(chart: Path, git: Git | None = None) -> tuple[str, str] | None:
    """(commit, version): the newest commit whose Chart.yaml has another version than the working tree's, so
    the chart as it was at its previous version; None when every commit has this version (or none exist).

    What a clone without release tags compares with: the chart's previous version, found in its history."""
    git = git or Git()
    current = str(chart_yaml(chart)["version"])
    for commit in git.commits_touching(chart, "Chart.yaml"):
        text = git.show(chart, commit, "Chart.yaml")
        try:
            meta = values_mod.loads(text, source=f"{commit}:Chart.yaml") if text else None
        except InputError:
            continue
        version = str(meta.get("version")) if isinstance(meta, dict) else None
        if version and version != current:
            return commit, version
    return None


def comparison_base(chart: Path, git: Git | None = None) -> tuple[str, str] | None:
    """(ref, what it is) to compare a chart with: its last release tag, else its previous version's commit."""
    git = git or Git()
    tag = last_release_tag(chart, git)
    if tag:
        return tag, tag
    found = previous_version_commit(chart, git)
    if found:
        return found[0], f"{found[0][:12]}, the last commit with version {found[1]}; no release tag"
    return None


def bump_problems(chart: Path, base: str, git: Git | None = None) -> list[str]:
    """Changed since `base` without a higher version -> one problem."""
    git = git or Git()
    source = str(chart / "Chart.yaml")
    current = parse(chart_yaml(chart)["version"], source)
    old_text = git.show(chart, base, "Chart.yaml")
    if old_text is None:
        return []  # the chart is new since base: any version will do
    old_meta = values_mod.loads(old_text, source=f"{base}:Chart.yaml")
    old = parse((old_meta if isinstance(old_meta, dict) else {}).get("version", "0.0.0"), f"{base}:Chart.yaml")
    changed = git.changed_files(chart, base)
    if not changed:
        return []
    if current <= old:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        return [f"{source}: the chart changed since {base} ({shown}) but its version is still {current} "
                f"(was {old}): bump it (patch for fixes, minor for new values, major for changes an upgrade "
                f"cannot take) and add a CHANGELOG entry"]
    return []


def _changelog_versions(text: str) -> set[str]:
    # Keep a Changelog headings: "## [1.2.0] - 2026-12-01" or "## 1.2.0".
    return set(re.findall(r"^##\s+\[?v?(\d+\.\d+\.\d+[\w.+-]*)\]?", text, re.MULTILINE))


def _annotation(meta: dict[str, Any], key: str, source: str) -> Any:
    raw = (meta.get("annotations") or {}).get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        return raw
    try:
        return values_mod.loads(raw, source=source)
    except InputError as exc:
        raise InputError(f"is not YAML: {exc}", source=source, key_path=f"annotations.{key}") from None


def metadata_problems(chart: Path, changelog: Path | None = None) -> list[str]:
    source = str(chart / "Chart.yaml")
    meta = chart_yaml(chart)
    version = str(meta["version"])
    parse(version, source)
    problems = []
    changelog = changelog or chart / "CHANGELOG.md"
    if not changelog.exists():
        problems.append(f"{changelog}: missing: keep a CHANGELOG with an entry per version")
    elif version not in _changelog_versions(changelog.read_text()):
        problems.append(f"{changelog}: no entry for version {version} (a heading like `## [{version}] - DATE`)")
    changes = _annotation(meta, "artifacthub.io/changes", source)
    if not changes:
        problems.append(f"{source}: annotations.artifacthub.io/changes: missing: list this version's changes "
                        f"(kind: {'|'.join(CHANGE_KINDS)}, description: ...)")
    else:
        for i, change in enumerate(changes if isinstance(changes, list) else [changes]):
            kind = change.get("kind") if isinstance(change, dict) else None
            if kind not in CHANGE_KINDS or not change.get("description"):
                problems.append(f"{source}: annotations.artifacthub.io/changes[{i}]: expected kind (one of "
                                f"{', '.join(CHANGE_KINDS)}) and description, got {change!r}")
    for key, fields in (("artifacthub.io/images", ("name", "image")), ("artifacthub.io/links", ("name", "url"))):
        items = _annotation(meta, key, source)
        if not items:
            problems.append(f"{source}: annotations.{key}: missing (a list of {' and '.join(fields)})")
            continue
        for i, item in enumerate(items if isinstance(items, list) else [items]):
            if not isinstance(item, dict) or any(not item.get(f) for f in fields):
                problems.append(f"{source}: annotations.{key}[{i}]: expected {' and '.join(fields)}, got {item!r}")
    sign_key = _annotation(meta, "artifacthub.io/signKey", source)
    if sign_key is not None and (not isinstance(sign_key, dict) or not sign_key.get("fingerprint")
                                 or not sign_key.get("url")):
        problems.append(f"{source}: annotations.artifacthub.io/signKey: expected fingerprint and url")
    return problems
