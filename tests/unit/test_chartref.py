"""Chart references: which kind a string is, and where a one-string version goes."""

from __future__ import annotations

import pytest

from portico import chartref
from tests.conftest import CHART


@pytest.mark.parametrize("ref,kind", [
    (str(CHART), "dir"), ("oci://ghcr.io/acme/charts/app", "oci"), ("bitnami/nginx", "repo"),
    ("./missing", "missing"), ("missing.tgz", "missing"), ("/abs/missing/dir", "missing"),
])
def test_kind_of(ref, kind):
    assert chartref.kind_of(ref) == kind


@pytest.mark.parametrize("ref,split", [
    ("oci://ghcr.io/acme/charts/app@1.4.0", ("oci://ghcr.io/acme/charts/app", "1.4.0")),
    ("bitnami/nginx@v15.0.0-rc.1", ("bitnami/nginx", "v15.0.0-rc.1")),
    ("oci://ghcr.io/acme/charts/app", ("oci://ghcr.io/acme/charts/app", None)),
    ("charts/app@dir", ("charts/app@dir", None)),  # not a version: a local name with an @
    ("git:v1.0.0", ("git:v1.0.0", None)),
])
def test_split_version(ref, split):
    assert chartref.split_version(ref) == split


def test_a_directory_without_chart_yaml_is_refused(tmp_path):
    with pytest.raises(chartref.InputError, match="not a chart"):
        chartref.resolve(tmp_path)
