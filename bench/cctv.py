"""Benchmark: CPU the CCTV heartbeat costs per camera at 1 sample/s, against just decoding the frames.

N simulated IP cameras stream MJPEG at FPS from a separate process on loopback (so their cost is
not counted); this process reads every stream and samples each camera once a second through the
real path (``HttpSource`` + ``CameraMonitor``). The figure is this process's CPU time over the
measured interval. Baselines from the same frames in the same run: decoding every frame (what a
naive ``VideoCapture`` reader does) and decoding one full frame per second (the least any monitor
must do to look at the picture). Last line printed: one JSON object.

    .venv/bin/python -m bench.cctv [--cameras 4] [--seconds 10] [--fps 15]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

from edge.devices.cctv import CameraMonitor, HttpSource, checks
from edge.devices.cctv.sim import scene

SIZES = {"640x480": (640, 480), "1280x720": (1280, 720)}


def _jpegs(size: tuple[int, int], count: int = 20) -> list[bytes]:
    return [cv2.imencode(".jpg", scene("bench", i / 10, size), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
            for i in range(count)]


def _serve(size: tuple[int, int], fps: float, port_queue) -> None:
    frames = _jpegs(size)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            i, next_at = 0, time.monotonic()
            try:
                while True:
                    body = frames[i % len(frames)]
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body + b"\r\n")
                    i += 1
                    next_at += 1 / fps
                    time.sleep(max(0.0, next_at - time.monotonic()))
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _cpu_of(fn, seconds: float) -> float:
    """CPU seconds this process spent while ``fn`` ran for ``seconds`` of wall time."""
    cpu0 = time.process_time()
    fn(seconds)
    return time.process_time() - cpu0


class _DecodeEverything(HttpSource):
    """The baseline reader: decodes every frame as it arrives, as a plain VideoCapture loop does."""

    def _publish(self, jpeg: bytes) -> None:
        cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        super()._publish(jpeg)


def _monitor_cpu(size, cameras: int, fps: float, seconds: float, baseline: bool = False) -> dict:
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(size, fps, ports), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    kind = _DecodeEverything if baseline else HttpSource
    sources = [kind(f"http://127.0.0.1:{port}/cam{i}") for i in range(cameras)]
    monitors = [CameraMonitor(f"cam{i}") for i in range(cameras)]
    states: list[str] = []
    try:
        # Warm up: connections open, reference views learned, before the measured interval.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(s.latest() for s in sources):
            time.sleep(0.1)
        for _ in range(6):
            for s, m in zip(sources, monitors, strict=True):
                m.observe(s.latest(), time.monotonic())
            time.sleep(1.0)

        def run(duration: float) -> None:
            next_at = time.monotonic()
            end = next_at + duration
            while time.monotonic() < end:
                if not baseline:
                    for s, m in zip(sources, monitors, strict=True):
                        states.append(m.observe(s.latest(), time.monotonic()).state)
                next_at += 1.0
                time.sleep(max(0.0, min(next_at, end) - time.monotonic()))

        cpu = _cpu_of(run, seconds)
    finally:
        for s in sources:
            s.close()
        server.terminate()
        server.join(5)
    return {"cpu_percent_per_camera": round(100 * cpu / seconds / cameras, 2),
            "samples": len(states), "samples_ok_share": round(states.count("ok") / max(1, len(states)), 3)}


def _per_call_ms(fn, items, repeat: int = 3) -> float:
    start = time.process_time()
    for _ in range(repeat):
        for item in items:
            fn(item)
    return 1000 * (time.process_time() - start) / (repeat * len(items))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=15.0)
    args = ap.parse_args()
    cv2.setNumThreads(1)  # the van's CPU is shared with the web and sync processes
    results: dict = {"benchmark": "cctv", "cameras": args.cameras, "seconds": args.seconds, "fps": args.fps,
                     "sample_per_s": 1.0}
    for label, size in SIZES.items():
        jpegs = _jpegs(size)
        bufs = [np.frombuffer(j, np.uint8) for j in jpegs]
        decode_ms = _per_call_ms(lambda b: cv2.imdecode(b, cv2.IMREAD_COLOR), bufs)
        flag = cv2.IMREAD_REDUCED_COLOR_4 if size[0] >= 1280 else cv2.IMREAD_REDUCED_COLOR_2
        reduced_ms = _per_call_ms(lambda b, f=flag: cv2.imdecode(b, f), bufs)
        frames = [cv2.imdecode(b, cv2.IMREAD_COLOR) for b in bufs]
        ref = checks.prepare(frames[0])

        def analyse(frame, ref=ref):
            p = checks.prepare(frame)
            checks.brightness(p), checks.sharpness(p), checks.change(ref, p), checks.view_match(ref, p)

        analysis_ms = _per_call_ms(analyse, frames)
        measured = _monitor_cpu(size, args.cameras, args.fps, args.seconds)
        naive = _monitor_cpu(size, args.cameras, args.fps, args.seconds, baseline=True)
        results[label] = {
            "jpeg_kb": round(sum(map(len, jpegs)) / len(jpegs) / 1024, 1),
            "full_decode_ms": round(decode_ms, 2),
            "reduced_decode_ms": round(reduced_ms, 2),
            "analysis_ms_per_sample": round(analysis_ms, 2),
            "baseline_decode_every_frame_cpu_percent_per_camera": round(decode_ms * args.fps / 10, 2),
            "baseline_decode_1_per_s_cpu_percent_per_camera": round(decode_ms / 10, 2),
            "monitor": measured,
            "baseline_measured_read_and_decode_every_frame_cpu_percent_per_camera": naive["cpu_percent_per_camera"],
        }
        print(label, json.dumps(results[label]), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
