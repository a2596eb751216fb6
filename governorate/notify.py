"""Citizen notifications on a request's status change, through a pluggable sender (an SMS gateway in production).

The default sender only writes the notification to the hub's ``notifications`` table. To plug in a
gateway, give the web app ``NOTIFIER = "package.module:factory"``: ``factory(store)`` returns an
object with ``send(notification) -> str`` (the state to record, e.g. ``"sent"`` or ``"failed"``).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Protocol

from governorate.store import HubStore, now_iso

log = logging.getLogger("governorate.notify")

MESSAGES_AR = {
    "under_review": "طلبكم رقم {number} قيد المراجعة لدى المحافظة.",
    "ready": "طلبكم رقم {number} جاهز. يرجى الاستلام من المركز التكنولوجي المتنقل.",
    "rejected": "نأسف، رُفض طلبكم رقم {number}. السبب: {reason}",
}


@dataclass(frozen=True)
class Notification:
    request_number: str
    mobile: str | None
    message: str


class Sender(Protocol):
    def send(self, notification: Notification) -> str: ...


class TableSender:
    """Default: nothing leaves the building; the record is what an SMS gateway would be given."""

    name = "table"

    def __init__(self, store: HubStore):
        self.store = store

    def send(self, notification: Notification) -> str:
        return "queued"


def message_for(number: str, state: str, reason: str | None) -> str | None:
    template = MESSAGES_AR.get(state)
    return template.format(number=number, reason=reason or "—") if template else None


def load_sender(spec: str | None, store: HubStore) -> Sender:
    if not spec:
        return TableSender(store)
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)(store)


def notify(store: HubStore, sender: Sender, number: str, mobile: str | None, state: str,
           reason: str | None) -> None:
    text = message_for(number, state, reason)
    if text is None:
        return
    note = Notification(number, mobile, text)
    try:
        outcome = sender.send(note)
    except Exception as exc:  # noqa: BLE001 - a gateway outage must not undo the decision already sent
        log.warning("notification for %s failed: %s", number, exc)
        outcome = "failed"
    with store.transaction() as conn:
        conn.execute("INSERT INTO notifications (request_number, mobile, message, state, created_at, sent_by) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     [number, mobile, text, outcome, now_iso(), getattr(sender, "name", type(sender).__name__)])
