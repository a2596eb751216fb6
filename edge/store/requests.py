"""Service requests in the van database: submission (with citizen, outbox and audit rows), status changes and
cancellation at the van."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from edge.core import requests as rq
from edge.core.catalogue import Catalogue
from edge.core.citizens import Citizen
from edge.core.digits import eastern_run
from edge.core.errors import EdgeError
from edge.core.shifts import ShiftClosed
from edge.store import audit_log, calendars, clock, device_status, outbox
from edge.store.db import transaction


class UnknownRequest(EdgeError):
    code = "request-unknown"

    def __init__(self, number: str):
        super().__init__(
            f"لا يوجد طلب بالرقم {eastern_run(number)} في هذه العربة. راجع الرقم المطبوع على الإيصال.",
            f"There is no request number {number} in this van. Check the number printed on the receipt.",
            detail=f"no row for {number}",
        )


class DailyLimitReached(EdgeError):
    code = "request-daily-limit"

    def __init__(self, day):
        super().__init__(
            "بلغت العربة الحد الأقصى لعدد الطلبات اليوم. سجّل الطلب غدًا أو في مركز ثابت.",
            "This van has reached its maximum number of requests for today. Register the request "
            "tomorrow or at a fixed centre.",
            detail=f"request sequence for {day} exhausted ({rq.MAX_SEQ})",
        )


class UnknownState(EdgeError):
    code = "request-unknown-state"

    def __init__(self, state: str):
        super().__init__(
            "وصلت حالة طلب غير معروفة من المحافظة، ولم تُسجَّل.",
            "An unknown request state arrived from the governorate; it was not recorded.",
            detail=f"unknown state {state!r}",
        )


# Who changed a request: the governorate (downlink decisions) or the van itself (hand-over).
SOURCES = ("hub", "van")


@dataclass(frozen=True)
class StoredRequest:
    number: str
    service_code: str
    catalogue_version: int
    state: rq.RequestState
    fee_piastres: int
    payment_method: str
    payment_reference: str | None
    operator: str
    created_at: str
    updated_at: str
    expected_ready_on: str
    state_reason: str | None
    citizen_name: str
    citizen_national_id: str
    citizen_mobile: str | None
    history: tuple[dict, ...]


# A GPS fix older than this at intake says nothing of where the van stands now (it may have driven since).
FIX_MAX_AGE_S = 900


def intake_location(db: sqlite_utils.Database, now: datetime) -> dict | None:
    """Where the van stands, from the GPS watch's last reading (device_status "gps"): {"lat", "lon", "fix_age_s"}
    when its last fix is at most FIX_MAX_AGE_S old now, else None (no receiver, no fix, or the watch stopped)."""
    status = device_status.get(db, "gps")
    if status is None or not isinstance(status.detail, dict):
        return None
    try:
        lat, lon = status.detail["latitude"], status.detail["longitude"]
        age = float(status.detail.get("fix_age_s") or 0.0) + \
            (now - datetime.fromisoformat(status.updated_at)).total_seconds()
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(lat, int | float) and isinstance(lon, int | float) and -90 <= lat <= 90
            and -180 <= lon <= 180) or not 0 <= age <= FIX_MAX_AGE_S:
        return None
    return {"lat": round(float(lat), 6), "lon": round(float(lon), 6), "fix_age_s": round(age)}


def submit(
    db: sqlite_utils.Database,
    *,
    van_id: str,
    catalogue: Catalogue,
    service_code: str,
    citizen: Citizen,
    payment: rq.Payment,
    operator: str,
    now: datetime | None = None,
    training: bool = False,
    confirmed_by: str | None = None,
    originals_seen: list[str] | None = None,
    pages: list[dict] | None = None,
    shift_id: int | None = None,
) -> rq.RequestNumber:
    """Register a paid request: citizen, request, history, outbox and audit rows in one transaction.

    ``training``: the console is in training mode (its own database): the number comes from the training
    series (9001–9999), which no real request ever has. ``confirmed_by``: the supervisor who confirmed an
    assessed amount (required for such a service; its fee is then the amount confirmed). ``originals_seen``
    (document codes the operator ticked) and ``pages`` (``doc_code``, ``page``, ``sha256`` of each scanned page)
    travel with ``request.submitted`` for the clerk at the governorate. ``shift_id``: the operator's open shift,
    whose drawer took the fee (checked open inside the transaction: ShiftClosed otherwise)."""
    now = now or clock.now()
    service = catalogue.service(service_code)
    rq.check_payment(payment, service.fee_piastres, assessed_max=service.fee_max_piastres,
                     confirmed_by=confirmed_by)
    fee = payment.amount_piastres if service.fee_assessed else service.fee_piastres
    state = rq.transition(rq.RequestState.DRAFT, rq.RequestState.SUBMITTED)
    day = clock.local_day(now)
    at = clock.iso(now)
    with transaction(db):
        # Working days, not calendar days, by the holidays the governorate published last (or the shipped ones).
        expected = calendars.in_force(db).due_date(day, service.duration_days)
        _require_open_shift(db, shift_id)
        number = rq.RequestNumber(rq.van_number(van_id), day, _next_seq(db, day, training))
        citizen_id = _upsert_citizen(db, citizen, at)
        db.execute(
            "INSERT INTO requests (number, day, seq, service_code, catalogue_version, citizen_id, citizen_name, "
            "state, fee_piastres, payment_method, payment_reference, paid_piastres, operator, created_at, "
            "updated_at, expected_ready_on, shift_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [str(number), day.isoformat(), number.seq, service.code, catalogue.version, citizen_id,
             citizen.name, state.value, fee, payment.method.value, payment.reference,
             payment.amount_piastres, operator, at, at, expected.isoformat(), shift_id],
        )
        _history(db, str(number), state, at, "van", None)
        outbox.enqueue(db, "tx", "request.submitted", {
            "number": str(number),
            "van": van_id,
            "service_code": service.code,
            "catalogue_version": catalogue.version,
            "citizen": {
                "national_id": citizen.national_id.number,
                "name": citizen.name,
                "mobile": citizen.mobile,
                "birth_date": citizen.national_id.birth_date.isoformat(),
                "gender": citizen.national_id.gender.value,
            },
            "fee_piastres": fee,
            "payment": {"method": payment.method.value, "amount_piastres": payment.amount_piastres,
                        "reference": payment.reference},
            "operator": operator,
            "submitted_at": at,
            "expected_ready_on": expected.isoformat(),
            "originals_seen": [str(c)[:32] for c in (originals_seen or []) if str(c)][:50],
            "pages": list(pages or []),
            "location": intake_location(db, now),
        }, now=now)
        audit_log.record(db, actor=operator, action="request.submit", subject=str(number),
                         details={"service": service.code, "fee_piastres": fee,
                                  "payment": payment.method.value}, now=now)
        if service.fee_assessed:
            audit_log.record(db, actor=confirmed_by, action="payment.assessed_confirmed", subject=str(number),
                             details={"amount_piastres": fee, "operator": operator}, now=now)
    return number


def change_state(
    db: sqlite_utils.Database,
    number: str,
    target: rq.RequestState | str,
    *,
    source: str,
    reason: str | None = None,
    actor: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Move a request to ``target``; returns False when it is already there (a repeated message).

    ``source`` is "hub" for decisions arriving on the downlink (already known to the governorate,
    so nothing is queued up) or "van" for changes made here, such as handing the document over,
    which are audited and reported up the ``tx`` stream.
    """
    now = now or clock.now()
    at = clock.iso(now)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    try:
        target = rq.RequestState(target)
    except ValueError:
        raise UnknownState(str(target)) from None
    with transaction(db):
        row = db.execute("SELECT state FROM requests WHERE number = ?", [number]).fetchone()
        if row is None:
            raise UnknownRequest(number)
        if row[0] == target.value:
            return False
        rq.transition(rq.RequestState(row[0]), target)
        db.execute(
            "UPDATE requests SET state = ?, state_reason = ?, updated_at = ? WHERE number = ?",
            [target.value, reason, at, number],
        )
        _history(db, number, target, at, source, reason)
        if source == "van":
            outbox.enqueue(db, "tx", "request.state", {"number": number, "state": target.value,
                                                        "reason": reason, "at": at}, now=now)
            audit_log.record(db, actor=actor or "system", action=f"request.{target.value}",
                             subject=number, details={"reason": reason} if reason else {}, now=now)
    return True


