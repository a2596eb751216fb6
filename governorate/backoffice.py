"""Back-office actions: find requests, decide on them (sent down to the van), publish catalogue and trust lists."""

from __future__ import annotations

import functools
import json
import logging
from datetime import UTC, date, datetime
from typing import Protocol

from edge.core import catalogue as catalogue_mod
from edge.core import national_id as nid
from edge.core import requests as rq
from edge.core import workdays
from edge.core.errors import EdgeError
from edge.core.localtime import VAN_TZ
from edge.sync import protocol as p
from edge.sync import schema
from governorate import fleet, notify, refusals
from governorate.ingest import PUBLICATION_KINDS, Downlink, Hub
from governorate.staff import audit
from governorate.store import HubStore, now_iso, parse_iso

log = logging.getLogger("governorate.backoffice")

DECISIONS = ("under_review", "ready", "rejected")
COMMANDS = p.COMMANDS
STATE_LABELS = {
    "submitted": ("مُقدَّم", "Submitted"), "received": ("وصل إلى المحافظة", "Received"),
    "under_review": ("قيد المراجعة", "Under review"), "ready": ("جاهز", "Ready"),
    "rejected": ("مرفوض", "Rejected"), "delivered": ("تم التسليم", "Delivered"), "draft": ("مسودة", "Draft"),
    "cancelled": ("أُلغي في العربة", "Cancelled at the van"),
}


class Downlinker(Protocol):
    """governorate.ingest.Hub: ``record`` in the caller's transaction, ``publish`` after the commit."""

    def record(self, conn, van: str, message: p.DownMessage) -> Downlink: ...

    def publish(self, downlink: Downlink) -> None: ...


class OfficeError(EdgeError):
    code = "office"


# Requests the governorate has not decided yet: what a due date binds.
OPEN_STATES = fleet.OPEN_REQUEST_STATES
DUE = ("overdue", "soon")
SOON_WORKING_DAYS = 2  # "due soon": due today or within this many working days


def due_window(today: date | None = None, calendar: workdays.Calendar | None = None) -> tuple[str, str]:
    """(today, the last day "due soon" covers), as ISO dates in the van's time zone (Cairo)."""
    today = today or datetime.now(VAN_TZ).date()
    calendar = calendar or workdays.load_default()
    return today.isoformat(), calendar.due_date(today, SOON_WORKING_DAYS).isoformat()


def search(store: HubStore, text: str = "", state: str = "", van: str = "", limit: int = 100, due: str = "",
           today: date | None = None) -> list[dict]:
    """Requests matching the text, state and van; ``due``: "overdue" (not decided, past its due date) or "soon"
    (not decided, due within SOON_WORKING_DAYS working days), earliest due first."""
    sql = ("SELECT number, van, service_code, state, submitted_at, updated_at, "
           "json_extract(body, '$.citizen.name'), json_extract(body, '$.citizen.national_id'), due_on "
           "FROM requests WHERE 1=1")
    params: list = []
    text = text.strip()
    if text:
        like = f"%{text}%"
        sql += (" AND (number LIKE ? OR json_extract(body, '$.citizen.name') LIKE ? "
                "OR json_extract(body, '$.citizen.national_id') LIKE ? OR json_extract(body, '$.citizen.mobile') "
                "LIKE ? OR service_code LIKE ?)")
        params += [like] * 5
    if state:
        sql, params = sql + " AND state = ?", [*params, state]
    if van:
        sql, params = sql + " AND van = ?", [*params, van]
    first, last = due_window(today, calendar_in_force(store))
    if due in DUE:
        sql += f" AND state IN ({', '.join('?' * len(OPEN_STATES))}) AND due_on IS NOT NULL"
        params += list(OPEN_STATES)
        if due == "overdue":
            sql, params = sql + " AND due_on < ?", [*params, first]
        else:
            sql, params = sql + " AND due_on >= ? AND due_on <= ?", [*params, first, last]
        sql += " ORDER BY due_on, submitted_at LIMIT ?"
    else:
        sql += " ORDER BY submitted_at DESC LIMIT ?"
    keys = ("number", "van", "service_code", "state", "submitted_at", "updated_at", "name", "national_id", "due_on")
    rows = [dict(zip(keys, r, strict=True)) for r in store._read(sql, [*params, limit])]
    for row in rows:
        open_ = row["state"] in OPEN_STATES and row["due_on"]
        row["due"] = "overdue" if open_ and row["due_on"] < first else "soon" if open_ and row["due_on"] <= last else ""
    return rows


