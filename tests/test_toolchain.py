"""The pinned toolchain: the pin file, the installer's pieces, the installed binaries."""

from __future__ import annotations

import pytest

from portico.process import default_runner
from portico.toolchain import download, gomod
from portico.toolchain.catalog import TOOLS
from portico.toolchain.install import ensure_tool, reported_version
from portico.toolchain.pins import ToolchainError, load_versions
from portico.errors import InputError
from portico.paths import bin_dir
from portico.toolchain.locate import tools_env

VERSIONS = load_versions()


def test_every_tool_has_a_pin():
    for tool in TOOLS:
        assert tool.version_key in VERSIONS, tool.name


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_installed_tool_reports_pinned_version(tool):
    if tool.optional:
        # `make setup` leaves it out; installed on first use (`portico setup cosign`), which on a fresh machine
        # may come after this test.
        ensure_tool(tool, VERSIONS)
    binary = bin_dir() / tool.name
    assert binary.exists(), f"{binary} missing: run portico setup"
    reported = reported_version(binary, tool)
    assert reported is not None and reported.lstrip("v") == tool.version(VERSIONS).lstrip("v")


def test_ct_finds_helm_from_tools_dir():
    proc = default_runner().run([str(bin_dir() / "ct"), "version"], check=False, env=tools_env())
    assert proc.returncode == 0, proc.stderr


def test_bad_pin_line_names_file_and_line(tmp_path):
    pins = tmp_path / "versions.env"
    pins.write_text("HELM_VERSION=v4.3.1\nbroken line\n")
    with pytest.raises(ToolchainError, match=r"versions.env:2: expected KEY=VALUE"):
        load_versions(pins)


def test_parse_replaces_handles_blocks_and_single_lines():
    gomod_text = """module k8s.io/kubernetes
replace k8s.io/api => ./staging/src/k8s.io/api
replace (
\tk8s.io/apimachinery => ./staging/src/k8s.io/apimachinery // staging
\tgithub.com/gorilla/mux => github.com/containous/mux v0.0.0-2025
)
"""
    assert gomod.parse_replaces(gomod_text) == [
        ("k8s.io/api", "./staging/src/k8s.io/api"),
        ("k8s.io/apimachinery", "./staging/src/k8s.io/apimachinery"),
        ("github.com/gorilla/mux", "github.com/containous/mux v0.0.0-2025"),
    ]


def test_parse_requires():
    text = "module m\nrequire a.example/x v1.0.0\nrequire (\n\tb.example/y v2.0.0 // indirect\n)\n"
    assert gomod.parse_requires(text) == ["a.example/x", "b.example/y"]


def test_staging_version_maps_kubernetes_to_published_staging():
    assert gomod.staging_version("v1.34.4") == "v0.34.4"


def test_release_checksum_lookup():
    text = "abc  other.tar.gz\n" + "f" * 64 + "  kubeconform-linux-amd64.tar.gz\n"
    assert download.expected_sha(text, "kubeconform-linux-amd64.tar.gz") == "f" * 64
    assert download.expected_sha("e" * 64 + "\n", "anything") == "e" * 64
    with pytest.raises(ToolchainError, match="no checksum"):
        download.expected_sha("abc  x\n", "y")


def test_setup_skips_the_tools_named_and_nothing_else():
    from portico.toolchain import install

    lines: list[str] = []
    assert install.install(["kind", "registry"], skip=["registry"], out=lines.append, err=lines.append) == 0
    assert [line.split()[0] for line in lines] == ["kind"]
    with pytest.raises(InputError, match="unknown tool 'frob'"):
        install.install(["kind"], skip=["frob"], out=lines.append, err=lines.append)
