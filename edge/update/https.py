"""The van fetches the release offered to it over HTTPS, from the hub's release server (governorate.release_server).

The second way a release reaches a van (docs/updates.md, section 5): with ``update.https_url`` in the van's
settings, the sync agent's process runs this beside it. It asks ``/updates/offer`` every ``poll_s`` (and at start),
then fetches the chunks it lacks one at a time — the same chunks the hub would push over MQTT, made into the same
bodies and handed to the same :class:`edge.update.incoming.Incoming`, so keeping, resuming after a restart, the
``READY`` marker and root's ``apply-ready`` are the same. Its reports go to the hub over MQTT as before (through the
sync agent: ``report``).

- **Lowest priority**: a chunk is fetched only while the van has nothing waiting to go to the governorate
  (``busy()``: a citizen's request, its scans, the acks they wait for always go first), checked before each chunk.
- **Speed**: ``parallel`` requests in flight, each on a kept-alive connection of its own (a request waits a round
  trip for its answer: one at a time on the emulated LTE link, 80 ms round trips, gave 6 % of the downlink;
  bench/update_https.py).
- **Trust**: the connection is TLS with the van's own client certificate (its MQTT identity) against the hub's CA;
  nothing it delivers is trusted for that — every chunk is checked as one from MQTT (edge.update.transfer), and the
  release as a whole by python-tuf before anything is installed.
- A refused answer, a broken connection, a folder rewritten at the hub (409): it stops this round and asks again
  at the next; never an exception into the sync agent.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout

from edge.sync.schema import UPDATE_MAX_CHUNKS, is_bundle_name
from edge.update import transfer
from edge.update.incoming import Incoming

log = logging.getLogger("edge.update.https")

MAX_MANIFEST_BYTES = 4 << 20


def _is_int(x, low: int, high: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and low <= x <= high


def _is_offer(m: object, chunk_size: int) -> bool:
    """The shape of an offer (the hub is not trusted for it: each chunk is checked again as it is kept)."""
    if not (isinstance(m, dict) and is_bundle_name(m.get("bundle")) and m.get("chunk_size") == chunk_size
            and _is_int(m.get("total"), 1, UPDATE_MAX_CHUNKS) and isinstance(m.get("files"), list)
            and 0 < len(m["files"]) <= transfer.MAX_FILES):
        return False
    for f in m["files"]:
        if not (isinstance(f, list) and len(f) == 5 and isinstance(f[0], str) and isinstance(f[2], str)
                and _is_int(f[1], 0, transfer.MAX_FILE_BYTES) and _is_int(f[3], 0, m["total"] - 1)
                and _is_int(f[4], 1, m["total"])):
            return False
    return True


class _Round:
    """One round's connections: ended together (edge.update.https.HttpsFetch.once)."""

    def __init__(self):
        self.ending = threading.Event()
        self.lock = threading.Lock()
        self.connections: list[http.client.HTTPSConnection] = []


