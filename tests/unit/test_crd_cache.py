"""CRD conversions are kept in the cache under their content's hash: a second run reuses them, a changed CRD
(or converter) is converted again, and two processes converting the same CRD at once both succeed."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from portico.schemas import crd

WIDGET = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
          "metadata": {"name": "widgets.example.com"},
          "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"},
                   "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
                       "type": "object", "properties": {"spec": {"type": "object", "properties": {
                           "size": {"type": "string"}}}}}}}]}}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTICO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _convert(dest):
    return [p.read_text() for p in crd.convert_crds([WIDGET], dest, "test")]


def test_a_second_conversion_comes_from_the_cache_and_a_changed_crd_does_not(tmp_path, monkeypatch, cache):
    first = _convert(tmp_path / "a")
    assert len(list((cache / "crd-conversions").rglob("*.json"))) == 1

    def no_conversion(doc):
        raise AssertionError("converted again")

    monkeypatch.setattr(crd, "crd_to_schemas", no_conversion)
    assert _convert(tmp_path / "b") == first
    changed = json.loads(json.dumps(WIDGET))
    changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"] = {
        "type": "integer"}
    with pytest.raises(AssertionError, match="converted again"):  # the control: new content, no stale hit
        crd.convert_crds([changed], tmp_path / "c", "test")
    monkeypatch.setattr(crd, "CONVERTER_VERSION", crd.CONVERTER_VERSION + 1)
    with pytest.raises(AssertionError, match="converted again"):  # a new converter never reads old results
        crd.convert_crds([WIDGET], tmp_path / "d", "test")


def _worker(args):
    cache_dir, dest = args
    import os

    os.environ["PORTICO_CACHE"] = cache_dir
    return [p.read_text() for p in crd.convert_crds([WIDGET], __import__("pathlib").Path(dest), "test")]


def test_two_processes_converting_the_same_crd_at_once_both_get_it_whole(tmp_path, cache):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_worker, [(str(cache), str(tmp_path / f"out{i}")) for i in range(8)])
    assert all(r == results[0] for r in results) and json.loads(results[0][0])["properties"]["spec"]
    assert not list((cache / "crd-conversions").rglob("*.tmp"))