def request(store: HubStore, number: str) -> dict | None:
    rows = store._read("SELECT number, van, service_code, state, body, submitted_at, updated_at FROM requests "
                       "WHERE number = ?", [number])
    if not rows:
        return None
    keys = ("number", "van", "service_code", "state", "body", "submitted_at", "updated_at")
    item = dict(zip(keys, rows[0], strict=True))
    item["body"] = json.loads(item["body"])
    item["documents"] = [dict(zip(("doc_id", "size", "completed_at", "sha256"), r, strict=True)) for r in store._read(
        "SELECT doc_id, size, completed_at, sha256 FROM documents WHERE van = ? AND request_number = ? ORDER BY doc_id",
        [item["van"], number])]
    item["history"] = [dict(zip(("at", "actor", "action", "details"), r, strict=True)) for r in store._read(
        "SELECT at, actor, action, details FROM staff_audit WHERE subject = ? ORDER BY id", [number])]
    for h in item["history"]:  # a decision is shown in words (from → to, the reason), anything else as recorded
        try:
            details = json.loads(h["details"]) if h["details"] else None
        except (TypeError, ValueError):
            details = None
        h["decision"] = details if h["action"] == "request.decide" and isinstance(details, dict) else None
    item["downlinks"] = [dict(zip(("msg_id", "kind", "created_at", "applied_at", "outcome"), r, strict=True))
                         for r in store._read(
        "SELECT d.msg_id, d.kind, d.created_at, d.applied_at, d.outcome FROM downlinks d "
        "WHERE d.van = ? AND d.kind = 'request-status' ORDER BY d.msg_id", [item["van"]])
        if _downlink_number(store, r[0]) == number]
    item["next"] = [s for s in DECISIONS if rq.can_transition(rq.RequestState(item["state"]), rq.RequestState(s))]
    item["refund"] = next((body for body in (json.loads(r[0]) for r in store._read(
        "SELECT body FROM messages WHERE van = ? AND kind = 'request.refunded'", [item["van"]]))
        if body.get("number") == number), None)
    # What the clerk decides with (issue 18, finding 7): the service by its name, the citizen's ID masked.
    catalogue = catalogue_in_force(store)  # one read of the publications for the whole page
    item["service"] = _service(catalogue, item["service_code"])
    # Each scanned page by its document's name and number (schema 2: request.submitted lists the pages by sha256),
    # and the documents the operator saw in the original.
    names = {d.code: (d.name_ar, d.name_en) for s in catalogue.services for d in s.documents}
    pages = {p.get("sha256"): p for p in item["body"].get("pages") or [] if isinstance(p, dict)}
    for doc in item["documents"]:
        page = pages.get(doc["sha256"]) or {}
        doc["doc_code"], doc["page"] = page.get("doc_code"), page.get("page")
        doc["name"] = names.get(doc["doc_code"]) if doc["doc_code"] else None
    item["documents"].sort(key=lambda d: (d["doc_code"] is None, d["doc_code"] or "", d["page"] or 0, d["doc_id"]))
    seen = set(item["body"].get("originals_seen") or [])
    wanted = item["service"].documents if item["service"] else ()
    item["originals"] = None if "originals_seen" not in item["body"] else [
        {"code": d.code, "name": (d.name_ar, d.name_en), "mandatory": d.mandatory, "seen": d.code in seen}
        for d in wanted] + [{"code": c, "name": names.get(c, (c, c)), "mandatory": False, "seen": True}
                            for c in sorted(seen - {d.code for d in wanted})]
    national_id = str((item["body"].get("citizen") or {}).get("national_id") or "")
    item["national_id_masked"] = nid.mask(national_id) if len(national_id) == 14 else national_id
    return item


