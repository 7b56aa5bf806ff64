"""cluster up recreates the cluster when a Docker port proxy is gone, and not when Docker publishes by NAT."""

from __future__ import annotations

from portico.cluster import kind


def table(tmp_path, *ports: int):
    rows = [f"   {i}: 0100007F:{port:04X} 00000000:0000 0A 0" for i, port in enumerate(ports)]
    path = tmp_path / "tcp"
    path.write_text("  sl  local_address rem_address   st\n" + "\n".join(rows) + "\n")
    return path


def test_a_mapped_port_without_its_proxy_is_dead(tmp_path):
    alive = [kind.HTTP_PORT, kind.HTTPS_PORT, *kind.NODE_PORTS]
    alive.remove(kind.HTTP_PORT)
    assert kind.dead_ports(table(tmp_path, *alive)) == [kind.HTTP_PORT]


def test_every_proxy_there_means_none_is_dead(tmp_path):
    assert kind.dead_ports(table(tmp_path, kind.HTTP_PORT, kind.HTTPS_PORT, *kind.NODE_PORTS)) == []


def test_nat_publishing_has_no_listener_and_nothing_dead(tmp_path):
    assert kind.dead_ports(table(tmp_path, 2024)) == []
