"""Fresh connections get source addresses whose ports can hold their TIME_WAIT sockets."""

from __future__ import annotations

import socket
from collections import Counter

import pytest

from portico.zerodowntime import sources
from portico.zerodowntime.load import classify


def test_the_default_rate_fits_one_loopback_address_per_target():
    plan = sources.Sources(ports=28232, busy=Counter())
    picked = [plan.split("127.0.0.1", 250) for _ in range(3)]
    assert all(len(p) == 1 for p in picked)
    assert len({p[0][0] for p in picked}) == 3, "each target's fresh load has its own address"


def test_a_rate_beyond_one_address_is_split_and_adds_up():
    plan = sources.Sources(ports=28232, busy=Counter())
    parts = plan.split("127.0.0.1", 1000)
    assert len(parts) == 4 and sum(rate for _, rate in parts) == pytest.approx(1000)
    assert all(rate <= plan.capacity for _, rate in parts)


def test_addresses_still_holding_time_wait_sockets_are_skipped():
    busy = Counter({sources.CANDIDATES[0]: 1200})
    assert sources.Sources(ports=28232, busy=busy).split("127.0.0.1", 100)[0][0] == sources.CANDIDATES[1]


def test_fresh_connections_are_capped_per_destination_and_for_the_wildcard():
    cap = sources.capacity(28232)
    rates = sources.fresh_rates({"ingress": ("127.0.0.1", 18080, 250), "route": ("127.0.0.1", 18080, 250),
                                 "nodeport": ("127.0.0.1", 30002, 250), "lb1": ("172.18.255.200", 80, 250),
                                 "lb2": ("172.18.255.201", 80, 250)}, ports=28232)
    assert rates["nodeport"] == 250, "a destination of its own keeps what was asked"
    assert rates["ingress"] == rates["route"] == pytest.approx(cap / 2), "two targets behind one port share it"
    assert rates["lb1"] + rates["lb2"] == pytest.approx(cap), "non-loopback targets share the wildcard's ports"


def test_kept_alive_attacks_get_one_address_of_their_own():
    plan = sources.Sources(ports=28232, busy=Counter())
    assert len(plan.split("127.0.0.1", 2000, fresh=False)) == 1
    assert plan.split("172.18.255.200", 2000, fresh=False) == [(sources.WILDCARD, 2000)]


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
