"""Software releases over HTTPS: the second way a van gets the release offered to it (issue 20).

Over MQTT the hub pushes a release's chunks a window at a time (governorate.updates). A van whose settings name an
HTTPS address (``update.https_url``) fetches them itself instead, from this server, on its own connection: the same
chunks (the same cut, ``edge.sync.chunks.ReleaseCut``), so the van keeps them, resumes and reports exactly as it does
for chunks that came over MQTT, and the hub's offers, rollouts and fleet screen do not care which way they went.

- **Who asks**: TLS with a client certificate, required, from the governorate's CA (the van's MQTT identity, CN = the
  van id; a CRL when given, as the broker uses). The van is the certificate's CN: it sees only its own offer.
- ``GET /updates/offer``: 204 when nothing is offered to this van (or the offer is complete, refused, withdrawn);
  else JSON ``{"bundle", "version", "total", "files": [[path, size, sha256, first seq, chunks], …]}`` — the heads
  its chunks carry over MQTT.
- ``GET /updates/<bundle>/<seq>``: the chunk's bytes (64 KiB at most), only of the bundle offered to this van; 404
  otherwise; 409 when the release folder was rewritten since (a re-signed timestamp): ask the offer again.

Nothing here makes a release trusted: the van verifies it with python-tuf as any other (edge/update/verify.py). The
hub still records the van's ``tel.update`` reports (they come over MQTT as before) and sends it nothing over MQTT
while its snapshot says it fetches over HTTPS (``update.transport``).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from edge.sync import protocol as p
from edge.sync.chunks import FolderChanged
from governorate.store import HubStore
from governorate.updates import ACTIVE, OfferError, Updates

log = logging.getLogger("governorate.release_server")

_CHUNK = re.compile(r"/updates/([A-Za-z0-9]{1,64})/([0-9]{1,7})")


def tls_context(cert: Path, key: Path, ca: Path, crl: Path | None = None) -> ssl.SSLContext:
    """Server TLS that requires a client certificate from ``ca`` (and not revoked in ``crl``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    ctx.load_verify_locations(cafile=str(ca))
    if crl is not None:
        ctx.load_verify_locations(cafile=str(crl))
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def van_of(peer: dict | None) -> str | None:
    """The van a verified client certificate names (its CN), or None when it names no van."""
    for rdn in (peer or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName" and p.is_van_id(value):
                return value
    return None


IDLE_S = 60  # a connection with no request for this long is closed


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A van gone mid-answer (its connection reset or shut down) is routine on a mobile link: one line, no
        traceback; anything else is logged with its traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            log.info("connection from %s ended: %s", client_address[0], exc)
        else:
            log.exception("request from %s failed", client_address[0])


class ReleaseServer:
    """``serve_forever`` in a thread of its own (the ``governorate release-server`` command, or a test)."""

    def __init__(self, store: HubStore, context: ssl.SSLContext, host: str = "0.0.0.0", port: int = 8443,
                 idle_s: float = IDLE_S):
        self.updates = Updates(store)  # reads offers and release folders; sends nothing
        self.lock = threading.Lock()  # the bundles' cache is shared by the request threads
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "mtc-hub-releases"
            sys_version = ""

            def do_GET(self):  # noqa: N802 - http.server's name
                van = van_of(self.connection.getpeercert())
                if van is None:
                    return self._answer(403, b"the client certificate names no van\n")
                status, body, kind = server.answer(van, self.path)
                self._answer(status, body, kind)

            # Each answer goes out in one write, flushed at its end (handle_one_request): no wait for the van's
            # delayed ACK (Nagle) between a head and its body, or before the next request on the same connection.
            wbufsize = 1 << 17
            # A van kept-alive connection that goes silent (its power or its link cut, no FIN) frees its thread.
            timeout = idle_s

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _answer(self, status: int, body: bytes, kind: str = "text/plain; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):
                log.debug("%s %s", self.address_string(), fmt % args)

        self.httpd = _Server((host, port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]

    def answer(self, van: str, path: str) -> tuple[int, bytes, str]:
        text = "text/plain; charset=utf-8"
        offer = self.updates.offer_of(van)
        if offer is None or offer["state"] not in ACTIVE:
            return (204, b"", text) if path == "/updates/offer" else (404, b"nothing is offered to this van\n", text)
        try:
            with self.lock:
                bundle = self.updates.bundle(offer["folder"])
        except OfferError as exc:
            log.error("release folder offered to %s cannot be read: %s", van, exc.detail)
            return 503, b"the release offered cannot be read now\n", text
        if bundle.name != offer["bundle"] or bundle.total != offer["total"]:
            return 503, b"the release folder changed since it was offered; it must be offered again\n", text
        m = _CHUNK.fullmatch(path)
        if path != "/updates/offer" and (m is None or m.group(1) != bundle.name
                                         or not 0 <= int(m.group(2)) < bundle.total):
            return 404, b"no such chunk of the release offered to this van\n", text
        try:
            with self.lock:
                if path == "/updates/offer":
                    manifest = {"bundle": bundle.name, "version": offer["version"], "total": bundle.total,
                                "chunk_size": bundle.chunk_size, "files": bundle.heads()}
                    return 200, json.dumps(manifest).encode(), "application/json"
                return 200, bytes(bundle.chunk(int(m.group(2))).data), "application/octet-stream"
        except (FolderChanged, OSError):
            with self.lock:
                self.updates.forget(offer["folder"])
            return 409, b"the release folder was rewritten; ask for the offer again\n", text

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.5)

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