class HttpsFetch:
    def __init__(self, incoming: Incoming, base_url: str, *, ca_file: str, cert_file: str, key_file: str,
                 busy: Callable[[], bool] = lambda: False, report: Callable[[dict | None], None] = lambda r: None,
                 poll_s: float = 60.0, timeout_s: float = 30.0, report_every_s: float = 0.25, parallel: int = 4):
        self.incoming = incoming
        self.base = base_url if base_url.endswith("/") else base_url + "/"
        parts = urllib.parse.urlsplit(self.base)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"not an https:// address: {base_url!r}")
        self._host, self._port, self._prefix = parts.hostname, parts.port or 443, parts.path
        self.busy = busy
        self.report = report  # a tel.update body to send (or None: send the progress as it is now)
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.report_every_s = report_every_s
        self.parallel = max(1, parallel)
        self._ctx = ssl.create_default_context(cafile=ca_file)
        self._ctx.load_cert_chain(cert_file, key_file)
        self._local = threading.local()  # each thread's round and kept-alive connection
        incoming.transport = "https"

    def run(self, stop: threading.Event) -> None:
        log.info("software releases fetched from %s", self.base)
        while not stop.is_set():
            try:
                self.once(stop)
            except Exception as exc:  # noqa: BLE001 - the van's work goes on; asked again at the next round
                log.error("release fetch stopped (%s: %s); again in %.0f s", type(exc).__name__, exc, self.poll_s)
            stop.wait(self.poll_s)

    def _round(self) -> _Round:
        rnd = getattr(self._local, "round", None)
        if rnd is None or rnd.ending.is_set():
            rnd = self._local.round = _Round()
            self._local.conn = None
        return rnd

    def _join(self, rnd: _Round, worker: bool = False) -> None:
        """This thread now asks for ``rnd``: a round's own (once), or one of its workers, which never asks for
        another (a worker left over from an ended round opens nothing)."""
        self._local.round, self._local.conn, self._local.worker = rnd, None, worker

    def _connection(self) -> http.client.HTTPSConnection:
        """This thread's kept-alive connection, connected; none for a worker once its round has ended."""
        rnd = self._local.round if getattr(self._local, "worker", False) else self._round()
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None:
            return conn
        conn = http.client.HTTPSConnection(self._host, self._port, context=self._ctx, timeout=self.timeout_s)
        conn.auto_open = 0  # never a silent reconnect behind the round's back: only here, where it is counted
        with rnd.lock:
            if rnd.ending.is_set():
                raise ConnectionAbortedError("the fetch round ended")
            rnd.connections.append(conn)
        conn.connect()
        if rnd.ending.is_set():  # ended while this one was connecting: it was not shut down with the others
            conn.close()
            raise ConnectionAbortedError("the fetch round ended")
        self._local.conn = conn
        return conn

    @staticmethod
    def _end(rnd: _Round) -> None:
        """End ``rnd``: every connection of it shut down (a request waiting on a silent link fails at once instead
        of at its timeout), and none opened any more."""
        with rnd.lock:
            rnd.ending.set()
            connections = list(rnd.connections)
        for conn in connections:
            if conn.sock is not None:
                with contextlib.suppress(OSError):
                    conn.sock.shutdown(socket.SHUT_RDWR)
            conn.close()

    def close(self) -> None:
        """Close this thread's connections (the next request opens new ones)."""
        rnd = getattr(self._local, "round", None)
        if rnd is not None:
            self._end(rnd)

    def _get(self, path: str, limit: int) -> tuple[int, bytes]:
        """One GET on this thread's kept-alive connection: (status, at most limit + 1 bytes of the body). A
        connection the server (or the link) closed is opened again once; an OSError beyond that is the caller's."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("GET", self._prefix + path)
                answer = conn.getresponse()
                length = answer.getheader("Content-Length")
                if length is not None and length.isascii() and length.isdigit() and int(length) <= limit + 1:
                    return answer.status, answer.read()
                data = answer.read(limit + 1)  # too long, or of no stated length: not read to its end
                conn.close()
                return answer.status, data
            except (http.client.RemoteDisconnected, http.client.CannotSendRequest, http.client.ResponseNotReady,
                    http.client.NotConnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def offer(self) -> dict | None:
        """The hub's offer to this van, checked for shape (None: nothing offered)."""
        status, data = self._get("updates/offer", MAX_MANIFEST_BYTES)
        if status == 204:
            return None
        if status != 200 or len(data) > MAX_MANIFEST_BYTES:
            raise OSError(f"the release server answered {status} to the offer")
        m = json.loads(data)  # ValueError when not JSON
        if not _is_offer(m, self.incoming.chunk_size):
            raise ValueError("the release server's offer is not one")
        return m

    def once(self, stop: threading.Event) -> int:
        """One round: the offer, then every chunk of it not kept yet; returns how many were kept."""
        rnd = _Round()
        self._join(rnd)
        try:
            return self._once(stop, rnd)
        finally:
            self._end(rnd)

    def _once(self, stop: threading.Event, rnd: _Round) -> int:
        m = self.offer()
        if m is None:
            return 0
        bundle, total = m["bundle"], m["total"]
        heads = sorted(m["files"], key=lambda f: f[3])
        held = self.incoming.held(bundle)
        wanted = [(f, index) for f in heads for index in range(f[4]) if f[3] + index not in held]
        kept, reported = 0, time.monotonic()
        flying: deque[tuple[tuple, int, Future]] = deque()
        pool = ThreadPoolExecutor(self.parallel, thread_name_prefix="release-fetch", initializer=self._join,
                                  initargs=(rnd, True))
        try:
            for job in [*wanted, *([None] * self.parallel)]:
                if job is not None:
                    while self.busy():  # the van's own messages first
                        if stop.wait(1.0):
                            return kept
                    if stop.is_set():
                        return kept
                    f, index = job
                    flying.append((f, index, pool.submit(self._get, f"updates/{bundle}/{f[3] + index}",
                                                         self.incoming.chunk_size)))
                if len(flying) < self.parallel and job is not None:
                    continue
                if not flying:
                    break
                (path, size, sha256, first, count), index, future = flying.popleft()
                seq = first + index
                while True:  # a stop (the van shutting down) is not kept waiting by a silent link
                    try:
                        status, data = future.result(timeout=0.5)
                        break
                    except FuturesTimeout:
                        if stop.is_set():
                            return kept
                if status != 200:
                    log.info("release chunk %d of %s: the server answered %d; asked again later", seq, bundle,
                             status)
                    self.report(None)
                    return kept
                body = {"bundle": bundle, "seq": seq, "total": total, "files": len(heads), "path": path,
                        "index": index, "count": count, "size": size, "sha256": sha256, "data": data,
                        "chunk_sha256": hashlib.sha256(data).hexdigest()}
                said = self.incoming.add(body)  # checked as a chunk from MQTT; refused: the report says why
                if said is not None:
                    self.report(said)
                    if said["state"] != "complete":
                        return kept
                kept += 1
                if time.monotonic() - reported >= self.report_every_s:
                    self.report(None)
                    reported = time.monotonic()
        finally:
            self._end(rnd)  # what is still in flight fails now, and asks nothing again
            pool.shutdown(wait=False, cancel_futures=True)  # (one still connecting ends at its timeout, alone)
        self.report(None)
        return kept
