"""`portico cluster up` on a cluster that exists: kept when its node runs the image wanted, recreated when not."""

from __future__ import annotations

import pytest

from portico.cluster import addons, kind, lifecycle, nodeimage


@pytest.fixture
def calls(monkeypatch):
    made: list[str] = []

    class FakeDocker:
        def require_daemon(self):
            pass

    state = {"exists": True, "image": None}
    monkeypatch.setattr(lifecycle, "Docker", FakeDocker)
    monkeypatch.setattr(kind, "exists", lambda: state["exists"])
    monkeypatch.setattr(kind, "node_running", lambda: True)
    monkeypatch.setattr(kind, "dead_ports", lambda: [])
    monkeypatch.setattr(kind, "node_image", lambda: state["image"])
    monkeypatch.setattr(kind, "export_kubeconfig", lambda: made.append("export"))

    def delete():
        made.append("delete")
        state["exists"] = False

    monkeypatch.setattr(kind, "delete", delete)
    monkeypatch.setattr(kind, "create", lambda image, version: made.append(f"create {image}"))
    monkeypatch.setattr(nodeimage, "build", lambda log: made.append("build") or nodeimage.node_image_tag(
        lifecycle.load_versions()))
    monkeypatch.setattr(kind, "cluster", lambda: type("C", (), {"wait_nodes_ready": lambda self: None})())
    monkeypatch.setattr(addons, "install", lambda log: made.append("addons"))
    return made, state


def test_a_cluster_on_the_wanted_node_image_is_kept(calls):
    made, state = calls
    state["image"] = nodeimage.node_image_tag(lifecycle.load_versions())
    lifecycle.up(log=lambda line: None)
    assert made == ["export", "addons"]


def test_a_cluster_on_a_stale_node_image_is_recreated_on_the_current_one(calls):
    made, state = calls
    state["image"] = "portico.local/kind-node:v1.34.4-000000000000"
    lines: list[str] = []
    lifecycle.up(log=lines.append)
    wanted = nodeimage.node_image_tag(lifecycle.load_versions())
    assert made == ["delete", "build", f"create {wanted}", "addons"]
    assert any("recreating" in line and "000000000000" in line for line in lines)


def test_a_named_image_is_what_the_node_must_run(calls, monkeypatch):
    made, state = calls
    monkeypatch.setenv("PORTICO_NODE_IMAGE", "kindest/node:v1.34.4")
    state["image"] = "kindest/node:v1.34.4"
    lifecycle.up(log=lambda line: None)
    assert made == ["export", "addons"]
    state["image"] = "portico.local/kind-node:v1.34.4-abc"
    lifecycle.up(log=lambda line: None)
    assert made[2:] == ["delete", "create kindest/node:v1.34.4", "addons"]
