"""Fresh connections get source addresses whose ports can hold their TIME_WAIT sockets."""

from __future__ import annotations

import socket
from collections import Counter

import pytest

from portico.zerodowntime import sources
from portico.zerodowntime.load import classify


def test_each_targets_fresh_load_has_addresses_of_its_own():
    plan = sources.Sources(ports=28232, busy=Counter())
    picked = [plan.split("127.0.0.1", 125) for _ in range(3)]
    assert all(len(p) == 1 for p in picked)
    assert len({p[0][0] for p in picked}) == 3, "each target's fresh load has its own address"


def test_an_address_holds_what_half_the_port_range_holds():
    """bind(0) walks the odd half of the range first (connect() the even one): 250 fresh requests/s keep 15,000
    sockets in TIME_WAIT, past the 14,116 of one half."""
    assert sources.capacity(28232) == pytest.approx(14116 * sources.SHARE / 60)
    assert len(sources.Sources(ports=28232, busy=Counter()).split("127.0.0.1", 250)) == 2


def test_bind_port_zero_takes_the_odd_half_of_the_range_here():
    """The kernel behaviour `capacity` rests on; if a kernel changes it, this says so."""
    held = []
    try:
        for _ in range(64):
            s = socket.socket()
            held.append(s)
            s.bind((sources.CANDIDATES[-1], 0))
        assert all(s.getsockname()[1] % 2 for s in held)
    finally:
        for s in held:
            s.close()


def test_a_rate_beyond_one_address_is_split_and_adds_up():
    plan = sources.Sources(ports=28232, busy=Counter())
    parts = plan.split("127.0.0.1", 1000)
    assert len(parts) == 8 and sum(rate for _, rate in parts) == pytest.approx(1000)
    assert all(rate <= plan.capacity for _, rate in parts)


def test_addresses_still_holding_time_wait_sockets_are_skipped():
    busy = Counter({sources.CANDIDATES[0]: 1200})
    assert sources.Sources(ports=28232, busy=busy).split("127.0.0.1", 100)[0][0] == sources.CANDIDATES[1]


WANTED = {"ingress": ("127.0.0.1", 18080, 250), "route": ("127.0.0.1", 18080, 250),
          "nodeport": ("127.0.0.1", 30002, 100), "lb1": ("172.18.255.200", 80, 250),
          "lb2": ("172.18.255.201", 80, 250)}


def test_fresh_connections_are_capped_per_proxied_destination_and_per_routed_address():
    cap = sources.capacity(28232)
    rates = sources.fresh_rates(WANTED, ports=28232, route=lambda host: "172.18.0.1", proxies=lambda: {18080})
    assert rates["nodeport"] == 100, "a destination without a proxy keeps what was asked"
    assert rates["ingress"] == rates["route"] == pytest.approx(cap / 2), "two targets behind one proxy share it"
    assert rates["lb1"] + rates["lb2"] == pytest.approx(cap), "targets routed from one address share its ports"


def test_without_a_visible_docker_every_loopback_port_is_taken_for_proxied():
    rates = sources.fresh_rates(WANTED, ports=28232, route=lambda host: "172.18.0.1", proxies=lambda: None)
    assert rates["nodeport"] == 100 and rates["ingress"] < 250


def test_without_any_proxy_a_loopback_target_gets_one_addresss_capacity():
    rates = sources.fresh_rates(WANTED, ports=28232, route=lambda host: "172.18.0.1", proxies=set)
    assert rates["ingress"] == rates["route"] == pytest.approx(sources.capacity(28232))
    assert rates["nodeport"] == 100


def test_docker_proxies_are_found_in_the_process_table(tmp_path):
    def process(pid, *args):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in args) + b"\0")
    process(1, "/usr/bin/docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "18080")
    assert sources.userland_proxies(tmp_path) is None, "no dockerd here: Docker runs elsewhere, proxies unseen"
    process(2, "/usr/bin/dockerd", "--config-file", "/etc/docker/daemon.json")
    assert sources.userland_proxies(tmp_path) == {18080}


def test_other_targets_bind_the_address_they_are_routed_from():
    plan = sources.Sources(ports=28232, busy=Counter(), route=lambda host: "172.18.0.1")
    assert plan.split("172.18.255.200", 100) == [("172.18.0.1", 100)]
    assert sources.route_source("127.0.0.1") == "127.0.0.1"


def test_kept_alive_attacks_get_one_address_of_their_own():
    plan = sources.Sources(ports=28232, busy=Counter())
    assert len(plan.split("127.0.0.1", 2000, fresh=False)) == 1
    assert plan.split("172.18.255.200", 2000, fresh=False) == [(sources.route_source("172.18.255.200"), 2000)]


def test_time_wait_sockets_are_counted_per_local_address(tmp_path):
    table = tmp_path / "tcp"
    table.write_text(
        "  sl  local_address rem_address   st\n"
        "   0: 0101007F:9C40 0100007F:4E20 06 0\n"   # 127.0.1.1, TIME_WAIT
        "   1: 0101007F:9C41 0100007F:4E20 06 0\n"
        "   2: 0100007F:9C42 0100007F:4E20 01 0\n")  # 127.0.0.1, ESTABLISHED
    assert sources.time_wait_by_address(table) == Counter({"127.0.1.1": 2})


def test_the_kernels_port_range_is_read(tmp_path):
    conf = tmp_path / "range"
    conf.write_text("1024\t65535\n")
    assert sources.port_range(conf) == 64512
    assert sources.port_range(tmp_path / "missing") == 28232


def test_a_loopback_address_beyond_127_0_0_1_is_bindable_here():
    with socket.socket() as s:
        s.bind((sources.CANDIDATES[0], 0))


@pytest.mark.parametrize("error", ["Post \"http://127.0.0.1:18080/\": dial tcp 0.0.0.0:0->127.0.0.1:18080: bind: "
                                   "address already in use", "dial tcp: connect: cannot assign requested address",
                                   "socket: too many open files"])
def test_the_load_generators_own_failures_are_not_the_clusters(error):
    assert classify(0, error) == "client"