def catalogue_in_force(store: HubStore) -> catalogue_mod.Catalogue:
    """The newest catalogue this hub published (as it went down to the vans), else the one shipped."""
    rows = store._read("SELECT payload FROM downlinks WHERE kind = 'catalog' ORDER BY created_at DESC, msg_id DESC "
                       "LIMIT 1")
    if rows:
        return _published(bytes(rows[0][0]))
    return catalogue_mod.load_default()


def calendar_in_force(store: HubStore) -> workdays.Calendar:
    """The newest public holidays this hub published (as they went down to the vans), else the shipped ones. Read
    through the small publications table, so the request list does not search the downlinks at every call."""
    version = store._read("SELECT max(version) FROM publications WHERE kind = 'calendar'")[0][0]
    return workdays.load_default() if version is None else _published_calendar(store, version)


def _published_calendar(store: HubStore, version: int) -> workdays.Calendar:
    import cbor2

    cached = _CALENDARS.get((str(store.path), version))
    if cached is not None:
        return cached
    rows = store._read("SELECT payload FROM downlinks WHERE kind = 'calendar' ORDER BY created_at DESC, msg_id DESC "
                       "LIMIT 1")
    try:
        found = workdays.loads(cbor2.loads(rows[0][0])["body"]["text"], "published holidays")
    except IndexError:
        return workdays.load_default()  # published to no van yet: nothing went down, the vans count as shipped
    except (workdays.CalendarError, KeyError, TypeError, ValueError) as exc:
        # Checked when published; a newer hub may read the stored text more strictly. Due dates then count with
        # the shipped calendar, and staff must publish it again.
        log.warning("the published holidays (version %s) no longer read (%s); counting with the shipped ones",
                    version, exc)
        return workdays.load_default()
    _CALENDARS[(str(store.path), version)] = found
    return found


_CALENDARS: dict[tuple[str, int], workdays.Calendar] = {}


@functools.lru_cache(maxsize=4)
def _published(payload: bytes) -> catalogue_mod.Catalogue:
    import cbor2

    try:
        return catalogue_mod.from_dict(cbor2.loads(payload)["body"]["data"], source="published catalogue")
    except (EdgeError, KeyError, TypeError, ValueError):
        return catalogue_mod.load_default()


def _service(catalogue: catalogue_mod.Catalogue, code: str):
    """The catalogue's service ``code`` (names in Arabic and English), or None for a code it does not know."""
    try:
        return catalogue.service(code)
    except EdgeError:
        return None


def _downlink_number(store: HubStore, msg_id: str) -> str | None:
    import cbor2

    payload = store._read("SELECT payload FROM downlinks WHERE msg_id = ?", [msg_id])[0][0]
    try:
        return cbor2.loads(payload)["body"]["number"]
    except (KeyError, TypeError, ValueError):
        return None


def decide(store: HubStore, sender: Downlinker, number: str, state: str, reason: str | None, actor: str) -> str:
    """Move a request to ``state``, send the decision down to its van, notify the citizen; returns the downlink id."""
    item = request(store, number)
    if item is None:
        raise OfficeError("الطلب غير موجود.", "No such request.", detail=number)
    if state not in DECISIONS:
        raise OfficeError("قرار غير معروف.", "Unknown decision.", detail=state)
    reason = (reason or "").strip() or None
    if state == "rejected" and not reason:
        raise OfficeError("اكتب سبب الرفض؛ سيقرؤه المواطن.",
                          "Write the reason for the rejection; the citizen reads it.")
    if not rq.can_transition(rq.RequestState(item["state"]), rq.RequestState(state)):
        _, decided_by = _last_decision(store._read, number)
        if decided_by:  # most often another clerk decided since this page was drawn: say who
            now_ar, now_en = STATE_LABELS.get(item["state"], (item["state"], item["state"]))
            raise OfficeError(f"قرّر {decided_by} في هذا الطلب («{now_ar}»)، ولا يمكن نقله إلى الحالة المطلوبة.",
                              f"{decided_by} has already decided this request ({now_en}); it cannot move to "
                              "this state from there.", detail=f"{item['state']} -> {state}")
        raise OfficeError("لا يمكن نقل الطلب إلى هذه الحالة من حالته الحالية.",
                          "The request cannot move to this state from its current one.",
                          detail=f"{item['state']} -> {state}")
    at = datetime.now(UTC).isoformat()
    with store.transaction() as conn:
        # The hub's own view moves at once; the van's report of the same change later agrees with it.
        # The decision, its audit and its downlink commit together: none is recorded without the others.
        # Compare-and-set: the state read above must still be the state now, or another clerk decided in
        # between (two browsers, two web workers); then nothing is recorded, sent or notified.
        # decided_at: the first ready/rejected decision, what the performance screens time (issue 19, m006).
        changed = conn.execute("UPDATE requests SET state = ?, updated_at = ?, decided_at = CASE WHEN decided_at IS "
                               "NULL AND ? IN ('ready', 'rejected') THEN ? ELSE decided_at END "
                               "WHERE number = ? AND state = ?",
                               [state, at, state, at, number, item["state"]]).rowcount
        if not changed:
            raise _decided_meanwhile(conn, number)
        audit(conn, actor, "request.decide", number, {"from": item["state"], "to": state, "reason": reason})
        downlink = sender.record(conn, item["van"], p.RequestStatus(number, state, reason, at))
    sender.publish(downlink)
    msg_id = downlink.msg_id
    notify.notify(store, number, item["body"].get("citizen", {}).get("mobile"), state, reason)
    return msg_id


