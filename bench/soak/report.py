"""The soak's report: report.md and three PNG plots (matplotlib, Agg) from results.json.

``python -m bench.soak.report var/soak/<run>/results.json`` rewrites the report of an earlier run.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

FAULT_STYLE = {
    "outage": {"color": "0.75", "alpha": 0.6, "label": "link cut"},
    "long": {"color": "0.45", "alpha": 0.6, "label": "long outage (basement car park)"},
    "power_cut": {"color": "tab:red", "alpha": 0.35, "label": "power cut (van off)"},
}
LINE_STYLE = {
    "broker_restart": {"color": "tab:blue", "ls": "--", "label": "broker restart"},
    "hub_restart": {"color": "tab:green", "ls": ":", "label": "hub killed + restarted"},
}


def intervals(results: dict) -> dict[str, list[tuple[float, float, bool]]]:
    """(start, end, long) of every fault that happened, by kind, from the run's log."""
    begins: dict[int, dict] = {}
    out: dict[str, list[tuple[float, float, bool]]] = {}
    for entry in results["log"]:
        kind = entry["kind"]
        if kind.endswith("_begin"):
            begins[entry["n"]] = entry
        elif kind.endswith("_end") and entry.get("n") in begins:
            b = begins.pop(entry["n"])
            out.setdefault(kind[: -len("_end")], []).append((b["t"], entry["t"], bool(b.get("long"))))
    return out


def day_end(results: dict) -> float | None:
    return next((e["t"] for e in results["log"] if e["kind"] == "day_end"), None)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def throughput(results: dict) -> list[dict]:
    """Per sampling interval: uplink IP bits per second delivered by the link, and the conditions."""
    s = results["samples"]
    faults = intervals(results)
    marks = [(a, b) for k in faults for a, b, _ in faults[k]]
    out = []
    for a, b in zip(s, s[1:], strict=False):
        dt = b["t"] - a["t"]
        if dt <= 0:
            continue
        quiet = not any(x - 5 <= b["t"] and a["t"] <= y + 5 for x, y in marks)  # no fault within 5 s
        out.append({"t": b["t"], "bps": (b["up_bytes"] - a["up_bytes"]) * 8 / dt,
                    "saturated": (quiet and not a["cut"] and not b["cut"] and a["van_on"] and b["van_on"]
                                  and a["pending_doc"] >= 2 and b["pending_doc"] >= 2)})
    return out


def figures(results: dict) -> dict:
    """The headline numbers of the run (also what docs/soak.md quotes)."""
    params = results["params"]
    rate = params["up_mbit"] * 1e6
    faults = intervals(results)
    thr = throughput(results)
    sat = [x["bps"] / rate for x in thr if x["saturated"]]
    up_bytes = results["link_stats"]["up"]["bytes_delivered"]
    payload = results["counts"]["document_bytes"] + results["counts"]["tx_audit_body_bytes"]
    outages = faults.get("outage", [])
    cuts = faults.get("power_cut", [])
    tx, doc = results["latency_tx_s"], results["latency_doc_s"]
    return {
        "ok": results["ok"],
        "lost": results["lost_total"],
        "duplicated": results["duplicated_total"],
        "outages": len(outages),
        "outage_s": round(sum(b - a for a, b, _ in outages), 1),
        "long_outage_s": round(max((b - a for a, b, long in outages if long), default=0.0), 1),
        "power_cuts": len(cuts),
        "power_off_s": round(sum(b - a for a, b, _ in cuts), 1),
        "broker_restarts": len(faults.get("broker_restart", [])),
        "hub_restarts": len(faults.get("hub_restart", [])),
        "saturated_seconds": len(sat),
        "goodput_ratio_median": round(statistics.median(sat), 3) if sat else None,
        "goodput_ratio_mean": round(statistics.fmean(sat), 3) if sat else None,
        "payload_share_of_ip_bytes": round(payload / up_bytes, 3) if up_bytes else None,
        "latency_tx_p50_s": _r(percentile(tx, 50)), "latency_tx_p90_s": _r(percentile(tx, 90)),
        "latency_tx_p99_s": _r(percentile(tx, 99)), "latency_tx_max_s": _r(max(tx, default=None)),
        "latency_doc_p50_s": _r(percentile(doc, 50)), "latency_doc_p90_s": _r(percentile(doc, 90)),
        "latency_doc_p99_s": _r(percentile(doc, 99)), "latency_doc_max_s": _r(max(doc, default=None)),
        "drain_s": _drain_s(results),
        "resume_after_cut_s": recoveries(results),
        "resume_after_cut_median_s": _r(statistics.median(_resumed(results))) if _resumed(results) else None,
        "resume_after_cut_max_s": max(_resumed(results), default=None),
        "not_resumed_before_next_cut": sum(1 for x in recoveries(results) if x is None),
        "max_backlog": max((s["pending"] for s in results["samples"]), default=0),
        "max_oldest_age_s": round(max((s["oldest_age_s"] for s in results["samples"]), default=0.0), 1),
    }


