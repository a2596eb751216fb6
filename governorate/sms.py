"""Sending the citizens' notifications: the dispatcher, the Kannel and webhook senders, and delivery reports.

The dispatcher (``governorate notify``) claims the notifications whose ``next_attempt_at`` has come, sends each
through one sender and records the outcome: ``sent`` (with the gateway's id when it gives one), else ``failed``
with the next attempt after an exponential back-off, and ``given_up`` after ``max_attempts``. Claiming is a
compare-and-set on ``next_attempt_at`` that also moves it a lease ahead, so two dispatchers never send one row
and a row whose dispatcher died is tried again when the lease ends.

Kannel (``bearerbox`` + ``smsbox``) is asked through smsbox's ``sendsms`` in UCS-2 (``coding=2``): it splits a
long text into concatenated parts itself. It reports delivery to the hub web's ``/notify/dlr`` (``dlr-url``),
each report signed for its own row with the hub's ``dlr_secret`` (``apply_dlr`` checks and applies it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from edge.core.errors import EdgeError
from governorate import notify
from governorate.notify import Notification, SendError, stamp
from governorate.store import HubStore

log = logging.getLogger("governorate.sms")

# Kannel's dlr-mask bits: 1 delivered, 2 not delivered, 4 buffered at the SMSC, 8 taken by the SMSC, 16 refused
# by the SMSC. 31 asks for all of them.
DLR_MASK = 31
DLR_FINAL = {1: "delivered", 2: "undelivered", 16: "undelivered"}
DLR_KNOWN = (1, 2, 4, 8, 16)
# A delivery report only means something for a row the gateway has been given (or is being given: Kannel can
# report before the dispatcher has recorded its answer).
DLR_APPLIES_TO = ("sending", "sent", "delivered", "undelivered")
SIGNATURE_HEADER = "X-MTC-Signature"


class NotifyConfigError(EdgeError):
    """The notification worker's settings do not make a sender."""

    code = "notify-config-invalid"

    def __init__(self, problem: str):
        super().__init__(f"إعدادات إرسال إشعارات المواطنين غير مكتملة: {problem}",
                         f"The citizen notification settings are incomplete: {problem}", detail=problem)


# --- delivery-report links ------------------------------------------------------------------------------------


def dlr_signature(secret: str, row_id: int) -> str:
    """The signature of one row's delivery-report link: a leaked link lets nobody report on another row."""
    return hmac.new(secret.encode(), f"dlr:{row_id}".encode(), hashlib.sha256).hexdigest()[:32]


def dlr_link(base: str, secret: str, row_id: int) -> str:
    """The dlr-url given to Kannel for a row; Kannel puts the report's status in place of %d."""
    return f"{base}{'&' if '?' in base else '?'}id={row_id}&sig={dlr_signature(secret, row_id)}&status=%d"


