"""The emulated LTE link (tests/support/lte_link.py): delay, rate, loss, cut/restore, power-cut of TCP, teardown.

Each test builds its own link (≈ 0.2 s) and runs a few seconds at most. They need root, /dev/net/tun
and `ip netns`; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time

import pytest

from tests.support.lte_link import LteLink, sweep_stale, tcp_goodput_bps, udp_rtt_ms, unavailable_reason

SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; not exported by the socket module
REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def _namespaces() -> set[str]:
    try:
        return set(os.listdir("/var/run/netns"))
    except FileNotFoundError:
        return set()


def _udp_pair(link: LteLink) -> tuple[socket.socket, socket.socket]:
    with link.netns("gov"):
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with link.netns("van"):
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)  # hold every datagram of a test
    receiver.bind((link.gov_ip, 0))
    receiver.setblocking(False)
    return sender, receiver


def _drain(sock: socket.socket, wait: float) -> int:
    time.sleep(wait)
    n = 0
    while True:
        try:
            sock.recv(65536)
        except BlockingIOError:
            return n
        n += 1


def test_round_trip_is_twice_the_one_way_delay():
    with LteLink(loss=0) as link:
        rtts = udp_rtt_ms(link, count=15)
    assert len(rtts) == 15
    # 40 ms each way plus serialisation: never below 80 ms; the median well under a doubled delay (160 ms). How
    # close to 80 ms it is depends on the machine's load: docs/lte-link.md quotes the measured figures.
    assert min(rtts) >= 79.9
    assert statistics.median(rtts) < 150, rtts


def test_one_tcp_flow_gets_the_configured_rate_and_set_changes_it():
    with LteLink(loss=0) as link:
        # Never faster than the configured rate (the behaviour); how close it gets depends on the machine's load
        # (the forwarder is a userspace process on 2 shared cores): docs/lte-link.md quotes the measured figures.
        first = tcp_goodput_bps(link, seconds=2.0, warmup=1.0)
        assert 0.5 <= first["ratio"] <= 1.02, first
        link.set("up", rate_bps=2_000_000)
        second = tcp_goodput_bps(link, seconds=2.0, warmup=1.0)
        assert 0.5 <= second["ratio"] <= 1.02, second  # ratio is against the new rate
        assert second["bps"] < 0.6 * first["bps"]


def test_random_loss_is_near_the_configured_probability():
    with LteLink(loss=0.2, seed=7) as link:
        link.set("up", rate_bps=50_000_000)
        sender, receiver = _udp_pair(link)
        for i in range(1000):
            sender.sendto(i.to_bytes(4, "big") + bytes(96), receiver.getsockname())
            if i % 100 == 99:
                time.sleep(0.01)  # stay far below the TUN's own queue
        got = _drain(receiver, 0.5)
        stats = link.stats()["up"]
    assert 740 <= got <= 860, got  # 800 ± 4.7 standard deviations
    assert stats["dropped_loss"] == 1000 - got == 1000 - stats["delivered"]
    assert stats["dropped_queue"] == 0


def test_a_full_queue_drops_at_the_tail():
    with LteLink(loss=0) as link:
        link.set("up", rate_bps=100_000, queue_packets=20)
        sender, receiver = _udp_pair(link)
        for _ in range(200):
            sender.sendto(bytes(1000), receiver.getsockname())
        stats = link.stats()["up"]
    assert stats["max_queue"] == 20
    assert stats["dropped_queue"] >= 150


def test_cut_drops_everything_until_restored_and_tcp_resumes():
    with LteLink(loss=0) as link:
        with link.netns("gov"):
            listener = socket.socket()
        with link.netns("van"):
            client = socket.socket()
        listener.bind((link.gov_ip, 0))
        listener.listen(1)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
        sender, receiver = _udp_pair(link)

        link.cut()
        client.sendall(b"during the cut")
        for _ in range(50):
            sender.sendto(b"x", receiver.getsockname())
        server.settimeout(1.0)
        with pytest.raises(TimeoutError):
            server.recv(100)
        assert _drain(receiver, 0.1) == 0
        assert link.stats()["up"]["dropped_cut"] >= 50

        link.restore()
        server.settimeout(8.0)  # TCP resends after its (backed-off) retransmission timeout
        assert server.recv(100) == b"during the cut"
        for _ in range(20):
            sender.sendto(b"y", receiver.getsockname())
        assert _drain(receiver, 0.3) == 20


def test_kill_tcp_is_a_silent_power_cut():
    with LteLink(loss=0) as link:
        with link.netns("gov"):
            listener = socket.socket()
        with link.netns("van"):
            client = socket.socket()
        listener.bind((link.gov_ip, 0))
        listener.listen(1)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
        link.kill_tcp("van", silent=True)
        with pytest.raises(OSError):
            client.sendall(b"x")
        server.settimeout(0.5)
        with pytest.raises(TimeoutError):  # no RST came through: the peer must notice by keepalive
            server.recv(10)
        assert "ESTAB" not in link.tcp_connections("van")


def test_processes_run_inside_the_namespaces():
    with LteLink() as link:
        out = link.run("van", ["ip", "-o", "-4", "addr"], capture_output=True, text=True, check=True).stdout
        assert link.van_ip in out and link.gov_ip not in out
        assert set(line.split()[1] for line in out.splitlines()) == {"lo", "lte0"}
        proc = link.popen("gov", ["sleep", "60"])
    # close() ends what still ran in the link's namespaces
    assert proc.wait(timeout=5) != 0


def test_teardown_leaves_nothing_even_on_error():
    with pytest.raises(RuntimeError, match="boom"):
        with LteLink() as link:
            names = {link.van_ns, link.gov_ns}
            assert names <= _namespaces()
            forwarder = link.forwarder
            raise RuntimeError("boom")
    assert not (names & _namespaces())
    assert forwarder.poll() is not None


def test_stale_namespaces_of_dead_processes_are_swept():
    dead = subprocess.Popen(["true"])
    dead.wait()
    name = f"van-{dead.pid}-0"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        assert name in sweep_stale()
        assert name not in _namespaces()
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_kill_tcp_also_ends_the_orphaned_socket_of_a_killed_process():
    # kill -9 alone leaves the kernel resending the dead process's data (FIN-WAIT-1, Send-Q full):
    # a power cut is kill -9 *and* ss -K.
    with LteLink(loss=0) as link:
        with link.netns("gov"):
            listener = socket.socket()
        listener.bind((link.gov_ip, 0))
        listener.listen(1)
        host, port = listener.getsockname()
        code = (f"import socket, time; s = socket.create_connection(({host!r}, {port})); time.sleep(0.3); "
                "s.sendall(bytes(200000)); time.sleep(60)")
        proc = link.popen("van", [sys.executable, "-c", code])
        listener.settimeout(10)
        listener.accept()
        link.cut()
        time.sleep(0.5)
        proc.kill()
        proc.wait()
        assert "FIN-WAIT" in link.tcp_connections("van")
        link.kill_tcp("van")
        assert "FIN-WAIT" not in link.tcp_connections("van")
        assert "ESTAB" not in link.tcp_connections("van")
