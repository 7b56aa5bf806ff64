"""`portico release`: lint, test, package, sign, push and verify a chart, one line per step.

Steps, stopping at the first that fails (nothing is pushed after a failure):
1. metadata: CHANGELOG entry and Artifact Hub annotations for the version;
2. version: higher than the last release tag when the chart changed since it,
   and that version not released already;
3. lint: `helm lint --strict`;
4. matrix: the chart's values matrix (render, schemas, policy, upgrade safety);
5. package: `helm package`, with `--sign` a provenance file (.prov) beside it;
6. verify: `helm verify` of the package against the public keyring;
7. push: `helm push` to the OCI registry (the .prov goes with it);
8. cosign: a cosign signature of the pushed artifact, when a cosign key is given.
The package lands in the output directory only once it is verified.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from portico import versioning
from portico.clients.helm import Helm, HelmError
from portico.errors import InputError, PorticoError


@dataclass(frozen=True)
class Options:
    chart: Path
    output: Path = Path("dist")
    registry: str | None = None  # oci://host/path; None: package only
    plain_http: bool = False
    sign_key: str | None = None  # the GnuPG key name (uid or fingerprint)
    keyring: Path | None = None  # secret keyring (legacy secring.gpg format)
    passphrase_file: Path | None = None
    verify_keyring: Path | None = None  # public keyring; default: the signing keyring
    matrix: Path | None = None  # default: CHART/ci/matrix.yaml or CHART/ci/portico-matrix.yaml when present
    skip_matrix: bool = False
    cosign_key: Path | None = None
    base: str | None = None  # the ref to compare against for the version bump; default: the last release tag


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass
class Result:
    steps: list[Step] = field(default_factory=list)
    package: Path | None = None
    digest: str = ""

    reference: str = ""  # host/path/chart@sha256:..., what cosign and `helm pull` address

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "package": str(self.package) if self.package else None, "digest": self.digest,
                "reference": self.reference,
                "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail, "seconds": round(s.seconds, 3)}
                          for s in self.steps]}


class StepFailed(PorticoError):
    exit_code = 1


def _matrix_file(opts: Options) -> Path | None:
    if opts.matrix is not None:
        return opts.matrix
    for name in ("matrix.yaml", "portico-matrix.yaml"):
        if (opts.chart / "ci" / name).exists():
            return opts.chart / "ci" / name
    return None


def _metadata(opts: Options) -> str:
    problems = versioning.metadata_problems(opts.chart)
    if problems:
        raise StepFailed("\n".join(problems))
    return f"CHANGELOG and Artifact Hub annotations cover {versioning.chart_yaml(opts.chart)['version']}"


def _version(opts: Options) -> str:
    from portico.clients.git import Git

    git = Git()
    if git.toplevel(opts.chart) is None:
        return "not in a git repository: no release tags to compare with"
    tag = versioning.tag_for(opts.chart)
    if tag in git.merged_tags(opts.chart, tag) and git.changed_files(opts.chart, tag):
        raise StepFailed(f"{tag} is already released and the chart changed since: bump the version")
    base = opts.base or versioning.last_release_tag(opts.chart, git)
    if base is None:
        return f"first release: no earlier {versioning.chart_yaml(opts.chart)['name']}-* tag"
    problems = versioning.bump_problems(opts.chart, base, git)
    if problems:
        raise StepFailed("\n".join(problems))
    return f"{tag} after {base}"


def _lint(opts: Options, helm: Helm) -> str:
    try:
        out = helm.lint(opts.chart, strict=True)
    except HelmError as exc:
        raise StepFailed(str(exc)) from None
    return out.strip().splitlines()[-1] if out.strip() else "clean"


def _matrix(opts: Options) -> str:
    from portico.matrix import spec
    from portico.matrix.run import run

    path = _matrix_file(opts)
    if opts.skip_matrix or path is None:
        return "skipped" + ("" if opts.skip_matrix else " (no ci/matrix.yaml; give --matrix)")
    matrix = spec.with_chart(spec.load(path), opts.chart)
    with tempfile.TemporaryDirectory(prefix="portico-release-matrix-") as out:
        result = run(matrix, Path(out) / "matrix")
    if not result.ok:
        raise StepFailed(f"{path}: {len(result.findings)} findings; run `portico matrix {path}` for the report")
    return f"{path}: {len(result.combos)} combinations, 0 findings"


def run(opts: Options, helm: Helm | None = None, out: Callable[[Step], None] = lambda _s: None) -> Result:
    """Every step in order; the result says which passed. InputError for bad options."""
    if opts.sign_key and opts.keyring is None:
        raise InputError("--sign-key needs --keyring (a secret keyring in the legacy secring.gpg format)",
                         source="--keyring")
    if opts.cosign_key and not opts.registry:
        raise InputError("a cosign signature needs a pushed artifact: give --registry", source="--cosign-key")
    helm = helm or Helm.pinned()
    result = Result()
    staging = Path(tempfile.mkdtemp(prefix="portico-release-"))
    state: dict[str, Path] = {}

    def package() -> str:
        state["package"] = helm.package(opts.chart, staging, sign_key=opts.sign_key, keyring=opts.keyring,
                                        passphrase_file=opts.passphrase_file)
        signed = "signed, provenance beside it" if opts.sign_key else "unsigned (no --sign-key)"
        return f"{state['package'].name} ({signed})"

    def verify() -> str:
        if not opts.sign_key:
            return "skipped: unsigned"
        said = helm.verify(state["package"], opts.verify_keyring or opts.keyring)  # type: ignore[arg-type]
        return next((ln for ln in said.splitlines() if ln.startswith("Using Key")), said.strip())

    def publish() -> str:
        opts.output.mkdir(parents=True, exist_ok=True)
        for path in staging.iterdir():
            shutil.copy2(path, opts.output / path.name)
        result.package = opts.output / state["package"].name
        if not opts.registry:
            return f"{result.package} (no --registry: not pushed)"
        from portico.clients.cosign import image_ref

        result.digest = helm.push(result.package, opts.registry, plain_http=opts.plain_http)
        result.reference = image_ref(opts.registry, str(versioning.chart_yaml(opts.chart)["name"]), result.digest)
        return f"oci://{result.reference}"

    def cosign() -> str:
        if not opts.cosign_key:
            return "skipped (no --cosign-key)"
        from portico.clients.cosign import Cosign

        Cosign.pinned().sign(result.reference, opts.cosign_key, http=opts.plain_http)
        return f"signed {result.reference}"

    steps: list[tuple[str, Callable[[], str]]] = [
        ("metadata", lambda: _metadata(opts)), ("version", lambda: _version(opts)),
        ("lint", lambda: _lint(opts, helm)), ("matrix", lambda: _matrix(opts)), ("package", package),
        ("verify", verify), ("push", publish), ("cosign", cosign),
    ]
    try:
        for name, action in steps:
            started = time.monotonic()
            try:
                step = Step(name, True, action())
            except InputError:
                raise
            except PorticoError as exc:  # a failed step: helm, cosign, a finding
                step = Step(name, False, str(exc))
            step.seconds = time.monotonic() - started
            result.steps.append(step)
            out(step)
            if not step.ok:
                break
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result