class DlrRefused(Exception):
    """A delivery report the hub does not apply; ``status`` is the HTTP answer (400, 403, 409)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


_ID = re.compile(r"[1-9][0-9]{0,17}")
_STATUS = re.compile(r"[0-9]{1,3}")


def apply_dlr(store: HubStore, secret: str | None, row_id: str | None, signature: str | None,
              status: str | None) -> str:
    """Apply a delivery report as the web endpoint received it (every value untrusted text); returns the row's
    state after it, or raises DlrRefused."""
    if not secret:
        raise DlrRefused(403, "delivery reports are not enabled (no notify.dlr_secret)")
    if not isinstance(row_id, str) or not _ID.fullmatch(row_id):
        raise DlrRefused(400, "id must be a notification number")
    if not isinstance(signature, str) or not hmac.compare_digest(signature.encode(),
                                                                 dlr_signature(secret, int(row_id)).encode()):
        raise DlrRefused(403, "bad signature")
    if not isinstance(status, str) or not _STATUS.fullmatch(status) or int(status) not in DLR_KNOWN:
        raise DlrRefused(400, f"status must be one of {DLR_KNOWN}")
    code, number = int(status), int(row_id)
    now = stamp(datetime.now(UTC))
    with store.transaction() as conn:
        row = conn.execute("SELECT state FROM notifications WHERE id = ?", [number]).fetchone()
        if row is None:
            raise DlrRefused(400, "no such notification")
        state = row[0]
        if state not in DLR_APPLIES_TO:
            raise DlrRefused(409, f"a {state} notification takes no delivery report")
        if code in DLR_FINAL and state != "delivered":  # delivered is final: a late report does not undo it
            state = DLR_FINAL[code]
        elif state == "sending":  # buffered or taken by the SMSC: the gateway has it
            state = "sent"
        conn.execute("UPDATE notifications SET state = ?, delivery_at = ?, next_attempt_at = NULL, "
                     "last_error = CASE WHEN ? = 'undelivered' THEN ? ELSE last_error END WHERE id = ?",
                     [state, now, state, f"delivery report {code}", number])
    return state


# --- senders --------------------------------------------------------------------------------------------------


def _http(request: urllib.request.Request, timeout_s: float, what: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310 - the configured gateway
            return answer.status, answer.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        body = exc.read(2048).decode("utf-8", "replace").strip()
        raise SendError(f"{what} answered HTTP {exc.code}: {body[:200]}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(f"{what} at {urlsplit(request.full_url).netloc} cannot be reached: {reason}") from None


@dataclass
class KannelSender:
    """Kannel's smsbox ``sendsms``: UCS-2, delivery reports to the hub when ``dlr_url`` is given."""

    url: str  # http://127.0.0.1:13013/cgi-bin/sendsms
    username: str
    password: str
    sender_id: str | None = None  # "from": what the citizen's phone shows (the operator may impose its own)
    dlr_url: str | None = None  # the hub web's /notify/dlr as Kannel reaches it
    dlr_secret: str | None = None
    timeout_s: float = 15.0
    name: str = "kannel"

    def send(self, notification: Notification) -> str | None:
        query = {"username": self.username, "password": self.password, "to": notification.mobile,
                 "text": notification.message, "coding": "2", "charset": "UTF-8"}
        if self.sender_id:
            query["from"] = self.sender_id
        if self.dlr_url and self.dlr_secret and notification.id is not None:
            query["dlr-mask"] = str(DLR_MASK)
            query["dlr-url"] = dlr_link(self.dlr_url, self.dlr_secret, notification.id)
        request = urllib.request.Request(f"{self.url}?{urlencode(query)}", method="GET")
        status, body = _http(request, self.timeout_s, "Kannel")
        text = body.decode("utf-8", "replace").strip()
        # smsbox answers 202 "0: Accepted for delivery" (or "3: Queued for later delivery" while its SMSC link is
        # down: bearerbox keeps it and sends it later). It gives no message id of its own.
        if status not in (200, 202):
            raise SendError(f"Kannel answered HTTP {status}: {text[:200]}")
        return None


@dataclass
class WebhookSender:
    """POST the notification as JSON to a URL (an operator's or aggregator's API, or a relay of your own), signed
    with HMAC-SHA256 of the body in ``X-MTC-Signature: sha256=<hex>``; any 2xx answer means it was taken."""

    url: str
    secret: str
    timeout_s: float = 15.0
    name: str = "webhook"

    def send(self, notification: Notification) -> str | None:
        body = json.dumps({"id": notification.id, "request_number": notification.request_number,
                           "to": notification.mobile, "text": notification.message, "parts": notification.parts,
                           "coding": "ucs2"}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: "sha256=" + webhook_signature(self.secret, body),
            # A retry after a lost answer carries the same key: the receiver can drop the repeat.
            "Idempotency-Key": f"mtc-notification-{notification.id}"})
        status, answer = _http(request, self.timeout_s, "The webhook")
        if not 200 <= status < 300:
            raise SendError(f"the webhook answered HTTP {status}")
        try:
            given = json.loads(answer).get("id") if answer.strip() else None
        except (ValueError, AttributeError):
            given = None
        return str(given)[:100] if given is not None else None


def webhook_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def make_sender(spec: str | None, store: HubStore, *, kannel_url: str | None = None,
                kannel_username: str | None = None, kannel_password: str | None = None,
                kannel_from: str | None = None, dlr_url: str | None = None, dlr_secret: str | None = None,
                webhook_url: str | None = None, webhook_secret: str | None = None) -> notify.Sender:
    """The sender the settings name: ``kannel``, ``webhook`` or a ``module:factory``."""
    if spec == "kannel":
        missing = [n for n, v in (("notify.kannel_url", kannel_url), ("notify.kannel_username", kannel_username),
                                  ("notify.kannel_password", kannel_password)) if not v]
        if missing:
            raise NotifyConfigError(f"the kannel sender needs {', '.join(missing)}")
        if bool(dlr_url) != bool(dlr_secret):
            raise NotifyConfigError("give both notify.dlr_url and notify.dlr_secret (delivery reports), or neither")
        return KannelSender(kannel_url, kannel_username, kannel_password, kannel_from, dlr_url, dlr_secret)
    if spec == "webhook":
        if not webhook_url or not webhook_secret:
            raise NotifyConfigError("the webhook sender needs notify.webhook_url and notify.webhook_secret")
        return WebhookSender(webhook_url, webhook_secret)
    if not spec:
        raise NotifyConfigError("no sender: set notify.sender to kannel, webhook or module:factory")
    return notify.load_sender(spec, store)