def _last_decision(read, number: str) -> tuple[str, str | None]:
    """The request's state now and the staff member who last decided on it (None if nobody has);
    ``read(sql, params)`` is ``store._read``, or the caller's transaction."""
    rows = read("SELECT r.state, a.actor FROM requests r LEFT JOIN staff_audit a ON a.subject = r.number "
                "AND a.action = 'request.decide' WHERE r.number = ? ORDER BY a.id DESC LIMIT 1", [number])
    return (rows[0][0], rows[0][1]) if rows else ("?", None)


def _decided_meanwhile(conn, number: str) -> OfficeError:
    state, who = _last_decision(lambda sql, params: conn.execute(sql, params).fetchall(), number)
    who = who or "?"
    ar, en = STATE_LABELS.get(state, (state, state))
    return OfficeError(f"قرّر {who} في هذا الطلب للتو («{ar}»)، ولم يُرسَل قرارك. حدِّث الصفحة لترى حالته.",
                       f"{who} has just decided this request ({en}); your decision was not sent. "
                       "Reload the page to see where it stands.",
                       detail=f"{number}: now {state}, decided by {who}")


def vans(store: HubStore, retired: bool = False) -> list[str]:
    """The vans in service: those publications and commands go to. ``retired``: those taken out of service too
    (their requests are still searched)."""
    return [r[0] for r in store._read("SELECT van FROM vans " + ("" if retired else "WHERE retired_at IS NULL ")
                                      + "ORDER BY van")]


def command(store: HubStore, sender: Downlinker, van: str, name: str, args: dict, actor: str) -> str:
    if name not in COMMANDS:
        raise OfficeError("أمر غير معروف.", "Unknown command.", detail=name)
    with store.transaction() as conn:
        # In the transaction, the van's row locked (PostgreSQL): a `vans remove` running meanwhile is waited for,
        # and a van it retired or removed is refused, not sent a command.
        row = conn.execute("UPDATE vans SET retired_at = retired_at WHERE van = ? RETURNING retired_at",
                           [van]).fetchone()
        if row is None:
            raise OfficeError("الوحدة غير معروفة.", "Unknown van.", detail=van)
        if row[0] is not None:
            raise OfficeError("هذه الوحدة خارج الخدمة: لا تُرسل إليها أوامر (governorate vans add يعيدها).",
                              "This van is retired: no commands are sent to it (governorate vans add brings it back).",
                              detail=van)
        downlink = sender.record(conn, van, p.Command(name, args))
        audit(conn, actor, "van.command", van, {"name": name, "args": args, "msg_id": downlink.msg_id})
    sender.publish(downlink)
    return downlink.msg_id