def recoveries(results: dict) -> list[float]:
    """Seconds from the end of each link cut to the first second the uplink carried ≥ 0.5 Mbit/s again,
    for cuts that ended with rows waiting and the van on (otherwise there is nothing to resume)."""
    thr = throughput(results)
    samples = results["samples"]
    cuts = sorted(intervals(results).get("outage", []))
    out = []
    for i, (_a, b, _) in enumerate(cuts):
        at_end = next((s for s in samples if s["t"] >= b), None)
        if at_end is None or at_end["pending"] == 0 or not at_end["van_on"]:
            continue
        next_cut = cuts[i + 1][0] if i + 1 < len(cuts) else float("inf")
        first = next((x["t"] for x in thr if b < x["t"] <= next_cut and x["bps"] >= 5e5), None)
        # None: the uplink had not resumed when the next cut began (shown as such, never left out).
        out.append(None if first is None else round(first - b, 1))
    return out


def _resumed(results: dict) -> list[float]:
    return [x for x in recoveries(results) if x is not None]


def _drain_s(results: dict) -> float | None:
    end = day_end(results)
    done = next((e.get("settled_t") or e["t"] for e in results["log"] if e["kind"] in ("drained", "drain_timeout")),
                None)
    return None if end is None or done is None else round(done - end, 1)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _shade(ax, results: dict) -> None:
    faults = intervals(results)
    for a, b, long in faults.get("outage", []):
        st = FAULT_STYLE["long" if long else "outage"]
        ax.axvspan(a, b, color=st["color"], alpha=st["alpha"], lw=0)
    for a, b, _ in faults.get("power_cut", []):
        st = FAULT_STYLE["power_cut"]
        ax.axvspan(a, b, color=st["color"], alpha=st["alpha"], lw=0)
    for kind, st in LINE_STYLE.items():
        for a, _b, _ in faults.get(kind, []):
            ax.axvline(a, color=st["color"], ls=st["ls"], lw=1.2)
    end = day_end(results)
    if end is not None:
        ax.axvline(end, color="black", lw=1.2)


def _legend_handles(results: dict) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    faults = intervals(results)
    handles = [Patch(color=FAULT_STYLE["outage"]["color"], alpha=0.6, label="link cut")]
    if any(long for _, _, long in faults.get("outage", [])):
        handles.append(Patch(color=FAULT_STYLE["long"]["color"], alpha=0.6, label="long outage (basement)"))
    handles.append(Patch(color="tab:red", alpha=0.35, label="power cut"))
    for st in LINE_STYLE.values():
        handles.append(Line2D([], [], color=st["color"], ls=st["ls"], label=st["label"]))
    handles.append(Line2D([], [], color="black", label="end of day, drain"))
    return handles


