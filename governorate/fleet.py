"""What the monitoring screens show: each van's state from presence and telemetry, alerts, history for charts."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from edge.core import requests as rq
from edge.core.errors import EdgeError
from edge.core.localtime import VAN_TZ
from edge.sync import schema
from governorate import quarantine
from governorate.admission import figure
from governorate.staff import audit
from governorate.store import HubStore, now_iso, parse_iso
from governorate.updates import ACTIVE as ACTIVE_OFFERS

log = logging.getLogger("governorate.fleet")

ALERT_KINDS = {
    "offline": ("الوحدة غير متصلة", "Van offline"),
    "camera": ("كاميرا مظلمة أو متجمدة", "Camera dark or frozen"),
    "backlog": ("بيانات متأخرة لم تُرسل", "Unsent backlog too old"),
    "printer": ("الطابعة بلا ورق أو معطلة", "Printer out of paper or failing"),
    "quarantine": ("رسائل مرفوضة من الوحدة", "Van messages refused (quarantine)"),
    "conflict": ("رقم طلب أُرسل مرة أخرى بمحتوى مختلف", "Request number sent again with other content"),
    "overdue": ("طلبات تجاوزت موعدها القانوني دون قرار", "Requests past their legal due date, undecided"),
    "session": ("عدّاد اتصال الوحدة رجع إلى الوراء: هل استُعيدت قاعدة بياناتها من نسخة احتياطية؟",
                "The van's connection counter went back: was its database restored from a backup?"),
    "software": ("فشل تحديث والإصدار السابق لا يعمل أيضًا: تحتاج الوحدة إلى فني",
                 "An update failed and the version before it does not come up either: the van needs a technician"),
    # Heard from since it was retired (governorate vans remove): it works, stores citizens' transactions, and no
    # other screen shows it. Bring it back (vans add) or stop it (provision van revoke).
    "retired": ("الوحدة خارج الخدمة وما زالت ترسل بيانات", "A retired van is sending"),
}
# Requests not decided yet — those the van may still cancel — are what a due date binds.
OPEN_REQUEST_STATES = tuple(s.value for s in rq.RequestState if rq.cancellable(s))
CONFLICT_ALERT_DAYS = 7
DEVICE_KINDS = ("printer", "scanner", "qr", "camera")


@dataclass(frozen=True)
class Thresholds:
    offline_alert_min: float = 10.0   # offline longer than this raises an alert
    silent_after_s: float = 180.0     # "online" but nothing heard for this long: shown as silent
    backlog_alert_h: float = 2.0      # oldest unsent row older than this raises an alert


def _first(values: dict, *names: str):
    for name in names:
        if values.get(name) is not None:
            return values[name]
    return None


def _text(value) -> str | None:
    return value[:64] if isinstance(value, str) else None


def _count(value: float | None) -> int | None:
    return int(value) if value is not None else None


def devices(values: dict) -> list[dict]:
    """Device states from a telemetry snapshot: keys ``device.<name>`` → ok/warning/error/unknown."""
    found = []
    for key, state in sorted(values.items()):
        if not key.startswith("device.") or key.count(".") > 1:
            continue  # "device.gps.lat" is a figure of the gps device, not a device state
        name = key[len("device."):]
        kind = next((k for k in DEVICE_KINDS if name.startswith(k)), "other")
        # The watch sends what is wrong beside the state, e.g. "camera_front.fault" = "dark" / "frozen".
        fault = values.get(f"{name}.fault") or None
        found.append({"name": name, "kind": kind, "state": str(state), "fault": fault})
    return found


def local_day_start(now: datetime) -> str:
    """The start of today in Cairo, as a UTC ISO text comparable with stored times."""
    local = now.astimezone(VAN_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC).isoformat()


def overview(store: HubStore, thresholds: Thresholds, now: datetime | None = None,
             retired: bool = False) -> list[dict]:
    """Every van in service, as the live screens show it; ``retired``: those taken out of service too (status
    "retired": their own page, the vans list)."""
    now = now or datetime.now(UTC)
    today = local_day_start(now)
    counts: dict[str, dict[str, int]] = {}
    for van, kind, n in store._read(
            "SELECT van, kind, count(*) FROM messages WHERE created_at >= ? AND kind IN "
            "('request.submitted', 'ticket.issued') "
            # A transfer re-queues the same citizen under the same number (a ticket.issued with transferred_from):
            # one citizen, one ticket.
            "AND (kind = 'request.submitted' OR json_extract(body, '$.transferred_from') IS NULL) "
            "GROUP BY van, kind", [today]):
        counts.setdefault(van, {})[kind] = n
    waits: dict[str, tuple[float | None, float | None]] = {}
    wait_sql = store.seconds_between("json_extract(body, '$.issued_at')", "json_extract(body, '$.called_at')")
    service_sql = store.seconds_between("json_extract(body, '$.started_at')", "json_extract(body, '$.finished_at')")
    for van, wait, service in store._read(
            f"SELECT van, avg({wait_sql}), avg({service_sql}) FROM messages "
            "WHERE kind = 'ticket.finish' AND created_at >= ? GROUP BY van", [today]):
        waits[van] = (float(wait) if wait is not None else None, float(service) if service is not None else None)
    open_alerts = {}
    for van, n in store._read("SELECT van, count(*) FROM alerts WHERE cleared_at IS NULL GROUP BY van"):
        open_alerts[van] = n
    vans = []
    for van, online, session, last_seen, telemetry, telemetry_at, retired_at in store._read(
            "SELECT van, online, session, last_seen, telemetry, telemetry_at, retired_at FROM vans "
            + ("" if retired else "WHERE retired_at IS NULL ") + "ORDER BY van"):
        values = json.loads(telemetry) if telemetry else {}
        seen = parse_iso(last_seen)
        silent_s = (now - seen).total_seconds() if seen else None
        if last_seen is None:
            status = "never"  # registered (governorate vans add), nothing heard from it yet
        elif not online:
            status = "offline"
        elif silent_s is not None and silent_s > thresholds.silent_after_s:
            status = "silent"
        else:
            status = "online"
        # Retired (governorate vans remove of a van with a history): "presence" is what it would show otherwise
        # (its page: "retired · online").
        presence, status = status, "retired" if retired_at else status
        # The watch's GPS and modem rows carry {lat, lon} and {signal (ModemManager %), operator};
        # the snapshot names them by device (docs/monitoring.md), with or without the "device." prefix.
        # Figures are read only where they are numbers in range (admission.FIGURES): what the hub
        # stored before it checked them cannot break a page.
        wait, service = waits.get(van, (None, None))
        lat, lon = figure(values, "lat"), figure(values, "lon")
        if lat is None or lon is None:  # a position needs both (a snapshot with a latitude alone has none)
            lat = lon = None
        vans.append({
            # 0 is the column's default: no birth heard yet (never connected), so no session to show.
            "van": van, "status": status, "online": bool(online), "session": session or None,
            "last_seen": last_seen, "silent_s": silent_s, "telemetry_at": telemetry_at,
            "lat": lat,
            "lon": lon,
            "rsrp": figure(values, "rsrp"),
            "signal_pct": figure(values, "signal_pct"),
            "operator": _text(_first(values, "lte.operator", "modem.operator", "device.modem.operator")),
            "backlog": _count(figure(values, "backlog")),
            "backlog_age_s": figure(values, "backlog_age_s"),
            "devices": devices(values),
            "update_last": values["update.last"][:200] if isinstance(values.get("update.last"), str) else None,
            "requests_today": counts.get(van, {}).get("request.submitted", 0),
            "tickets_today": counts.get(van, {}).get("ticket.issued", 0),
            "avg_wait_s": wait, "avg_service_s": service,
            "alerts": open_alerts.get(van, 0), "retired_at": retired_at, "presence": presence,
        })
    return vans


def _check_ids(vans: list[str]) -> None:
    bad = [v for v in vans if not schema.is_van_id(v)]
    if bad:
        raise FleetError(f"«{bad[0][:40]}» ليس رقم وحدة: حرف V ثم ثلاثة أرقام، مثل V007.",
                         f"'{bad[0][:40]}' is not a van id: V followed by 3 digits, e.g. V007.")


class Registered(list):
    """The vans ``register`` added or brought back (a list, sorted), with ``back``: those brought back,
    ``skipped``: retired vans of the ``listed`` ids left as they are, ``early``: vans in service already (heard from
    before they were added) that ``on_back`` queued something they lacked, and ``queued``: van → the kinds
    ``on_back`` queued it."""

    def __init__(self, vans: list[str], back: list[str], skipped: list[str], early: list[str] | None = None,
                 queued: dict[str, list[str]] | None = None):
        super().__init__(vans)
        self.back, self.skipped, self.early, self.queued = back, skipped, early or [], queued or {}


def register(store: HubStore, vans: list[str], actor: str = "cli", details: dict | None = None,
             listed: list[str] | tuple[str, ...] = (),
             on_back: Callable[[object, str], list[str]] | None = None) -> Registered:
    """Add ``vans`` to the fleet before they have sent anything (the overview lists them as never connected), or
    put a retired one back in service; returns those that were new or back. A van in service is left as it is.
    ``listed``: ids from a list (the broker's access list): new ones are added, but a retired one is not brought
    back — only its id named in ``vans`` does that (``skipped``). ``on_back(conn, van)``: called in the
    transaction for each van added or brought back (a brought-back one while its row still says when it was
    retired) — backoffice.queue_latest queues it the newest trust list, catalogue and holidays: published before it
    was added, while it was out, or lost by a restore while it was out (the command line passes it; this module
    cannot import the back office) — and for each van in service already: it skips each kind the van holds the
    newest of, and queues a van that connected before it was added (the ingest made its row) what was published
    before it connected. PostgreSQL: retried, as the ingest's batch, when it conflicts with an ingest worker.
    Each change is in the staff audit (``actor``; ``details`` added to each record, e.g. the OS user)."""
    _check_ids([*vans, *listed])
    for attempt in range(6):
        try:
            return _register(store, vans, actor, details, listed, on_back)
        except Exception as exc:
            if attempt == 5 or not store.retryable(exc):
                raise
            log.info("vans add conflicted with an ingest worker (%s); retrying", exc)  # as Hub._process does
    raise AssertionError("unreachable")


def _register(store: HubStore, vans: list[str], actor: str, details: dict | None, listed: list[str] | tuple[str, ...],
              on_back: Callable[[object, str], list[str]] | None) -> Registered:
    named, every = set(vans), set(vans) | set(listed)
    with store.transaction() as conn:
        # One pass over all the vans, in order — the ingest's order (its first statement inserts or locks all the
        # batch's vans, sorted), so the two never wait for each other crosswise (PostgreSQL: a deadlock). Each row
        # is locked until the end if it exists, else inserted (locked too): an ingest worker storing a birth of one
        # of them waits, and then finds it back in service (its going-back re-sent as for any van), instead of
        # finding it retired while on_back decides from what it read before that birth. A row the ingest inserted
        # meanwhile (the INSERT waits for its commit, then does nothing) is locked by the second UPDATE.
        new = []
        for van in sorted(every):
            if conn.execute("UPDATE vans SET retired_at = retired_at WHERE van = ?", [van]).rowcount:
                continue
            if conn.execute("INSERT INTO vans (van) VALUES (?) ON CONFLICT (van) DO NOTHING", [van]).rowcount == 1:
                new.append(van)
            else:
                conn.execute("UPDATE vans SET retired_at = retired_at WHERE van = ?", [van])
        rows = conn.execute("SELECT van, retired_at, last_seen FROM vans").fetchall()
        known = {v: retired for v, retired, _seen in rows if v in every and v not in new}
        heard = {v for v, _retired, seen in rows if seen is not None}
        back = sorted(v for v in named if known.get(v))
        skipped = sorted(v for v in set(listed) - named if known.get(v))
        in_service = sorted(v for v, retired in known.items() if not retired)
        queued: dict[str, list[str]] = {}
        for van in new:
            queued[van] = on_back(conn, van) if on_back else []  # the latest publications, as a van brought back
            audit(conn, actor, "van.add", van, {**(details or {}), "queued": queued[van]} if queued[van] else details)
        for van in back:
            queued[van] = on_back(conn, van) if on_back else []  # before: it reads when the van was retired
            conn.execute("UPDATE vans SET retired_at = NULL WHERE van = ?", [van])
            audit(conn, actor, "van.add", van, {**(details or {}), "retired_at": known[van],
                                                **({"queued": queued[van]} if queued[van] else {})})
        # A van in service already: queue_latest skips each kind it holds the newest of (a no-op for an ordinary
        # van); one heard from before it was added (the ingest made its row) lacks what was published before it
        # connected — even if a later publication, a staff command or counters went to it since.
        early = []
        for van in in_service:
            queued[van] = on_back(conn, van) if on_back else []
            if queued[van]:
                early += [van] if van in heard else []  # "connected before being added": only one heard from
                audit(conn, actor, "van.add", van, {**(details or {}), "heard_before": van in heard,
                                                    "queued": queued[van]})
    return Registered(sorted(new + back), back, skipped, early, {v: q for v, q in queued.items() if q})


# What the hub holds of a van once it has been heard from: requests, documents, shifts, refused messages… A van
# with a row in any of these has a history; one without never connected, and nothing but its registration (and the
# words queued for it) is lost by removing it.
HISTORY_TABLES = ("messages", "quarantine", "requests", "documents", "doc_chunks", "shifts", "request_conflicts",
                  "telemetry_history", "thumbnails", "parked_states")
# What a van that never connected can have: its registration, what publications queued for it, alerts, an offer.
REGISTRATION_TABLES = ("downlinks", "alerts", "update_offers", "vans")


@dataclass(frozen=True)
class Removed:
    removed: list[str]   # never connected: gone, with the downlinks queued for them
    retired: list[str]   # heard from: kept for their history, out of service
    already: list[str]   # retired before: nothing changed
    dropped: dict[str, int] = field(default_factory=dict)  # removed van → how many queued downlinks went with it


def remove(store: HubStore, vans: list[str], actor: str = "cli", details: dict | None = None) -> Removed:
    """Take ``vans`` out of the fleet. One that never connected is removed, with what was queued for it; one the
    hub holds data of is retired: its requests, documents and shifts stay (other records name it), the live
    screens, alerts, publications and rollouts leave it out, and ``register`` puts it back. All or nothing: an id
    that is not a van's, or a van not in the fleet, changes nothing."""
    _check_ids(vans)
    wanted = sorted(set(vans))
    with store.transaction() as conn:
        # The rows first (PostgreSQL: locked until the end): an ingest worker storing a first message of one of
        # them waits, and then finds it gone (and adds it back as heard from) or retired.
        rows = {}
        for van in wanted:
            row = conn.execute("UPDATE vans SET retired_at = retired_at WHERE van = ? RETURNING last_seen, retired_at",
                               [van]).fetchone()
            if row is None:
                raise FleetError(f"الوحدة {van} ليست في الأسطول (governorate vans list يعرضها): لم يُحذف شيء.",
                                 f"{van} is not a van of the fleet (see governorate vans list); nothing was removed.")
            rows[van] = row
        out = Removed([], [], [])
        at = now_iso()
        for van in wanted:
            last_seen, retired_at = rows[van]
            if retired_at:
                out.already.append(van)
                continue
            heard = last_seen is not None or any(
                conn.execute(f"SELECT 1 FROM {table} WHERE van = ? LIMIT 1", [van]).fetchone()
                for table in HISTORY_TABLES)
            if heard:
                conn.execute("UPDATE vans SET retired_at = ? WHERE van = ?", [at, van])
                # A release on its way stops as a staff withdrawal stops it (pump_all sends no more chunks).
                withdrawn = conn.execute("UPDATE update_offers SET state = 'withdrawn' WHERE van = ? AND state IN "
                                         f"({', '.join('?' * len(ACTIVE_OFFERS))})", [van, *ACTIVE_OFFERS]).rowcount
                audit(conn, actor, "van.retire", van,
                      {**(details or {}), "offer_withdrawn": True} if withdrawn else details)
                out.retired.append(van)
            else:
                queued = conn.execute("SELECT count(*) FROM downlinks WHERE van = ?", [van]).fetchone()[0]
                for table in REGISTRATION_TABLES:
                    conn.execute(f"DELETE FROM {table} WHERE van = ?", [van])
                audit(conn, actor, "van.remove", van, {**(details or {}), "downlinks": queued})
                out.dropped[van] = queued
                out.removed.append(van)
    return out


def broker_vans(text: str) -> list[str]:
    """The vans the governorate broker admits, from its access list (``dynamic-security.json``, which
    ``provision van enrol`` keeps: every van with a valid certificate)."""
    try:
        clients = json.loads(text)["clients"]
        names = [c["username"] for c in clients]
    except (ValueError, KeyError, TypeError):
        raise FleetError("هذا الملف ليس قائمة صلاحيات الوسيط (dynamic-security.json).",
                         "This file is not the broker's access list (dynamic-security.json).") from None
    return sorted({n for n in names if isinstance(n, str) and schema.is_van_id(n)})


class FleetError(EdgeError):
    code = "fleet"


def evaluate_alerts(store: HubStore, thresholds: Thresholds, now: datetime | None = None) -> None:
    """Raise alerts for conditions true now, clear the ones no longer true (an acknowledgement stays on record)."""
    now = now or datetime.now(UTC)
    active: dict[tuple[str, str], str] = {}
    for v in overview(store, thresholds, now):
        seen = parse_iso(v["last_seen"])
        if not v["online"] and seen and now - seen > timedelta(minutes=thresholds.offline_alert_min):
            active[(v["van"], "offline")] = f"last seen {seen.astimezone(VAN_TZ):%Y-%m-%d %H:%M} (Cairo)"
        for d in v["devices"]:
            if d["state"] in ("error", "warning") and d["kind"] in ("camera", "printer"):
                active[(v["van"], d["kind"])] = f"{d['name']}: {d['fault'] or d['state']}"
        if (v["update_last"] or "").startswith(schema.ROLLED_BACK_UNHEALTHY):
            active[(v["van"], "software")] = v["update_last"][:200]
        age = v["backlog_age_s"]
        if age is not None and age > thresholds.backlog_alert_h * 3600:
            active[(v["van"], "backlog")] = f"oldest unsent {age / 3600:.1f} h, {v['backlog']} rows"
    for van, last_seen, retired_at in store._read(
            "SELECT van, last_seen, retired_at FROM vans WHERE retired_at IS NOT NULL AND last_seen IS NOT NULL"):
        seen, retired = parse_iso(last_seen), parse_iso(retired_at)
        if seen and retired and seen > retired:
            active[(van, "retired")] = (f"retired {retired.astimezone(VAN_TZ):%Y-%m-%d %H:%M}, last heard "
                                        f"{seen.astimezone(VAN_TZ):%Y-%m-%d %H:%M} (Cairo): governorate vans add "
                                        f"brings it back, provision van revoke stops it")
    since = (now - timedelta(hours=quarantine.ALERT_WINDOW_H)).isoformat()
    for van, n in quarantine.recent_counts(store, since).items():
        active[(van, "quarantine")] = f"{n} message(s) refused in the last {quarantine.ALERT_WINDOW_H} h"
    for van, n in store._read("SELECT van, count(*) FROM request_conflicts WHERE received_at >= ? GROUP BY van",
                              [(now - timedelta(days=CONFLICT_ALERT_DAYS)).isoformat()]):
        active[(van, "conflict")] = f"{n} request number(s) sent again with other content"
    # A van whose connection counter went back (governorate/ingest.py, _presence): what else went back with its
    # database — request numbers it may issue again (the "conflict" alert), downlinks it had applied — needs a look.
    for van, text in store._read("SELECT van, session_back FROM vans WHERE session_back_at >= ?",
                                 [(now - timedelta(days=CONFLICT_ALERT_DAYS)).isoformat()]):
        try:
            back = json.loads(text)
            at = parse_iso(back["at"])
            active[(van, "session")] = (f"connection counter {back['from']} → {back['to']}, "
                                        f"{at.astimezone(VAN_TZ):%Y-%m-%d %H:%M} (Cairo)")
        except (ValueError, KeyError, TypeError, AttributeError):
            active[(van, "session")] = "connection counter went back"
    # Issue 19: a request past its due date (its legal duration in working days) with no decision yet.
    today = now.astimezone(VAN_TZ).date().isoformat()
    for van, n, oldest in store._read(
            f"SELECT van, count(*), min(due_on) FROM requests WHERE state IN "
            f"({', '.join('?' * len(OPEN_REQUEST_STATES))}) AND due_on < ? GROUP BY van",
            [*OPEN_REQUEST_STATES, today]):
        active[(van, "overdue")] = f"{n} request(s) past their due date, the oldest due {oldest}"
    at = now.isoformat()
    open_rows = {(van, kind): (i, detail) for i, van, kind, detail in
                 store._read("SELECT id, van, kind, detail FROM alerts WHERE cleared_at IS NULL")}
    raise_ = {k: d for k, d in active.items() if k not in open_rows}
    update = {open_rows[k][0]: d for k, d in active.items() if k in open_rows and open_rows[k][1] != d}
    clear = [i for k, (i, _) in open_rows.items() if k not in active]
    if not (raise_ or update or clear):
        return  # the common case on every refresh: no write, no fsync
    with store.transaction() as conn:
        for (van, kind), detail in raise_.items():
            # OR IGNORE: another web thread may have raised the same alert a moment ago.
            conn.execute("INSERT OR IGNORE INTO alerts (van, kind, detail, raised_at) VALUES (?, ?, ?, ?)",
                         [van, kind, detail, at])
        for alert_id, detail in update.items():
            conn.execute("UPDATE alerts SET detail = ? WHERE id = ?", [detail, alert_id])
        for alert_id in clear:
            conn.execute("UPDATE alerts SET cleared_at = ? WHERE id = ?", [at, alert_id])


def alerts(store: HubStore, van: str | None = None, include_cleared: bool = False, limit: int = 200) -> list[dict]:
    sql = "SELECT id, van, kind, detail, raised_at, cleared_at, acked_by, acked_at FROM alerts WHERE 1=1"
    params: list = []
    if van:
        sql, params = sql + " AND van = ?", [*params, van]
    if not include_cleared:
        sql += " AND cleared_at IS NULL"
    sql += " ORDER BY raised_at DESC LIMIT ?"
    keys = ("id", "van", "kind", "detail", "raised_at", "cleared_at", "acked_by", "acked_at")
    result = []
    for row in store._read(sql, [*params, limit]):
        item = dict(zip(keys, row, strict=True))
        item["label_ar"], item["label_en"] = ALERT_KINDS.get(item["kind"], (item["kind"], item["kind"]))
        result.append(item)
    return result


def acknowledge(store: HubStore, alert_id: int, who: str) -> bool:
    from governorate.staff import audit

    with store.transaction() as conn:
        changed = conn.execute("UPDATE alerts SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_by IS NULL",
                               [who, now_iso(), alert_id]).rowcount
        if changed:
            audit(conn, who, "alert.ack", str(alert_id))
    return bool(changed)


def history(store: HubStore, van: str, now: datetime | None = None, hours: int = 24) -> dict:
    """Series for the van page: requests per hour, backlog over time, each camera's uptime share."""
    now = now or datetime.now(UTC)
    since = now - timedelta(hours=hours)
    per_hour = [0] * hours
    for (submitted,) in store._read("SELECT submitted_at FROM requests WHERE van = ? AND submitted_at >= ?",
                                    [van, since.isoformat()]):
        at = parse_iso(submitted)
        if at:
            index = int((at - since).total_seconds() // 3600)
            if 0 <= index < hours:
                per_hour[index] += 1
    backlog: list[tuple[float, float]] = []
    cams: dict[str, list[int]] = {}
    for at_text, values_text in store._read(
            'SELECT at, "values" FROM telemetry_history WHERE van = ? AND at >= ? ORDER BY at',
            [van, since.isoformat()]):
        at, values = parse_iso(at_text), json.loads(values_text)
        if at is None:
            continue
        hours_ago = (at - since).total_seconds() / 3600
        pending = figure(values, "backlog")
        if pending is not None:
            backlog.append((hours_ago, float(pending)))
        for d in devices(values):
            if d["kind"] == "camera":
                ok = cams.setdefault(d["name"], [0, 0])
                ok[0] += d["state"] == "ok"
                ok[1] += 1
    uptime = {name: round(100 * good / total) for name, (good, total) in sorted(cams.items()) if total}
    return {"hours": hours, "since": since, "requests_per_hour": per_hour, "backlog": backlog,
            "camera_uptime": uptime}


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)
