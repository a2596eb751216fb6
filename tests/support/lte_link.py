"""An emulated LTE link between two network namespaces, for tests and benchmarks (pure stdlib + ``ip``).

This kernel has no netem and no iptables, so the link is made in user space: a TUN device in a "van"
namespace and one in a "governorate" namespace, and a small forwarder process copying IP packets
between them. Per direction it applies, in this order::

    random loss → bounded FIFO queue (tail drop) → rate (token bucket one packet deep) → delay ± jitter → delivery

and a "cut" switch that drops everything (including what is queued or in flight) until restored.

    with LteLink() as link:                      # 5 Mbit/s up, 20 Mbit/s down, 40 ms each way, 1 % loss
        with link.netns("gov"):                  # this thread (and what it starts) is in the gov namespace
            broker = Broker(folder, extra=f"listener {port} {link.gov_ip}\\n").start()
        proc = link.popen("van", [sys.executable, "-m", "edge.cli", ...])   # ip netns exec van-… …
        link.set("up", loss=0.05, rate_bps=2e6)  # runtime change, one direction or both
        link.cut(); ...; link.restore()          # outage
        link.kill_tcp("van")                     # power cut for the van's TCP connections (ss -K)
        print(link.stats())

See docs/lte-link.md for the model, its limits and measured figures; ``python tests/support/lte_link.py
--measure`` measures them again (JSON).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import heapq
import itertools
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields

NETNS_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
TUN_NAME = "lte0"
NAME_RE = re.compile(r"^(van|gov)-(\d+)-(\d+)$")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_counter = itertools.count()


@dataclass
class Shape:
    """What one direction of the link does to packets."""

    rate_bps: float = 5_000_000  # IP-layer bits per second (TUN carries IP packets: no L2 overhead)
    delay_ms: float = 40.0  # one-way, added after the packet has been serialised at rate_bps
    jitter_ms: float = 0.0  # uniform ± jitter_ms around delay_ms
    loss: float = 0.01  # probability of dropping each packet, independently
    queue_packets: int = 1000  # packets waiting for the rate limiter; beyond that, tail drop
    reorder: bool = False  # False: jitter never lets a packet overtake an earlier one


UP_DEFAULT = Shape(rate_bps=5_000_000)
DOWN_DEFAULT = Shape(rate_bps=20_000_000)


# --- environment ------------------------------------------------------------------------------

def unavailable_reason() -> str | None:
    """Why the emulator cannot run here (None when it can): for pytest.skip and friendly exits."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "the LTE link emulator needs root (ip netns, /dev/net/tun)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    try:
        subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`ip netns` does not work here: {exc}"
    return None


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def netns(name: str) -> Iterator[None]:
    """Run the body with *this thread* in network namespace ``name``.

    Sockets created, processes started (subprocess) and threads started inside the body belong to the
    namespace and stay there after the body ends; the thread itself goes back to where it was.
    """
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(orig)
        finally:
            os.close(target)
    finally:
        os.close(orig)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_namespace_processes(name: str) -> None:
    """SIGTERM, then SIGKILL, whatever still runs in one of *our* namespaces (we started it)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [int(p) for p in _ip("netns", "pids", name, check=False).stdout.split()]
        pids = [p for p in pids if p != os.getpid()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
            time.sleep(0.05)


def sweep_stale() -> list[str]:
    """Delete van-PID-N / gov-PID-N namespaces whose creating process is gone; returns their names."""
    removed = []
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return removed
    for name in names:
        m = NAME_RE.match(name)
        if m and not _pid_alive(int(m.group(2))):
            _kill_namespace_processes(name)
            if _ip("netns", "del", name, check=False).returncode == 0:
                removed.append(name)
    return removed


def _open_tun_in(name: str, result: dict) -> None:
    """Thread body: enter the namespace, silence IPv6 (no router solicitations on the link), open the TUN."""
    try:
        with netns(name):
            for key in ("all", "default"):
                with contextlib.suppress(OSError):
                    with open(f"/proc/sys/net/ipv6/conf/{key}/disable_ipv6", "w") as f:
                        f.write("1")
            fd = os.open("/dev/net/tun", os.O_RDWR)
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", TUN_NAME.encode(), IFF_TUN | IFF_NO_PI))
            result["fd"] = fd
    except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
        result["error"] = exc


# --- the link ---------------------------------------------------------------------------------

class LteLink:
    """Two namespaces joined by an emulated LTE link. Use as a context manager, or start()/close()."""

    def __init__(self, up: Shape | None = None, down: Shape | None = None, *, congestion_control: str | None = None,
                 seed: int | None = None, **both):
        """``up`` is van → governorate, ``down`` governorate → van; keyword arguments (rate_bps is not
        among the sensible ones: the two directions differ) override fields of both, e.g. ``loss=0``.
        ``congestion_control`` makes it the default for connections across the link in both namespaces
        (a route with ``congctl``: a namespace inherits the host's net.ipv4.tcp_congestion_control and
        may not change it); a socket that sets TCP_CONGESTION after connecting still gets its own."""
        self.up = Shape(**{**asdict(up or UP_DEFAULT), **both})
        self.down = Shape(**{**asdict(down or DOWN_DEFAULT), **both})
        self.congestion_control = congestion_control
        self.seed = seed
        n = next(_counter)
        self.van_ns = f"van-{os.getpid()}-{n}"
        self.gov_ns = f"gov-{os.getpid()}-{n}"
        # Addresses only exist inside the two namespaces, so links never collide; still, distinct
        # subnets make a packet capture easier to read.
        block = (os.getpid() * 7 + n) % 16384
        base = f"10.201.{block // 64}.{(block % 64) * 4}"
        prefix = base.rsplit(".", 1)[0]
        last = int(base.rsplit(".", 1)[1])
        self.van_ip = f"{prefix}.{last + 1}"
        self.gov_ip = f"{prefix}.{last + 2}"
        self.forwarder: subprocess.Popen | None = None
        self._ctrl: socket.socket | None = None
        self._ctrl_file = None
        self._ctrl_lock = threading.Lock()
        self._created: list[str] = []
        self.is_cut = False

    # lifecycle

    def __enter__(self) -> LteLink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> LteLink:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        sweep_stale()
        try:
            fds = {}
            for name in (self.van_ns, self.gov_ns):
                _ip("netns", "add", name)
                self._created.append(name)
                result: dict = {}
                t = threading.Thread(target=_open_tun_in, args=(name, result))
                t.start()
                t.join()
                if "error" in result:
                    raise result["error"]
                fds[name] = result["fd"]
            for name, ip in ((self.van_ns, self.van_ip), (self.gov_ns, self.gov_ip)):
                _ip("-n", name, "link", "set", "lo", "up")
                _ip("-n", name, "link", "set", TUN_NAME, "txqueuelen", "1000")
                _ip("-n", name, "addr", "add", f"{ip}/30", "dev", TUN_NAME)
                _ip("-n", name, "link", "set", TUN_NAME, "up")
            if self.congestion_control:
                self.set_route_congestion_control("van", self.congestion_control)
                self.set_route_congestion_control("gov", self.congestion_control)
            parent, child = socket.socketpair()
            van_fd, gov_fd = fds[self.van_ns], fds[self.gov_ns]
            try:
                self.forwarder = subprocess.Popen(
                    [sys.executable, os.path.abspath(__file__), "--forwarder", str(van_fd), str(gov_fd),
                     str(child.fileno())],
                    pass_fds=(van_fd, gov_fd, child.fileno()), stdin=subprocess.DEVNULL)
            finally:
                child.close()
                os.close(van_fd)
                os.close(gov_fd)
            self._ctrl = parent
            self._ctrl_file = parent.makefile("rwb", buffering=0)
            self._command({"op": "init", "up": asdict(self.up), "down": asdict(self.down), "seed": self.seed})
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._ctrl is not None:
            with contextlib.suppress(OSError):
                self._ctrl.close()
            self._ctrl = None
        if self.forwarder is not None:
            if self.forwarder.poll() is None:
                self.forwarder.terminate()
                try:
                    self.forwarder.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.forwarder.kill()
                    self.forwarder.wait()
            self.forwarder = None
        for name in reversed(self._created):
            _kill_namespace_processes(name)
            _ip("netns", "del", name, check=False)
        self._created = []

    # control

    def _command(self, message: dict) -> dict:
        if self._ctrl_file is None:
            raise RuntimeError("the link is not running")
        with self._ctrl_lock:
            self._ctrl_file.write(json.dumps(message).encode() + b"\n")
            line = self._ctrl_file.readline()
        if not line:
            raise RuntimeError("the link's forwarder has exited")
        answer = json.loads(line)
        if "error" in answer:
            raise ValueError(answer["error"])
        return answer

    def set(self, direction: str = "both", **params) -> None:
        """Change ``rate_bps``, ``delay_ms``, ``jitter_ms``, ``loss``, ``queue_packets``, ``reorder`` of
        "up" (van → governorate), "down" or "both", from the next packet on."""
        names = {f.name for f in fields(Shape)}
        unknown = set(params) - names
        if unknown:
            raise TypeError(f"unknown link parameters: {sorted(unknown)}")
        dirs = ("up", "down") if direction == "both" else (direction,)
        for d in dirs:
            if d not in ("up", "down"):
                raise ValueError(f"direction must be up, down or both, not {direction!r}")
            shape = getattr(self, d)
            for key, value in params.items():
                setattr(shape, key, value)
            self._command({"op": "set", "dir": d, "shape": asdict(shape)})

    def cut(self) -> None:
        """Drop everything in both directions, including what is already queued or in flight."""
        self._command({"op": "cut"})
        self.is_cut = True

    def restore(self) -> None:
        self._command({"op": "restore"})
        self.is_cut = False

    def stats(self) -> dict:
        """Counters per direction: in, dropped_loss, dropped_queue, dropped_cut, delivered, bytes, max_queue."""
        return self._command({"op": "stats"})["stats"]

    def reset_stats(self) -> None:
        self._command({"op": "reset_stats"})

    def forwarder_cpu_seconds(self) -> float:
        """User + system CPU time the forwarder process has used so far."""
        with open(f"/proc/{self.forwarder.pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

    # namespaces

    def ns(self, side: str) -> str:
        if side in ("van", self.van_ns):
            return self.van_ns
        if side in ("gov", "governorate", self.gov_ns):
            return self.gov_ns
        raise ValueError(f"side must be 'van' or 'gov', not {side!r}")

    def ip(self, side: str) -> str:
        return self.van_ip if self.ns(side) == self.van_ns else self.gov_ip

    def netns(self, side: str):
        """Context manager: this thread in the side's namespace (see the module-level ``netns``)."""
        return netns(self.ns(side))

    def wrap(self, side: str, args: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns(side), *args]

    def run(self, side: str, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(self.wrap(side, args), **kwargs)

    def popen(self, side: str, args: list[str], **kwargs) -> subprocess.Popen:
        """Start a process in the side's namespace (``ip netns exec``). The link's close() ends
        whatever is still running in its namespaces."""
        return subprocess.Popen(self.wrap(side, args), **kwargs)

    def kill_tcp(self, side: str, filter_: list[str] | None = None, *, silent: bool = False) -> str:
        """Destroy the side's TCP sockets (``ss -K``), as a power cut would: the kernel forgets them and
        stops resending. ``filter_`` is an ss filter, e.g. ``["dport", "= :1883"]``. ss -K aborts each
        socket with a RST; ``silent=True`` cuts the link while it does so, so the peer hears nothing
        (like a real power cut) and must notice by keepalive. Returns ss's output."""
        was_cut = self.is_cut
        if silent and not was_cut:
            self.cut()
        try:
            proc = self.run(side, ["ss", "-K", "-t", "state", "connected", *(filter_ or [])],
                            capture_output=True, text=True, timeout=20)
        finally:
            if silent and not was_cut:
                time.sleep(0.05)  # the RSTs are dropped on the way out
                self.restore()
        return proc.stdout + proc.stderr

    def tcp_connections(self, side: str) -> str:
        """``ss -tin`` in the side's namespace: one entry per connection, naming its congestion control."""
        return self.run(side, ["ss", "-tin"], capture_output=True, text=True, timeout=20).stdout

    def set_route_congestion_control(self, side: str, algorithm: str) -> None:
        """New connections from (or accepted by) this side with the peer use ``algorithm`` (``ip route …
        congctl``). It overrides TCP_CONGESTION set *before* connect(); setting it after connect wins."""
        peer = self.gov_ip if self.ns(side) == self.van_ns else self.van_ip
        _ip("-n", self.ns(side), "route", "replace", f"{peer}/32", "dev", TUN_NAME, "congctl", algorithm)


# --- measurements (used by the tests, the benchmark and docs/lte-link.md) --------------------

def udp_rtt_ms(link: LteLink, count: int = 20, size: int = 64, timeout: float = 2.0) -> list[float]:
    """Round trips of small UDP datagrams van → governorate → van, in ms (lost ones are left out)."""
    with link.netns("gov"):
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with link.netns("van"):
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((link.gov_ip, 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def echo() -> None:
        while not stop.is_set():
            try:
                data, addr = server.recvfrom(65536)
            except TimeoutError:
                continue
            server.sendto(data, addr)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    client.settimeout(timeout)
    rtts = []
    try:
        for i in range(count):
            token = i.to_bytes(4, "big") + bytes(max(0, size - 4))
            start = time.perf_counter()
            client.sendto(token, server.getsockname())
            try:
                while True:
                    data, _ = client.recvfrom(65536)
                    if data[:4] == token[:4]:
                        rtts.append((time.perf_counter() - start) * 1000)
                        break
            except TimeoutError:
                pass
    finally:
        stop.set()
        thread.join()
        client.close()
        server.close()
    return rtts


def tcp_goodput_bps(link: LteLink, seconds: float = 4.0, *, direction: str = "up", warmup: float = 1.0,
                    congestion_control: str | None = None) -> dict:
    """One bulk TCP flow across the link; payload bits per second seen by the receiver between
    ``warmup`` and ``warmup + seconds`` after the connection, and the congestion control it used."""
    sender_side, receiver_side = ("van", "gov") if direction == "up" else ("gov", "van")
    with link.netns(receiver_side):
        listener = socket.socket()
    listener.bind((link.ip(receiver_side), 0))
    listener.listen(1)
    with link.netns(sender_side):
        sender = socket.socket()
    sender.settimeout(10)
    sender.connect(listener.getsockname())
    if congestion_control:  # after connect, like the sync agent: a route's congctl would override it before
        sender.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, congestion_control.encode())
    used = sender.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).split(b"\0")[0].decode()
    conn, _ = listener.accept()
    listener.close()
    stop = threading.Event()

    def send() -> None:
        chunk = os.urandom(65536)
        with contextlib.suppress(OSError):
            while not stop.is_set():
                sender.sendall(chunk)

    thread = threading.Thread(target=send, daemon=True)
    start = time.monotonic()
    thread.start()
    conn.settimeout(1.0)
    counted = 0
    t0 = start + warmup
    t1 = t0 + seconds
    try:
        while True:
            try:
                n = len(conn.recv(1 << 20))
            except TimeoutError:
                n = 0
            now = time.monotonic()
            if now >= t1:
                break
            if now >= t0:
                counted += n
    finally:
        stop.set()
        for s in (sender, conn):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        thread.join(timeout=5)
    bps = counted * 8 / seconds
    rate = (link.up if direction == "up" else link.down).rate_bps
    return {"bps": bps, "ratio": bps / rate, "congestion_control": used}


# --- the forwarder (runs in its own process) --------------------------------------------------

class _Direction:
    def __init__(self, name: str, src: int, dst: int, rng: random.Random):
        self.name, self.src, self.dst, self.rng = name, src, dst, rng
        self.shape = Shape()
        self.txq: deque[float] = deque()  # finish times of packets waiting for / being serialised
        self.link_free = 0.0  # when the rate limiter is free again
        self.last_due = 0.0
        self.fifo: deque[tuple[float, bytes]] = deque()  # in order (reorder False)
        self.heap: list[tuple[float, int, bytes]] = []  # by due time (reorder True)
        self.seq = 0
        self.reset_stats()

    def reset_stats(self) -> None:
        self.stats = {"in": 0, "bytes_in": 0, "dropped_loss": 0, "dropped_queue": 0, "dropped_cut": 0,
                      "delivered": 0, "bytes_delivered": 0, "write_errors": 0, "max_queue": 0}

    def arrive(self, now: float, pkt: bytes, cut: bool) -> None:
        s, shape = self.stats, self.shape
        s["in"] += 1
        s["bytes_in"] += len(pkt)
        if cut:
            s["dropped_cut"] += 1
            return
        if shape.loss > 0 and self.rng.random() < shape.loss:
            s["dropped_loss"] += 1
            return
        txq = self.txq
        while txq and txq[0] <= now:
            txq.popleft()
        if len(txq) >= shape.queue_packets:
            s["dropped_queue"] += 1
            return
        start = max(now, self.link_free)
        finish = start + len(pkt) * 8 / shape.rate_bps if shape.rate_bps > 0 else start
        self.link_free = finish
        txq.append(finish)
        if len(txq) > s["max_queue"]:
            s["max_queue"] = len(txq)
        due = finish + shape.delay_ms / 1000
        if shape.jitter_ms > 0:
            due += self.rng.uniform(-shape.jitter_ms, shape.jitter_ms) / 1000
            due = max(due, finish)
        if shape.reorder:
            self.seq += 1
            heapq.heappush(self.heap, (due, self.seq, pkt))
        else:
            due = max(due, self.last_due)
            self.last_due = due
            self.fifo.append((due, pkt))

    def next_due(self) -> float | None:
        a = self.fifo[0][0] if self.fifo else None
        b = self.heap[0][0] if self.heap else None
        if a is None:
            return b
        return a if b is None else min(a, b)

    def deliver(self, now: float) -> None:
        while self.fifo and self.fifo[0][0] <= now:
            self._write(self.fifo.popleft()[1])
        while self.heap and self.heap[0][0] <= now:
            self._write(heapq.heappop(self.heap)[2])

    def _write(self, pkt: bytes) -> None:
        try:
            os.write(self.dst, pkt)
            self.stats["delivered"] += 1
            self.stats["bytes_delivered"] += len(pkt)
        except OSError:
            self.stats["write_errors"] += 1

    def flush(self) -> None:
        """A cut: whatever is queued or in flight is lost."""
        lost = len(self.fifo) + len(self.heap)
        self.stats["dropped_cut"] += lost
        self.fifo.clear()
        self.heap.clear()
        self.txq.clear()
        self.link_free = 0.0
        self.last_due = 0.0


def _forwarder_main(van_fd: int, gov_fd: int, ctrl_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, -5)  # the link's timing should not suffer first under load
    ctrl = socket.socket(fileno=ctrl_fd)
    rng = random.Random()
    up = _Direction("up", van_fd, gov_fd, rng)
    down = _Direction("down", gov_fd, van_fd, rng)
    by_src = {van_fd: up, gov_fd: down}
    for fd in (van_fd, gov_fd):
        os.set_blocking(fd, False)
    cut = False
    buf = b""
    watched = [van_fd, gov_fd, ctrl_fd]
    while True:
        nexts = [t for t in (up.next_due(), down.next_due()) if t is not None]
        timeout = None
        if nexts:
            timeout = max(0.0, min(nexts) - time.monotonic())
        # select() rather than poll(): its timeout has microseconds, poll()'s only milliseconds.
        readable, _, _ = select.select(watched, [], [], timeout)
        for fd in readable:
            if fd == ctrl_fd:
                data = ctrl.recv(65536)
                if not data:
                    return  # the test process has gone: so does the link
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    msg = json.loads(line)
                    op = msg["op"]
                    reply: dict = {"ok": True}
                    if op == "init":
                        up.shape = Shape(**msg["up"])
                        down.shape = Shape(**msg["down"])
                        if msg.get("seed") is not None:
                            rng.seed(msg["seed"])
                    elif op == "set":
                        (up if msg["dir"] == "up" else down).shape = Shape(**msg["shape"])
                    elif op == "cut":
                        cut = True
                        up.flush()
                        down.flush()
                    elif op == "restore":
                        cut = False
                    elif op == "stats":
                        reply["stats"] = {"up": {**up.stats, "queue_now": len(up.txq)},
                                          "down": {**down.stats, "queue_now": len(down.txq)}, "cut": cut}
                    elif op == "reset_stats":
                        up.reset_stats()
                        down.reset_stats()
                    else:
                        reply = {"error": f"unknown op {op}"}
                    ctrl.sendall(json.dumps(reply).encode() + b"\n")
                continue
            d = by_src[fd]
            for _ in range(256):
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break
                d.arrive(time.monotonic(), pkt, cut)
        now = time.monotonic()
        up.deliver(now)
        down.deliver(now)


def measure(seconds: float = 8.0) -> dict:
    """The figures of docs/lte-link.md: RTT, one TCP flow's share of the rate with and without loss under
    CUBIC and BBR, and the forwarder's CPU at full downlink rate."""
    load = os.getloadavg()
    out: dict = {}
    with LteLink(loss=0) as link:
        rtts = sorted(udp_rtt_ms(link, count=50))
        out["rtt_ms"] = {"min": round(rtts[0], 2), "median": round(rtts[len(rtts) // 2], 2),
                         "p90": round(rtts[int(len(rtts) * 0.9)], 2), "configured": 2 * link.up.delay_ms}
        for loss in (0.0, 0.01):
            link.set(loss=loss)
            for cc in ("cubic", "bbr"):
                r = tcp_goodput_bps(link, seconds, warmup=2.0, congestion_control=cc)
                out[f"up_ratio_loss{loss:g}_{cc}"] = round(r["ratio"], 3)
        link.set(loss=0)
        t0, c0 = time.monotonic(), link.forwarder_cpu_seconds()
        r = tcp_goodput_bps(link, seconds, warmup=2.0, direction="down", congestion_control="bbr")
        out["down_ratio_loss0_bbr"] = round(r["ratio"], 3)
        out["forwarder_cpu_at_20mbit"] = round((link.forwarder_cpu_seconds() - c0) / (time.monotonic() - t0), 3)
        stats = link.stats()
        out["forwarder_packets"] = stats["up"]["in"] + stats["down"]["in"]
    out["load_average_before"] = [round(x, 2) for x in load]
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--forwarder":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    _forwarder_main(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
elif __name__ == "__main__" and sys.argv[1:2] == ["--measure"]:
    print(json.dumps(measure(float(sys.argv[2]) if len(sys.argv) > 2 else 8.0)))