def plot_backlog(results: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    s = results["samples"]
    t = [x["t"] for x in s]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, dpi=90,
                                   gridspec_kw={"height_ratios": [3, 2]})
    _shade(ax1, results)
    ax1.plot(t, [x["pending"] for x in s], color="tab:purple", lw=1.4, label="outbox rows waiting (all)")
    ax1.plot(t, [x["pending_doc"] for x in s], color="tab:orange", lw=1.2, label="of which scanned pages")
    ax1.set_ylabel("rows waiting")
    ax1.set_ylim(bottom=0)
    ax1.grid(alpha=0.3)
    ax1.legend(loc="upper left", fontsize=8)
    _shade(ax2, results)
    ax2.plot(t, [x["oldest_age_s"] for x in s], color="tab:brown", lw=1.4)
    ax2.set_ylabel("oldest waiting row, s")
    ax2.set_xlabel("seconds since the start of the day (compressed)")
    ax2.set_ylim(bottom=0)
    ax2.grid(alpha=0.3)
    f = figures(results)
    fig.suptitle(f"Van outbox backlog: {f['outages']} link cuts, {f['power_cuts']} power cuts, "
                 f"{f['broker_restarts']} broker and {f['hub_restarts']} hub restarts", fontsize=11)
    fig.legend(handles=_legend_handles(results), loc="lower center", fontsize=8, ncol=6, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def plot_latency(results: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=90)
    for values, label, color in ((results["latency_tx_s"], "tx + audit messages", "tab:blue"),
                                 (results["latency_doc_s"], "scanned pages (whole document)", "tab:orange")):
        if not values:
            continue
        v = sorted(max(x, 1e-3) for x in values)
        y = [(i + 1) / len(v) for i in range(len(v))]
        p50, p99 = percentile(values, 50), percentile(values, 99)
        ax.step(v, y, where="post", color=color, lw=1.6,
                label=f"{label}: n={len(v)}, p50 {p50:.1f} s, p99 {p99:.1f} s, max {max(values):.1f} s")
    ax.set_xscale("log")
    ax.set_xlabel("committed on the van → stored and acked at the hub, seconds (log scale)")
    ax.set_ylabel("share delivered within")
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Delivery latency (includes time waiting out outages and power cuts)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_goodput(results: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    params = results["params"]
    thr = throughput(results)
    t = [x["t"] for x in thr]
    mbit = [x["bps"] / 1e6 for x in thr]
    smooth = [statistics.fmean(mbit[max(0, i - 4): i + 1]) for i in range(len(mbit))]
    app = results.get("app_delivered", [])
    fig, ax = plt.subplots(figsize=(11, 4.4), dpi=90)
    _shade(ax, results)
    ax.plot(t, smooth, color="tab:blue", lw=1.3, label="uplink IP throughput (5 s mean)")
    if app:
        end = max(t, default=0)
        bins = [0.0] * (int(end // 10) + 1)
        for at, size in app:
            if 0 <= at <= end:
                bins[int(at // 10)] += size * 8 / 10 / 1e6
        ax.step([i * 10 for i in range(len(bins))], bins, where="post", color="tab:orange", lw=1.2,
                label="application goodput at the hub (10 s bins)")
    ax.axhline(params["up_mbit"], color="black", ls="--", lw=1, label=f"link rate {params['up_mbit']:g} Mbit/s")
    sat_t = [x["t"] for x in thr if x["saturated"]]
    sat_v = [x["bps"] / 1e6 for x in thr if x["saturated"]]
    ax.plot(sat_t, sat_v, ".", color="tab:cyan", ms=3, label="seconds counted as saturated")
    ax.set_ylim(0, params["up_mbit"] * 1.3)
    ax.set_xlabel("seconds since the start of the day (compressed)")
    ax.set_ylabel("Mbit/s")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    fig.legend(handles=_legend_handles(results), loc="lower center", fontsize=8, ncol=6, frameon=False)
    f = figures(results)
    ratio = f["goodput_ratio_median"]
    ax.set_title(f"Uplink use vs link rate (median over saturated seconds: "
                 f"{'n/a' if ratio is None else f'{ratio:.2f}'} of the rate)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def markdown(results: dict) -> str:
    p, c, f = results["params"], results["counts"], figures(results)
    lost, dup = results["lost"], results["duplicated"]
    verdict = "PASS" if results["ok"] else "FAIL"
    ls = results["link_stats"]
    lines = [
        f"# Field soak: {verdict}",
        "",
        f"**{f['lost']} lost, {f['duplicated']} duplicated** across {f['outages']} link cuts "
        f"(one of {f['long_outage_s']:g} s), {f['power_cuts']} power cuts, {f['broker_restarts']} broker restarts "
        f"and {f['hub_restarts']} hub restarts; outbox left: {results['outbox_pending']}; audit chain: "
        f"van {'intact' if results['audit']['van_ok'] else 'BROKEN'}, hub "
        f"{'intact' if results['audit']['hub_ok'] else 'BROKEN'}.",
        "",
        f"Run started {results.get('started_at', '?')} on {results.get('cpus', '?')} CPUs (load average at the "
        f"end {results.get('load_average_end', '?')}). The van's counter was driven through the store API "
        "(`bench/soak/workload.py`, the same calls the web app makes), the back office through "
        "`governorate.backoffice.decide` (the staff web app's decision).",
        "",
        "## Parameters",
        "",
        "| parameter | value |",
        "|---|---|",
        f"| day (wall time, compressed) | {p['minutes']:g} min, then a drain with the link up |",
        f"| seed | {p['seed']} |",
        f"| citizens | {p['citizens']} (ticket + request + {p['pages'][0]}–{p['pages'][1]} scanned pages of "
        f"{p['page_kb'][0]}–{p['page_kb'][1]} KB) |",
        f"| link up / down | {p['up_mbit']:g} / {p['down_mbit']:g} Mbit/s, RTT {p['rtt_ms']:g} ms "
        f"± {p['jitter_ms']:g} ms each way, {p['loss'] * 100:g} % loss each way |",
        f"| link cuts | {p['outages']} short ({p['outage_s'][0]:g}–{p['outage_s'][1]:g} s) + one long "
        f"({f['long_outage_s']:g} s) |",
        f"| power cuts | {p['power_cuts']} (van off {p['power_off_s'][0]:g}–{p['power_off_s'][1]:g} s) |",
        f"| broker / hub restarts | {p['broker_restarts']} / {p['hub_restarts']} "
        f"(down {p['restart_pause_s'][0]:g}–{p['restart_pause_s'][1]:g} s) |",
        f"| back office | under review, then ready ({100 - p['reject_share'] * 100:g} %) or rejected |",
        "",
        "## What happened",
        "",
        "| | |",
        "|---|---|",
        f"| citizens served | {c['requests']} requests, {c['tickets']} tickets, {c['pages']} pages "
        f"({c['document_bytes'] / 1e6:.1f} MB) |",
        f"| tx + audit messages | {c['tx_audit_messages']} ({c['audit_entries']} audit entries) |",
        f"| back-office decisions | {c['decisions_sent']} sent; van inbox {c['inbox']}; "
        f"{c['handed_over']} handed over, {c['rejected']} rejected |",
        f"| link down | {f['outage_s']:g} s in {f['outages']} cuts |",
        f"| van off | {f['power_off_s']:g} s in {f['power_cuts']} power cuts; {c['sync_sessions']} MQTT sessions |",
        f"| document chunks | {c['doc_chunks']} needed, {c['doc_chunk_receipts']} received by the hub "
        f"(repeats after cuts included) |",
        f"| largest backlog | {f['max_backlog']} rows; oldest row waited up to {f['max_oldest_age_s']:g} s |",
        f"| drain after the day | {f['drain_s']} s until everything was delivered, decided and handed over "
        "(0: all settled by the end of the day) |",
        f"| telemetry | {c['telemetry_history_rows']} snapshots kept in the hub's history (one a minute at most) |",
        "",
        "## Reconciliation",
        "",
        "| what | lost | duplicated |",
        "|---|---|---|",
        f"| tx + audit messages (by message id, stream sequence) | {lost['messages']} | {dup['messages']} |",
        f"| requests (`request.submitted` per request number) | {lost['requests']} | {dup['requests']} |",
        f"| scanned pages (sha256 of the hub's copy = the van's) | {lost['documents']} | {dup['documents']} |",
        f"| back-office decisions (van request history, inbox) | {lost['decisions']} | {dup['decisions']} |",
        f"| **total** | **{f['lost']}** | **{f['duplicated']}** |",
        "",
        f"Outbox rows still pending on the van: {results['outbox_pending']}. Document hash mismatches: "
        f"{results['document_hash_mismatches']}. Audit chain: van {_yes(results['audit']['van_ok'], 'intact')}, "
        f"hub {_yes(results['audit']['hub_ok'], 'intact')} ({results['audit']['hub_entries']} entries, same length "
        f"and last hash as the van's). Drained before the timeout: {_yes(results['drained'], 'yes')}.",
        "",
        "## Backlog",
        "",
        "![backlog](backlog.png)",
        "",
        "## Delivery latency",
        "",
        "![latency](latency.png)",
        "",
        "| | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|",
        f"| tx + audit (commit → stored at the hub) | {f['latency_tx_p50_s']} s | {f['latency_tx_p90_s']} s | "
        f"{f['latency_tx_p99_s']} s | {f['latency_tx_max_s']} s |",
        f"| scanned page (commit → whole document stored) | {f['latency_doc_p50_s']} s | {f['latency_doc_p90_s']} s | "
        f"{f['latency_doc_p99_s']} s | {f['latency_doc_max_s']} s |",
        "",
        "## Goodput vs link rate",
        "",
        "![goodput](goodput.png)",
        "",
        f"Over the {f['saturated_seconds']} seconds when the van had at least two pages waiting, the link was up, "
        f"the van on and no fault within 5 s, the uplink carried a median **{f['goodput_ratio_median']}** "
        f"(mean {f['goodput_ratio_mean']}) of the link rate. Application payload (page bytes + message bodies) "
        f"was {f['payload_share_of_ip_bytes']} of all IP bytes sent up, the rest being TCP/IP, MQTT, CBOR, "
        "chunk headers, telemetry, loss retransmissions and the repeats after cuts.",
        "",
        f"After a link cut that ended with rows waiting, the uplink carried ≥ 0.5 Mbit/s again after a median "
        f"{f['resume_after_cut_median_s']} s (max {f['resume_after_cut_max_s']} s; each: "
        f"{', '.join('not before the next cut' if x is None else str(x) for x in f['resume_after_cut_s'])}): "
        "the time TCP's retransmission back-off, MQTT keepalive and the agent's reconnect take to notice "
        "that the link is back.",
        "",
        "## Link counters",
        "",
        "| direction | packets in | lost (random) | lost (cut) | queue drops | delivered MB |",
        "|---|---|---|---|---|---|",
    ]
    for d in ("up", "down"):
        s = ls[d]
        lines.append(f"| {d} | {s['in']} | {s['dropped_loss']} | {s['dropped_cut']} | {s['dropped_queue']} | "
                     f"{s['bytes_delivered'] / 1e6:.1f} |")
    if results["problems"]:
        lines += ["", "## Problems", ""] + [f"- {x}" for x in results["problems"][:100]]
    lines += ["", "## Reproduce", "", "```",
              f"sudo .venv/bin/python -m bench.soak --minutes {p['minutes']:g} --seed {p['seed']} "
              f"--citizens {p['citizens']} --outages {p['outages']} --power-cuts {p['power_cuts']} "
              f"--broker-restarts {p['broker_restarts']} --hub-restarts {p['hub_restarts']}", "```", ""]
    return "\n".join(lines)


def _yes(flag: bool, word: str) -> str:
    return word if flag else "**NO**"


def write_report(results: dict, out: str | Path | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(out or results["out"])
    folder.mkdir(parents=True, exist_ok=True)
    plot_backlog(results, folder / "backlog.png")
    plot_latency(results, folder / "latency.png")
    plot_goodput(results, folder / "goodput.png")
    (folder / "figures.json").write_text(json.dumps(figures(results), indent=1))
    (folder / "report.md").write_text(markdown(results))
    return folder / "report.md"


if __name__ == "__main__":
    source = Path(sys.argv[1])
    data = json.loads(source.read_text())
    print(write_report(data, sys.argv[2] if len(sys.argv) > 2 else source.parent))
