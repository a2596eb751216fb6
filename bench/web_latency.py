"""Benchmark: latency of the van's web UI under a mixed page load at a fixed request rate.

The app runs in its own process under waitress (as `edge run` serves it), on a fresh van database with
one operator. An open-loop load generator sends requests on a fixed schedule (default 100 req/s for
30 s) and measures each from its *scheduled* start, so a slow answer cannot hide the queue behind it
(no coordinated omission). The mix of pages: kiosk start 30 %, ticket category page 15 %, "served
first?" page 15 %, track a request (POST) 20 %, the operator's queue page 20 %; and, within the same
rate, tickets issued at ``--ticket-rate`` per second (default 1: one kiosk with one receipt printer
cannot hand out more — a thermal printer takes 1–2 s per ticket — and a busy van issues one every
half minute). Each issued ticket is rendered and printed on the simulated printer, as in the van.
`/api/health` is measured alone first, in the same run, as the baseline (the cheapest request the
stack can answer).

Prints JSON; the last line is one JSON object with p50_ms, p95_ms, p99_ms, errors and more.

    python -m bench.web_latency [--rate 100] [--seconds 30]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

from tests.support.mqtt_broker import free_port
from tests.support.paths import ROOT
from tests.support.web_support import token

SERVER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from waitress import serve
    from tests.support.web_support import make_app
    app = make_app(Path(%(data)r))
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, _quiet=True)
""")


class Session:
    """One keep-alive connection with its own cookie, like one browser tab."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
            text = r.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            raise
        cookie = r.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return r.status, text


def prepare(port: int) -> dict:
    """Sessions for the mix: a logged-in operator, a kiosk with a CSRF token, a request number to track."""
    from tests.support.web_support import OPERATOR

    op = Session(port)
    _, page = op.request("GET", "/operator/login")
    status, _ = op.request("POST", "/operator/login", {"csrf_token": token(page), "number": OPERATOR[0],
                                                         "pin": OPERATOR[2]})
    assert status == 302, status
    _, page = op.request("GET", "/operator/")
    op.request("POST", "/operator/counter", {"csrf_token": token(page), "counter": "1"})
    kiosk = Session(port)
    _, page = kiosk.request("GET", "/ticket/BLD")
    return {"op": op, "kiosk_token": token(page), "kiosk_cookie": kiosk.cookie}


def mix(i: int, s: Session, ctx: dict) -> tuple[str, str, dict | None]:
    if i % ctx["ticket_every"] == ctx["ticket_every"] - 1:
        return ("ticket-issue", "/ticket", {"csrf_token": ctx["kiosk_token"], "category": "BLD", "priority": "none"})
    k = i % 20
    if k < 6:
        return ("start", "/", None)
    if k < 9:
        return ("ticket-page", "/ticket", None)
    if k < 12:
        return ("ticket-priority-page", "/ticket/BLD", None)
    if k < 16:
        return ("track", "/track", {"csrf_token": ctx["kiosk_token"], "number": "001-261121-0001-5"})
    return ("console-queue", "/operator/", None)


def run_load(port: int, rate: float, seconds: float, ctx: dict | None, workers: int = 32) -> dict:
    n = int(rate * seconds)
    start = time.perf_counter() + 0.5
    jobs: queue.Queue = queue.Queue()
    for i in range(n):
        jobs.put((i, start + i / rate))
    results: list[tuple[str, float, bool]] = []
    lock = threading.Lock()

    def worker():
        kiosk = Session(port)
        if ctx:
            kiosk.cookie = ctx["kiosk_cookie"]
        while True:
            try:
                i, due = jobs.get_nowait()
            except queue.Empty:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if ctx is None:
                name, path, form, session = "health", "/api/health", None, kiosk
            else:
                name, path, form = mix(i, kiosk, ctx)
                session = ctx["op"] if name == "console-queue" else kiosk
            ok = True
            try:
                if session is ctx.get("op") if ctx else False:
                    with ctx["op_lock"]:
                        status, _ = session.request("POST" if form else "GET", path, form)
                else:
                    status, _ = session.request("POST" if form else "GET", path, form)
                ok = status < 400
            except Exception:
                ok = False
            with lock:
                results.append((name, (time.perf_counter() - due) * 1000, ok))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat = sorted(r[1] for r in results)

    def pct(p, values):
        return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 2) if values else None

    by_page = {}
    for name in sorted({r[0] for r in results}):
        v = sorted(r[1] for r in results if r[0] == name)
        by_page[name] = {"n": len(v), "p50_ms": pct(50, v), "p95_ms": pct(95, v)}
    return {"requests": len(results), "achieved_rps": round(len(results) / elapsed, 1),
            "p50_ms": pct(50, lat), "p95_ms": pct(95, lat), "p99_ms": pct(99, lat),
            "mean_ms": round(statistics.fmean(lat), 2) if lat else None,
            "errors": sum(1 for r in results if not r[2]), "by_page": by_page}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--baseline-seconds", type=float, default=10.0)
    ap.add_argument("--ticket-rate", type=float, default=1.0, help="tickets issued per second within the rate")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="web-bench-")
    port = free_port()
    code = SERVER % {"data": data}
    # Run from the project's root, so "python -c" finds tests.support as the benchmark itself does.
    server = subprocess.Popen([sys.executable, "-c", code, str(port)], cwd=ROOT, env={**os.environ, "EDGE_CONFIG": ""})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                Session(port).request("GET", "/api/health")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the web app did not start") from None
                time.sleep(0.2)
        baseline = run_load(port, args.rate, args.baseline_seconds, None)
        print(json.dumps({"phase": "baseline /api/health", **baseline}), flush=True)
        ctx = prepare(port)
        ctx["op_lock"] = threading.Lock()
        ctx["ticket_every"] = max(1, round(args.rate / args.ticket_rate)) if args.ticket_rate > 0 else 10**9
        mixed = run_load(port, args.rate, args.seconds, ctx)
        print(json.dumps({"phase": "mixed pages", **mixed}, ensure_ascii=False), flush=True)
        result = {
            "rate_rps": args.rate, "seconds": args.seconds, "ticket_rate_per_s": args.ticket_rate,
            "p50_ms": mixed["p50_ms"], "p95_ms": mixed["p95_ms"], "p99_ms": mixed["p99_ms"],
            "errors": mixed["errors"], "achieved_rps": mixed["achieved_rps"],
            "baseline_health_p95_ms": baseline["p95_ms"],
            "p95_ratio_vs_health": round(mixed["p95_ms"] / baseline["p95_ms"], 2) if baseline["p95_ms"] else None,
            "target_p95_ms": 50, "by_page": mixed["by_page"],
        }
        print(json.dumps(result, ensure_ascii=False))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