# --- the dispatcher -------------------------------------------------------------------------------------------


@dataclass
class Dispatcher:
    store: HubStore
    sender: notify.Sender
    max_attempts: int = 6
    retry_s: float = 60.0  # the wait after the first failure; doubled after each next one
    max_retry_s: float = 3600.0
    lease_s: float = 300.0  # a claimed row is due again after this, should its dispatcher die while sending
    batch: int = 50
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self):
        self.last_turn = time.monotonic()

    def backoff_s(self, attempts: int) -> float:
        """The wait before the next attempt after ``attempts`` failed ones."""
        return min(self.retry_s * 2 ** max(attempts - 1, 0), self.max_retry_s)

    def run_once(self) -> int:
        """Send every due notification once (at most ``batch``); returns how many were tried."""
        self.last_turn = time.monotonic()
        due = self.store._read("SELECT id FROM notifications WHERE next_attempt_at IS NOT NULL AND "
                               "next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                               [stamp(self.clock()), self.batch])
        tried = 0
        for (row_id,) in due:
            claimed = self._claim(row_id)
            if claimed is not None:
                self._send(*claimed)
                tried += 1
        return tried

    def run(self, stop: threading.Event, poll_s: float = 5.0) -> None:
        log.info("citizen notifications: sending through %s", getattr(self.sender, "name", type(self.sender)))
        while not stop.is_set():
            if self.run_once() < self.batch:
                stop.wait(poll_s)

    def hung(self, limit_s: float = 600.0) -> str | None:
        """Why the loop is stuck (the watchdog asks), or None while it turns."""
        idle = time.monotonic() - self.last_turn
        return f"no dispatch turn for {idle:.0f} s" if idle > limit_s else None

    def _claim(self, row_id: int) -> tuple[Notification, int] | None:
        now = self.clock()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT request_number, msisdn, message, parts, attempts, next_attempt_at "
                               "FROM notifications WHERE id = ?", [row_id]).fetchone()
            if row is None or row[5] is None or row[5] > stamp(now):
                return None  # another dispatcher took it meanwhile
            claimed = conn.execute(
                "UPDATE notifications SET state = 'sending', attempts = attempts + 1, next_attempt_at = ? "
                "WHERE id = ? AND next_attempt_at = ?",
                [stamp(now + timedelta(seconds=self.lease_s)), row_id, row[5]]).rowcount
        if not claimed:
            return None
        return Notification(row[0], row[1], row[2], row_id, row[3]), row[4] + 1

    def _send(self, note: Notification, attempt: int) -> None:
        name = getattr(self.sender, "name", type(self.sender).__name__)
        try:
            gateway_id = self.sender.send(note)
        except (SendError, OSError) as exc:
            self._failed(note, attempt, name, getattr(exc, "detail", None) or str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a sender's bug fails its row, not the worker and every other row
            log.exception("notification %s: the %s sender raised", note.id, name)
            self._failed(note, attempt, name, f"{type(exc).__name__}: {exc}")
            return
        with self.store.transaction() as conn:
            # A delivery report may have come first (Kannel reports within milliseconds): its state stays.
            conn.execute("UPDATE notifications SET state = CASE WHEN state = 'sending' THEN 'sent' ELSE state END, "
                         "next_attempt_at = CASE WHEN state = 'sending' THEN NULL ELSE next_attempt_at END, "
                         "gateway_id = ?, sent_at = ?, sent_by = ?, last_error = NULL WHERE id = ?",
                         [gateway_id, stamp(self.clock()), name, note.id])
        log.info("notification %s for %s: sent through %s (%s part(s))", note.id, note.request_number, name,
                 note.parts)

    def _failed(self, note: Notification, attempt: int, name: str, error: str) -> None:
        if attempt >= self.max_attempts:
            state, due = "given_up", None
        else:
            state, due = "failed", stamp(self.clock() + timedelta(seconds=self.backoff_s(attempt)))
        with self.store.transaction() as conn:
            conn.execute("UPDATE notifications SET state = ?, next_attempt_at = ?, last_error = ?, sent_by = ? "
                         "WHERE id = ? AND state = 'sending'", [state, due, error[:500], name, note.id])
        log.warning("notification %s for %s: attempt %s failed (%s)%s", note.id, note.request_number, attempt,
                    error, "; given up" if state == "given_up" else f"; next at {due}")