def publish_catalogue(store: HubStore, sender: Downlinker, text: str, actor: str) -> tuple[int, int]:
    """Validate a catalogue (TOML as shipped, or JSON of ``to_dict``) and send it to every van."""
    try:
        stripped = text.lstrip()
        if stripped.startswith("{"):
            cat = catalogue_mod.from_dict(json.loads(text), source="uploaded catalogue")
        else:
            cat = catalogue_mod.loads(text, source="uploaded catalogue")
    except EdgeError:
        raise
    except (ValueError, ArithmeticError, TypeError) as exc:  # the validator's own errors are EdgeErrors
        raise OfficeError("ملف الدليل غير صالح.", "The catalogue file is not valid.", detail=str(exc)) from None
    last = store._read("SELECT max(version) FROM publications WHERE kind = 'catalog'")[0][0] or 0
    if cat.version <= last:
        raise OfficeError(f"يجب أن يكون الإصدار أحدث من {last}.", f"The version must be newer than {last}.",
                          detail=str(cat.version))
    data = catalogue_mod.to_dict(cat)
    with store.transaction() as conn:  # one commit for every van's copy, not one each
        targets = _targets(conn)
        downlinks = [sender.record(conn, van, p.Catalog(cat.version, data)) for van in targets]
        conn.execute("INSERT INTO publications (kind, version, size, vans, actor, at) "
                     "VALUES ('catalog', ?, ?, ?, ?, ?)",
                     [cat.version, len(text.encode()), len(targets), actor, now_iso()])
        audit(conn, actor, "publish.catalog", f"v{cat.version}", {"vans": len(targets)})
    for downlink in downlinks:
        sender.publish(downlink)
    return cat.version, len(targets)


def publish_holidays(store: HubStore, sender: Downlinker, text: str, actor: str) -> tuple[int, int]:
    """Validate a public-holidays file (edge/core/data/holidays.toml's form) and send it to every van, which count
    the due dates of new requests with it; returns (version, vans)."""
    if len(text) > schema.CALENDAR_MAX_CHARS:
        raise OfficeError("ملف العطلات كبير جدًا.", "The holidays file is too large.", detail=str(len(text)))
    try:
        cal = workdays.loads(text, "uploaded holidays")
    except workdays.CalendarError as exc:
        raise OfficeError("ملف العطلات غير صالح: راجع التواريخ والأسماء بالعربية والإنجليزية.",
                          "The holidays file is not valid: check its dates and its Arabic and English names.",
                          detail=str(exc)) from None
    last = store._read("SELECT max(version) FROM publications WHERE kind = 'calendar'")[0][0] or 0
    if cal.version <= last:
        raise OfficeError(f"يجب أن يكون الإصدار أحدث من {last}.", f"The version must be newer than {last}.",
                          detail=str(cal.version))
    with store.transaction() as conn:
        targets = _targets(conn)
        downlinks = [sender.record(conn, van, p.Calendar(cal.version, text)) for van in targets]
        conn.execute("INSERT INTO publications (kind, version, size, vans, actor, at) "
                     "VALUES ('calendar', ?, ?, ?, ?, ?)",
                     [cal.version, len(text.encode()), len(targets), actor, now_iso()])
        audit(conn, actor, "publish.calendar", f"v{cal.version}", {"vans": len(targets)})
    for downlink in downlinks:
        sender.publish(downlink)
    return cal.version, len(targets)


def publish_trust_list(store: HubStore, sender: Downlinker, blob: bytes, actor: str) -> int:
    """Send a signed trust/revocation list to every van; each van checks the signature against its CA."""
    if not blob or len(blob) > 200_000:
        raise OfficeError("ملف قائمة الثقة فارغ أو كبير جدًا.", "The trust list file is empty or too large.",
                          detail=str(len(blob)))
    with store.transaction() as conn:
        targets = _targets(conn)
        downlinks = [sender.record(conn, van, p.TrustList(blob)) for van in targets]
        conn.execute("INSERT INTO publications (kind, version, size, vans, actor, at) "
                     "VALUES ('trust-list', NULL, ?, ?, ?, ?)",
                     [len(blob), len(targets), actor, now_iso()])
        audit(conn, actor, "publish.trust-list", None, {"vans": len(targets), "bytes": len(blob)})
    for downlink in downlinks:
        sender.publish(downlink)
    return len(targets)


