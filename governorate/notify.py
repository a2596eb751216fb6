"""Citizen notifications on a request's status change: queued with the decision, sent later by the dispatcher.

A decision never waits for an SMS gateway: ``notify()`` only writes the message to the ``notifications`` table
(state ``queued``, due at once). The notification worker (``governorate notify``, governorate/sms.py) claims the
due rows, sends each through a ``Sender`` (Kannel, an HTTP webhook, or a ``module:factory`` of your own) and
records what happened; states and back-off are described in docs/governorate.md, "Citizen notifications".

A sender is an object with ``name`` and ``send(notification) -> str | None``: it returns the gateway's id for
the message (None when the gateway gives none) once the gateway has taken it, and raises ``SendError`` (or
``OSError``) when it has not; the dispatcher then tries again later.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from edge.core import phone
from edge.core.errors import EdgeError
from governorate.store import HubStore, now_iso

log = logging.getLogger("governorate.notify")

MESSAGES_AR = {
    "under_review": "طلبكم رقم {number} قيد المراجعة لدى المحافظة.",
    "ready": "طلبكم رقم {number} جاهز. يرجى الاستلام من المركز التكنولوجي المتنقل.",
    "rejected": "نأسف، رُفض طلبكم رقم {number}. السبب: {reason}",
}

# Arabic needs UCS-2 (GSM 03.38 has no Arabic letters): 70 characters fit one SMS; a longer text is sent as
# concatenated parts, each losing 3 characters to the header that joins them again on the phone.
UCS2_SINGLE, UCS2_PART = 70, 67
# A citizen's SMS is at most this many parts (670 characters), what Kannel's sendsms-user allows (max-messages =
# 10; a longer text it would cut without a word). A rejection reason (at most 500 characters on the link) fits whole
# today; should one not, it is cut here and the message says the details are at the centre.
MAX_PARTS = 10
CUT_AR = "… والتفاصيل كاملة لدى المركز التكنولوجي."

# Every state a notification row can be in (the staff pages name each in Arabic and English).
STATES = {
    "queued": ("في الانتظار", "queued"),
    "sending": ("يُرسل الآن", "sending"),
    "sent": ("أُرسلت إلى البوابة", "sent to the gateway"),
    "failed": ("فشل الإرسال، ستُعاد المحاولة", "failed, will retry"),
    "given_up": ("توقفت المحاولات", "given up"),
    "delivered": ("وصلت إلى المواطن", "delivered"),
    "undelivered": ("لم تصل", "not delivered"),
    "no_mobile": ("لا يوجد رقم محمول صالح", "no valid mobile number"),
    "not_sent": ("لم تُرسل (قبل ربط البوابة)", "not sent (before the gateway)"),
}


@dataclass(frozen=True)
class Notification:
    request_number: str
    mobile: str | None  # as the dispatcher sends it: international, 20XXXXXXXXXX
    message: str
    id: int | None = None  # the notifications row (the delivery report names it)
    parts: int = 1


class SendError(EdgeError):
    """The gateway did not take the message; the dispatcher retries later."""

    code = "notify-send-failed"

    def __init__(self, detail: str):
        super().__init__("لم تقبل بوابة الرسائل الرسالة؛ ستُعاد المحاولة.",
                         "The SMS gateway did not take the message; it will be tried again.", detail=detail)


class Sender(Protocol):
    name: str

    def send(self, notification: Notification) -> str | None: ...


class TableSender:
    """No gateway: the message stays in the table. The dispatcher given this one records why nothing left."""

    name = "table"

    def __init__(self, store: HubStore | None = None):
        self.store = store

    def send(self, notification: Notification) -> str | None:
        raise SendError("no SMS gateway is configured (notify.sender in the hub's settings)")


def message_for(number: str, state: str, reason: str | None) -> str | None:
    """The citizen's SMS for a decision, at most ``MAX_PARTS`` SMS long: a rejection's reason too long for that is
    cut, and the message says the rest is at the centre (the SMS gateway cuts longer texts itself, and each part is
    paid for)."""
    template = MESSAGES_AR.get(state)
    if template is None:
        return None
    text = template.format(number=number, reason=reason or "—")
    if ucs2_parts(text) <= MAX_PARTS:
        return text
    room = MAX_PARTS * UCS2_PART - _units(template.format(number=number, reason="")) - _units(CUT_AR)
    kept, used = [], 0
    for ch in reason or "":
        used += _units(ch)
        if used > room:
            break
        kept.append(ch)
    return template.format(number=number, reason="".join(kept).rstrip() + CUT_AR)


def _units(text: str) -> int:
    return len(text.encode("utf-16-be")) // 2


def ucs2_parts(text: str) -> int:
    """How many SMS ``text`` takes in UCS-2 (UTF-16 code units: a character outside the BMP counts twice)."""
    units = _units(text)
    return 1 if units <= UCS2_SINGLE else -(-units // UCS2_PART)


def msisdn(mobile: str | None) -> str | None:
    """An Egyptian mobile number as an SMS gateway dials it (20 + the 10 digits after the 0), or None."""
    if not mobile:
        return None
    try:
        return "20" + phone.parse(mobile)[1:]
    except phone.InvalidMobile:
        return None


def load_sender(spec: str | None, store: HubStore) -> Sender:
    """A ``module:factory`` sender (``factory(store)``); none named: the TableSender."""
    if not spec:
        return TableSender(store)
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)(store)


def stamp(moment: datetime) -> str:
    """A time as the notifications table keeps it: one fixed format, so the text sorts as the time does."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def notify(store: HubStore, number: str, mobile: str | None, state: str, reason: str | None) -> int | None:
    """Queue the citizen's SMS for a decision; returns the notifications row (None: no message for ``state``).

    Sending is the dispatcher's job (``governorate notify``), so a gateway that is slow or down never holds up (or
    undoes) a decision. A request without a usable mobile number is recorded as ``no_mobile`` at once, never
    tried."""
    text = message_for(number, state, reason)
    if text is None:
        return None
    to = msisdn(mobile)
    if to:
        row_state, due, error = "queued", stamp(datetime.now(UTC)), None
    else:
        row_state, due = "no_mobile", None
        error = "no mobile number" if not mobile else f"not an Egyptian mobile number: {mobile!r}"
    with store.transaction() as conn:
        row = conn.execute(
            "INSERT INTO notifications (request_number, mobile, message, state, created_at, sent_by, msisdn, parts, "
            "attempts, next_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id",
            [number, mobile, text, row_state, now_iso(), "", to, ucs2_parts(text), due, error]).fetchone()
    if row_state == "no_mobile":
        log.info("notification for %s not sent: %s", number, error)
    return row[0]


def for_request(store: HubStore, number: str) -> list[dict]:
    """The request's notifications, oldest first, as the request page shows them."""
    keys = ("id", "message", "state", "attempts", "parts", "last_error", "created_at", "sent_at", "delivery_at",
            "next_attempt_at", "sent_by", "msisdn")
    rows = store._read(f"SELECT {', '.join(keys)} FROM notifications WHERE request_number = ? ORDER BY id", [number])
    return [dict(zip(keys, r, strict=True)) for r in rows]
