"""The hub's Prometheus metrics: what the ingest did (counted in its process) and how the fleet is (read from
the database at each scrape), in the text format Prometheus reads.

The counters live once per process and are registered in a new registry at each scrape, together with a
collector that reads the fleet from the database: so ``governorate ingest`` (its own ``--metrics-port``)
and ``governorate web`` (``/metrics``, loopback only) expose the same names. docs/governorate.md,
"Health and metrics", lists them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily

from governorate import fleet, quarantine
from governorate.store import HubStore

log = logging.getLogger("governorate.metrics")
DEFAULT_ADDRESS = "127.0.0.1:9141"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
disable_created_metrics()  # the "_created" twin of every counter is noise for a hub that restarts rarely

ACKED = Counter("governorate_messages_acked", "Van messages stored (or found stored) and acknowledged",
                registry=None)
REFUSED = Counter("governorate_messages_refused", "Van messages refused and kept in quarantine, by reason",
                  ["reason"], registry=None)
BATCHES = Counter("governorate_batches", "Batches of van messages committed", registry=None)
BATCH_FAILURES = Counter("governorate_batch_failures",
                         "Batches the database could not store (nothing acked; the vans send them again)",
                         registry=None)
ACK_LATENCY = Histogram("governorate_ack_latency_seconds",
                        "From the oldest message of a batch reaching the hub to the batch's acks being sent",
                        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=None)
ALERT_EVALUATIONS = Counter("governorate_alert_evaluations", "Alert evaluations run by the ingest, by outcome",
                            ["outcome"], registry=None)
PROCESS = (ACKED, REFUSED, BATCHES, BATCH_FAILURES, ACK_LATENCY, ALERT_EVALUATIONS)


class FleetCollector:
    """Gauges read from the hub's database when Prometheus asks: vans by status, backlog, open alerts,
    quarantine and waiting state changes."""

    def __init__(self, store: HubStore, thresholds: fleet.Thresholds):
        self.store, self.thresholds = store, thresholds

    def describe(self):
        return []  # read at collect time only: nothing is touched when the registry is made

    def collect(self):
        now = datetime.now(UTC)
        vans = fleet.overview(self.store, self.thresholds, now)
        by_status = GaugeMetricFamily("governorate_vans", "Vans of the fleet by status (never: added, not heard from)",
                                      labels=["status"])
        counts: dict[str, int] = {}
        for v in vans:
            counts[v["status"]] = counts.get(v["status"], 0) + 1
        for status in sorted(set(counts) | {"online", "offline"}):
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        backlog = GaugeMetricFamily("governorate_van_backlog_rows",
                                    "Rows waiting in a van's outbox (its last telemetry)", labels=["van"])
        age = GaugeMetricFamily("governorate_van_backlog_oldest_seconds",
                                "Age of the oldest row waiting in a van's outbox (its last telemetry)", labels=["van"])
        for v in vans:
            if v["backlog"] is not None:
                backlog.add_metric([v["van"]], v["backlog"])
            if v["backlog_age_s"] is not None:
                age.add_metric([v["van"]], v["backlog_age_s"])
        yield backlog
        yield age
        alerts = GaugeMetricFamily("governorate_alerts_open", "Open alerts, by kind", labels=["kind"])
        open_by_kind = dict(self.store._read(
            "SELECT kind, count(*) FROM alerts WHERE cleared_at IS NULL GROUP BY kind"))
        for kind in sorted(set(open_by_kind) | set(fleet.ALERT_KINDS)):
            alerts.add_metric([kind], open_by_kind.get(kind, 0))
        yield alerts
        since = (now - timedelta(hours=quarantine.ALERT_WINDOW_H)).isoformat()
        yield GaugeMetricFamily("governorate_quarantine_last_day", "Van messages quarantined in the last 24 h",
                                value=sum(quarantine.recent_counts(self.store, since).values()))
        yield GaugeMetricFamily("governorate_parked_states", "Request state changes waiting for their request",
                                value=self.store._read("SELECT count(*) FROM parked_states")[0][0])


def registry(store: HubStore | None = None, thresholds: fleet.Thresholds | None = None) -> CollectorRegistry:
    """This process's counters and, with a ``store``, the fleet's gauges (read at each scrape)."""
    found = CollectorRegistry(auto_describe=False)
    for collector in PROCESS:
        found.register(collector)
    if store is not None:
        found.register(FleetCollector(store, thresholds or fleet.Thresholds()))
    return found


def exposition(store: HubStore | None = None, thresholds: fleet.Thresholds | None = None) -> bytes:
    """The body of a /metrics answer."""
    return generate_latest(registry(store, thresholds))


def serve(address: str, store: HubStore, thresholds: fleet.Thresholds | None) -> bool:
    """Serve /metrics on ``address`` (HOST:PORT; "off" or "" for none) in a thread of this process.

    A port already taken (a second worker left on the default) is logged, not fatal: the ingest matters
    more than its figures."""
    if address.strip().lower() in ("", "off", "none", "0"):
        return False
    host, _, port = address.rpartition(":")
    try:
        start_http_server(int(port), addr=host.strip("[]") or "127.0.0.1", registry=registry(store, thresholds))
    except (ValueError, OSError) as exc:
        log.error("metrics not served on %s: %s", address, exc)
        return False
    log.info("Prometheus metrics on http://%s/metrics", address)
    return True