class QueueOnly:
    """A Downlinker with no broker (the command line): records as the hub does, in the caller's transaction; the van
    is sent what was recorded at its next birth (Hub.resend_pending_downlinks)."""

    record = Hub.record  # uses nothing of the hub but the transaction it is given

    def publish(self, downlink: Downlink) -> None:
        pass


def queue_latest(conn, van: str, sender: Downlinker | None = None) -> list[str]:
    """Queue for ``van`` the newest of each publication (trust list, catalogue, holidays) it does not hold yet: a van
    added (fleet.register) missed those published before, a retired van brought back those published while it was
    out. One whose counter went back while it was retired (its database restored: the hub sends a retired van
    nothing, Hub.resend_applied_downlinks) may have lost what it had applied: it is queued a fresh copy of each,
    unless one still waits for it. In the caller's transaction, before the van's retired_at is cleared; returns the
    kinds queued."""
    sender = sender or QueueOnly()
    queued = []
    row = conn.execute("SELECT retired_at, session_back_at FROM vans WHERE van = ?", [van]).fetchone()
    retired, went_back = (parse_iso(row[0]), parse_iso(row[1])) if row else (None, None)
    restored = retired is not None and went_back is not None and went_back >= retired
    for kind in PUBLICATION_KINDS:
        newest = conn.execute("SELECT van, payload FROM downlinks WHERE kind = ? ORDER BY created_at DESC, msg_id DESC "
                              "LIMIT 1", [kind]).fetchone()
        if newest is None:
            continue
        own = conn.execute("SELECT payload, applied_at, outcome, error FROM downlinks WHERE kind = ? AND van = ? "
                           "ORDER BY created_at DESC, msg_id DESC LIMIT 1", [kind, van]).fetchone()
        try:
            message = p.decode_down(bytes(newest[1]), van=newest[0], kind=kind).message
            if own is not None and p.decode_down(bytes(own[0]), van=van, kind=kind).message == message:
                if not (restored and own[1] is not None):
                    continue  # it had it before it was retired (or it still waits for it: sent at its next birth)
                if own[2] == "rejected" and not refusals.holds_it(own[3]):
                    continue  # it refused it (it would again), other than as not newer than its own
        except p.ProtocolError as exc:  # stored by an older hub, no longer read: staff publish it again
            log.warning("the newest %s published no longer reads (%s): not queued for %s", kind, exc.detail, van)
            continue
        sender.publish(sender.record(conn, van, message))
        queued.append(kind)
    return queued


def _targets(conn) -> list[str]:
    """The vans a publication goes to, read in its transaction (not before it: a van retired meanwhile is left out;
    one retired while it commits has its copy held until it is back, store.pending_downlinks)."""
    return [r[0] for r in conn.execute("SELECT van FROM vans WHERE retired_at IS NULL ORDER BY van").fetchall()]


def publications(store: HubStore) -> list[dict]:
    return [dict(zip(("kind", "version", "size", "vans", "actor", "at"), r, strict=True)) for r in store._read(
        "SELECT kind, version, size, vans, actor, at FROM publications ORDER BY id DESC LIMIT 20")]


def van_downlinks(store: HubStore, van: str, limit: int = 20) -> list[dict]:
    """The van's latest downlinks; ``held``: not applied, and newer than the van's software reads (it waits);
    ``payload``: a command's bytes (None for any other kind)."""
    keys = ("msg_id", "kind", "created_at", "applied_at", "outcome", "error", "held", "payload")
    return [dict(zip(keys, r, strict=True)) for r in store._read(
        "SELECT d.msg_id, d.kind, d.created_at, d.applied_at, d.outcome, d.error, "
        "CASE WHEN d.applied_at IS NULL AND v.schema IS NOT NULL AND d.schema > v.schema THEN 1 ELSE 0 END, "
        "CASE WHEN d.kind = 'command' THEN d.payload END "  # which command; an update's chunks are not read
        "FROM downlinks d LEFT JOIN vans v ON v.van = d.van WHERE d.van = ? "
        "ORDER BY d.msg_id DESC LIMIT ?", [van, limit])]
