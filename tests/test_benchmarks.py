"""The benchmark scripts still import against the package (`make bench` is not run by CI)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("script", sorted((REPO / "benchmarks").glob("bench_*.py")), ids=lambda p: p.name)
def test_benchmark_imports(script):
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.main)