def cancel(
    db: sqlite_utils.Database,
    number: str,
    reason: str,
    *,
    actor: str,
    confirmed_by: str | None = None,
    shift_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Cancel a request at the van, before the governorate has decided; returns the reason as recorded.

    The request closes as cancelled with the reason. A paid one is refunded: ``confirmed_by``, the supervisor
    who confirmed it, is required, and the refund (the amount paid, how it was paid) is recorded. One
    transaction: the state change, its history and outbox rows and audit entry, the refund, and the audit
    entries of the cancellation and the refund — the state is read inside it, so a decision arriving
    meanwhile wins cleanly. ``shift_id``: the open shift whose drawer pays the refund back. Raises
    UnknownRequest, then CancelReasonMissing or NotCancellable
    (edge.core.requests.cancel_reason), then RefundNeedsSupervisor.
    """
    now = now or clock.now()
    with transaction(db):
        row = db.execute("SELECT state, paid_piastres, payment_method FROM requests WHERE number = ?",
                         [number]).fetchone()
        if row is None:
            raise UnknownRequest(number)
        reason = rq.cancel_reason(rq.RequestState(row[0]), reason)
        paid, method = row[1], row[2]
        if paid and not confirmed_by:
            raise rq.RefundNeedsSupervisor(paid)
        if paid:
            _require_open_shift(db, shift_id)
        change_state(db, number, rq.RequestState.CANCELLED, source="van", reason=reason, actor=actor, now=now)
        audit_log.record(db, actor=actor, action="request.cancel", subject=number, details={"reason": reason},
                         now=now)
        if paid:
            db.execute("INSERT INTO refunds (number, amount_piastres, method, reason, operator, confirmed_by, at, "
                       "shift_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [number, paid, method, reason, actor, confirmed_by, clock.iso(now), shift_id])
            audit_log.record(db, actor=confirmed_by, action="request.refund", subject=number,
                             details={"amount_piastres": paid, "method": method, "operator": actor}, now=now)
            outbox.enqueue(db, "tx", "request.refunded", {
                "number": number, "amount_piastres": paid, "method": method, "reason": reason, "operator": actor,
                "confirmed_by": confirmed_by, "at": clock.iso(now)}, now=now)
    return reason


def _require_open_shift(db: sqlite_utils.Database, shift_id: int | None) -> None:
    """A fee or a refund goes into an open shift (when the caller names one): a shift closed meanwhile, from
    another tab, refuses the money instead of changing a Z-report already printed."""
    if shift_id is None:
        return
    row = db.execute("SELECT state FROM shifts WHERE id = ?", [shift_id]).fetchone()
    if row is None or row[0] != "open":
        raise ShiftClosed(shift_id)


def refund_of(db: sqlite_utils.Database, number: str) -> dict | None:
    """The refund of a cancelled paid request, if any."""
    row = db.execute("SELECT amount_piastres, method, reason, operator, confirmed_by, at FROM refunds "
                     "WHERE number = ?", [number]).fetchone()
    keys = ("amount_piastres", "method", "reason", "operator", "confirmed_by", "at")
    return dict(zip(keys, row, strict=True)) if row else None


def get(db: sqlite_utils.Database, number: str) -> StoredRequest:
    row = db.execute(
        "SELECT r.number, r.service_code, r.catalogue_version, r.state, r.fee_piastres, r.payment_method, "
        "r.payment_reference, r.operator, r.created_at, r.updated_at, r.expected_ready_on, r.state_reason, "
        "r.citizen_name, c.national_id, c.mobile FROM requests r JOIN citizens c ON c.id = r.citizen_id "
        "WHERE r.number = ?",
        [number],
    ).fetchone()
    if row is None:
        raise UnknownRequest(number)
    history = tuple(
        {"state": s, "at": a, "source": src, "reason": why}
        for s, a, src, why in db.execute(
            "SELECT state, at, source, reason FROM request_history WHERE request_number = ? ORDER BY id",
            [number],
        ).fetchall()
    )
    return StoredRequest(*row[:3], rq.RequestState(row[3]), *row[4:], history=history)


def raise_counters(db: sqlite_utils.Database, highest: dict) -> None:
    """Raise each day's request counter to at least ``highest[day]`` (a real request sequence the governorate holds of
    this van: the database went back, docs/protocol.md "Sessions and the last will"); never lowers one."""
    with transaction(db):
        for day, seq in highest.items():
            db.execute("INSERT INTO request_counters (day, last_seq) VALUES (?, ?) "
                       "ON CONFLICT(day) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
                       [day.isoformat(), seq])


def _next_seq(db: sqlite_utils.Database, day, training: bool = False) -> int:
    """The day's next number: 1–9000 for real requests, 9001–9999 in training mode (its own database)."""
    n = db.execute(
        "INSERT INTO request_counters (day, last_seq) VALUES (?, 1) "
        "ON CONFLICT(day) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
        [day.isoformat()],
    ).fetchone()[0]
    first, last = (rq.TRAINING_FIRST_SEQ, rq.MAX_SEQ) if training else (1, rq.MAX_REAL_SEQ)
    seq = first - 1 + n
    if seq > last:
        raise DailyLimitReached(day)
    return seq


def _upsert_citizen(db: sqlite_utils.Database, citizen: Citizen, at: str) -> int:
    nid = citizen.national_id
    return db.execute(
        "INSERT INTO citizens (national_id, name, mobile, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(national_id) DO UPDATE SET name = excluded.name, "
        "mobile = coalesce(excluded.mobile, mobile), updated_at = excluded.updated_at RETURNING id",
        [nid.number, citizen.name, citizen.mobile, at, at],
    ).fetchone()[0]


def _history(db, number: str, state: rq.RequestState, at: str, source: str, reason: str | None) -> None:
    db.execute(
        "INSERT INTO request_history (request_number, state, at, source, reason) VALUES (?, ?, ?, ?, ?)",
        [number, state.value, at, source, reason],
    )
