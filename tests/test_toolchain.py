"""The pinned toolchain: the pin file, the installer's pieces, the installed binaries."""

from __future__ import annotations

import subprocess

import pytest

from portico import toolchain

VERSIONS = toolchain.load_versions()


def test_every_tool_has_a_pin():
    for tool in toolchain.TOOLS:
        assert tool.version_key in VERSIONS, tool.name


@pytest.mark.parametrize("tool", toolchain.TOOLS, ids=lambda t: t.name)
def test_installed_tool_reports_pinned_version(tool):
    binary = toolchain.bin_dir() / tool.name
    assert binary.exists(), f"{binary} missing: run make setup"
    reported = toolchain.reported_version(binary, tool)
    assert reported is not None and reported.lstrip("v") == tool.version(VERSIONS).lstrip("v")


def test_ct_finds_helm_from_tools_dir():
    proc = subprocess.run([str(toolchain.bin_dir() / "ct"), "version"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_bad_pin_line_names_file_and_line(tmp_path):
    pins = tmp_path / "versions.env"
    pins.write_text("HELM_VERSION=v4.3.1\nbroken line\n")
    with pytest.raises(toolchain.ToolchainError, match=r"versions.env:2: expected KEY=VALUE"):
        toolchain.load_versions(pins)


def test_parse_replaces_handles_blocks_and_single_lines():
    gomod = """module k8s.io/kubernetes
replace k8s.io/api => ./staging/src/k8s.io/api
replace (
\tk8s.io/apimachinery => ./staging/src/k8s.io/apimachinery // staging
\tgithub.com/gorilla/mux => github.com/containous/mux v0.0.0-2025
)
"""
    assert toolchain.parse_replaces(gomod) == [
        ("k8s.io/api", "./staging/src/k8s.io/api"),
        ("k8s.io/apimachinery", "./staging/src/k8s.io/apimachinery"),
        ("github.com/gorilla/mux", "github.com/containous/mux v0.0.0-2025"),
    ]


def test_parse_requires():
    gomod = "module m\nrequire a.example/x v1.0.0\nrequire (\n\tb.example/y v2.0.0 // indirect\n)\n"
    assert toolchain.parse_requires(gomod) == ["a.example/x", "b.example/y"]


def test_staging_version_maps_kubernetes_to_published_staging():
    assert toolchain.staging_version("v1.34.4") == "v0.34.4"


def test_release_checksum_lookup():
    text = "abc  other.tar.gz\n" + "f" * 64 + "  kubeconform-linux-amd64.tar.gz\n"
    assert toolchain._expected_sha(text, "kubeconform-linux-amd64.tar.gz") == "f" * 64
    assert toolchain._expected_sha("e" * 64 + "\n", "anything") == "e" * 64
    with pytest.raises(toolchain.ToolchainError, match="no checksum"):
        toolchain._expected_sha("abc  x\n", "y")
