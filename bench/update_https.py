"""Benchmark: a van fetching its release over HTTPS (edge.update.https) from the hub's release server
(governorate.release_server) across the emulated LTE link (issue 20, docs/updates.md section 5).

Across tests/support/lte_link.py (20 Mbit/s down, 5 Mbit/s up, 40 ms each way, 1 % loss; root, /dev/net/tun,
`ip netns`): the release server in the governorate namespace with certificates from a throw-away governorate CA, the
van's fetcher in the van namespace with its own certificate. The release is ``make release``'s real van release
(var/release/van), copied and signed with throw-away keys, offered to the van; the fetcher keeps the first
``--chunks`` chunks (64 KiB each) into a fresh staging folder, once per ``--parallel`` value (requests in flight,
each on its own kept-alive connection). In the same run, the baseline: one persistent
HTTPS connection (keep-alive) GETting the same chunks back to back — what the link gives a client that asks for one
chunk at a time on one connection.

Then, with ``--transactions-chunks`` (default 640, 40 MiB), what a fetch costs the van's own traffic: the hub's
broker and ingest worker and the van's sync agent come up (bench.update_transfer.VanTraffic: one ticket committed every
0.3 s, commit → hub ack latency), 15 s quiet, then the fetcher (4 in flight, the default) takes that many chunks.

Prints one JSON object: seconds, MB/s and goodput ÷ downlink rate for each fetcher run and the baseline, each run ÷
the baseline, the projected time for the whole release, and the p50/p95 latency of the van's transactions quiet and
during the fetch.

    python -m bench.update_https [--release var/release/van] [--chunks 160] [--parallel 1,4,8]
                                 [--transactions-chunks 640]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import ssl
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization

VAN = "V007"


def _write_pair(folder: Path, name: str, signer) -> tuple[Path, Path]:
    cert, key = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    cert.write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(signer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return cert, key


def keep_alive_baseline(host: str, port: int, ca: Path, cert: Path, key: Path, bundle: str, seqs: list[int]) -> float:
    """Seconds for one keep-alive HTTPS connection to GET ``seqs`` one after the other."""
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.load_cert_chain(str(cert), str(key))
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=60)
    start = time.perf_counter()
    for seq in seqs:
        conn.request("GET", f"/updates/{bundle}/{seq}")
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200 or not body:
            raise RuntimeError(f"baseline: chunk {seq} answered {answer.status}")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _fetch(fetch, bundle: str, chunks: int) -> float:
    """Seconds for ``fetch`` to hold the first ``chunks`` chunks of ``bundle``."""
    stop = threading.Event()
    fetch.busy = lambda: len(fetch.incoming.held(bundle)) >= chunks and not stop.set()
    start = time.perf_counter()
    fetch.once(stop)
    return time.perf_counter() - start


def run(release: Path, chunks: int, parallel: tuple[int, ...] = (1, 4, 8), transactions_chunks: int = 640) -> dict:
    from bench.update_transfer import VanTraffic, signed_copy
    from edge.update.https import HttpsFetch
    from edge.update.incoming import Incoming
    from governorate.release_server import ReleaseServer, tls_context
    from governorate.store import HubStore
    from governorate.updates import Updates
    from provisioning import pki
    from tests.support.lte_link import LteLink, unavailable_reason
    from tests.support.mqtt_broker import free_port

    reason = unavailable_reason()
    if reason:
        return {"benchmark": "update_https", "lte_emulation": f"not run: {reason}"}
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp, LteLink() as link:
        folder = Path(tmp)
        signed = signed_copy(release, folder)
        tls = folder / "tls"
        tls.mkdir()
        ca = pki.make_ca("21", now=now)
        (tls / "ca.pem").write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
        server_pair = _write_pair(tls, "server", pki.make_tls_cert(ca, "hub.test", now=now, days=2, server=True,
                                                                   addresses=(link.gov_ip,)))
        van_cert, van_key = _write_pair(tls, VAN, pki.make_tls_cert(ca, VAN, now=now, days=2))
        store = HubStore(folder / "hub.db")
        offer = Updates(store).offer(VAN, signed)
        bundle, total = offer["bundle"], offer["total"]
        chunks = min(chunks, total)
        port = free_port()

        def fetcher(staging: Path, n: int | None = None):
            more = {} if n is None else {"parallel": n}
            return HttpsFetch(Incoming(staging), f"https://{link.gov_ip}:{port}/", ca_file=str(tls / "ca.pem"),
                              cert_file=str(van_cert), key_file=str(van_key), **more)

        with link.netns("gov"):
            server = ReleaseServer(store, tls_context(*server_pair, tls / "ca.pem"), link.gov_ip, port)
            serving = threading.Thread(target=server.serve_forever, daemon=True)
            serving.start()
        try:
            with link.netns("van"):
                baseline_s = keep_alive_baseline(link.gov_ip, port, tls / "ca.pem", van_cert, van_key, bundle,
                                                 list(range(chunks)))
                runs = {}
                for n in parallel:
                    fetch = fetcher(folder / f"staging-{n}", n)
                    runs[n] = (_fetch(fetch, bundle, chunks), len(fetch.incoming.held(bundle)))
            transactions = None
            if transactions_chunks:
                # A hub of its own: the release server's store offers the release, which this hub's ingest would
                # otherwise also send over MQTT to a van that takes none that way.
                with VanTraffic(link, folder / "traffic") as traffic:
                    traffic.start()
                    first = traffic.mark()
                    time.sleep(15)  # the quiet period
                    quiet_until = traffic.mark()
                    with link.netns("van"):
                        fetch = fetcher(folder / "staging-transactions")
                        n_tx = min(transactions_chunks, total)
                        fetch_s = _fetch(fetch, bundle, n_tx)
                    during_until = traffic.mark()
                    traffic.finish()
                    transactions = {"chunks": n_tx, "parallel": fetch.parallel, "fetch_seconds": round(fetch_s, 1),
                                    "mb_per_s": round(n_tx * 64 * 1024 / fetch_s / 1e6, 3),
                                    "quiet": traffic.latencies(first, quiet_until),
                                    "during_fetch": traffic.latencies(quiet_until, during_until)}
        finally:
            server.shutdown()
        size = sum(q.stat().st_size for q in signed.rglob("*") if q.is_file())
        nbytes = chunks * 64 * 1024
        down = link.down.rate_bps
        return {
            "benchmark": "update_https",
            "link": {"down_bps": down, "up_bps": link.up.rate_bps, "delay_ms_each_way": link.down.delay_ms,
                     "loss": link.down.loss},
            "chunks": chunks, "release_chunks": total, "release_bytes": size,
            "fetcher": {str(n): {"parallel": n, "kept": kept, "seconds": round(seconds, 2),
                                 "mb_per_s": round(nbytes / seconds / 1e6, 3),
                                 "goodput_ratio": round(nbytes * 8 / seconds / down, 3),
                                 "vs_baseline": round(baseline_s / seconds, 3),
                                 "whole_release_projected_s": round(seconds * total / chunks)}
                        for n, (seconds, kept) in runs.items()},
            "keep_alive_baseline": {"seconds": round(baseline_s, 2), "mb_per_s": round(nbytes / baseline_s / 1e6, 3),
                                    "goodput_ratio": round(nbytes * 8 / baseline_s / down, 3)},
            "van_transactions": transactions,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, default=Path("var/release/van"))
    parser.add_argument("--chunks", type=int, default=160, help="chunks to fetch (64 KiB each), each run")
    parser.add_argument("--parallel", default="1,4,8", help="requests in flight, one run each (comma-separated)")
    parser.add_argument("--transactions-chunks", type=int, default=640,
                        help="chunks fetched while the van's own transactions are measured (0: not measured)")
    args = parser.parse_args()
    print(json.dumps(run(args.release, args.chunks, tuple(int(n) for n in args.parallel.split(",")),
                         args.transactions_chunks)))


if __name__ == "__main__":
    main()
