"""`portico validate`: manifests through kubeconform (and a local API server with --admission)."""

from __future__ import annotations

import argparse
from pathlib import Path

from portico.clients.helm import DEFAULT_NAMESPACE
from portico.commands import args as args_
from portico.errors import EXIT_FINDINGS, EXIT_OK, InputError


def _manifest_files(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for candidate in candidates:
            if candidate.is_symlink() and not candidate.exists():
                raise InputError("is a dangling symlink", source=str(candidate))
            if candidate.is_file() and candidate.suffix in (".yaml", ".yml", ".json"):
                found.append(candidate)
    if not found:
        raise InputError("no manifests (*.yaml, *.yml, *.json) found", source=", ".join(map(str, paths)))
    return found


def _admit_files(args: argparse.Namespace, files: list[Path]) -> int:
    """`validate --admission`: the manifest files through a local API server; the number of errors."""
    from portico import manifests
    from portico.admission import stage

    docs = [d for path in files for d in manifests.load_all(path.read_text())]
    findings, sent = stage.run_local({"files": docs}, {"files": ["files"]}, namespace=args.namespace,
                                     crds=[d for d in docs if d.get("kind") == "CustomResourceDefinition"],
                                     pod_security=args.pod_security)
    for f in findings:
        print(f"admission: {f.severity} {f.rule} {f.object}: {f.message}")
    errors = sum(1 for f in findings if f.severity != "warning")
    print(f"admission: {sent} objects, {errors} refused or in breach of Pod Security {args.pod_security}")
    return errors


_NOT_RESOURCES = ("kustomize.config.k8s.io/",)  # kustomization.yaml: a build file, not an object of a cluster


def _resource_files(files: list[Path]) -> tuple[list[Path], list[Path], list[dict]]:
    """(files holding a Kubernetes object, files skipped, the CRDs among them): a chart's values.yaml or a
    kustomization.yaml beside the manifests is no resource, and kubeconform would report it as one."""
    from portico import manifests

    keep, skipped, crds = [], [], []
    for path in files:
        try:
            docs = manifests.load_all(path.read_text())
        except Exception:  # noqa: BLE001 - not YAML: kubeconform names the problem
            keep.append(path)
            continue
        objects = [d for d in docs if d.get("apiVersion") and d.get("kind")
                   and not str(d["apiVersion"]).startswith(_NOT_RESOURCES)]
        (keep if objects or not docs else skipped).append(path)
        crds += [d for d in objects if d.get("kind") == "CustomResourceDefinition"]
    return keep, skipped, crds


def handle(args: argparse.Namespace) -> int:
    import tempfile

    from portico.schemas import available, crd as crd_schemas, kubernetes_versions, validate

    versions = args.kube_version or kubernetes_versions()
    for version in versions:
        available(version)
    listed = _manifest_files(args.paths)
    files, skipped, crds = _resource_files(listed)
    if skipped:
        print(f"skipped {len(skipped)} file(s) that hold no Kubernetes object: "
              f"{', '.join(str(p) for p in skipped[:5])}{' ...' if len(skipped) > 5 else ''}")
    if not files:
        raise InputError("no Kubernetes objects (apiVersion and kind) in these files",
                         source=", ".join(map(str, args.paths)))
    failed = _admit_files(args, listed) if args.admission else 0
    with tempfile.TemporaryDirectory(prefix="portico-validate-crds-") as tmp:
        # CRDs among the files validate the custom resources among them, as the matrix does with a chart's
        locations = list(args.schema_location)
        unconverted: list[str] = []
        if crd_schemas.convert_crds(crds, Path(tmp), ", ".join(map(str, args.paths)), unconverted):
            locations.insert(0, crd_schemas.location(Path(tmp)))
        for note in unconverted:
            print(f"warning crd-schema: {note}")
        for version in versions:
            result = validate(version, files, skip_kinds=args.skip_kind, extra_locations=locations)
            for finding in result.invalid:
                print(finding.line())
            failed += len(result.invalid)
            status = "ok" if not result.invalid else f"{len(result.invalid)} invalid"
            print(f"kubernetes {version}: {result.resources} resources, {status}")
    return EXIT_FINDINGS if failed else EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="validate manifests with kubeconform (strict, offline, CRDs included)")
    p.add_argument("paths", nargs="+", type=args_.existing_path("path"), help="manifest files or directories")
    p.add_argument("--kube-version", action="append", type=args_.k8s_minor,
                   help="Kubernetes version to validate against (repeatable; default: the pinned range)")
    p.add_argument("--skip-kind", action="append", default=[], help="kind to skip (repeatable)")
    p.add_argument("--schema-location", action="append", default=[], metavar="LOCATION", type=args_.schema_location,
                   help="extra kubeconform schema location (an offline directory or file template; repeatable)")
    p.add_argument("--admission", action="store_true",
                   help="also send every object to a local kube-apiserver (server-side dry-run)")
    p.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="namespace for objects that name none")
    p.add_argument("--pod-security", choices=["privileged", "baseline", "restricted"], default="restricted")
    p.set_defaults(handler=handle)
