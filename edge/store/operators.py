"""Operator accounts of the console: argon2-hashed PINs, PIN checks with lock-out, every login audited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from edge.core.digits import to_ascii, to_eastern
from edge.core.errors import EdgeError
from edge.store import audit_log, clock
from edge.store.db import transaction

MAX_FAILED_PINS = 5
LOCK_DURATION = timedelta(minutes=15)
PIN_MIN, PIN_MAX = 4, 8
ROLES = ("operator", "supervisor")

# argon2id with the library's defaults (RFC 9106 "low memory" profile): ~50 ms per check on the van.
DEFAULT_HASHER = PasswordHasher()


class LoginRefused(EdgeError):
    """Wrong number or PIN. The same message for both, so the screen does not reveal who exists."""

    code = "operator-login-refused"

    def __init__(self, left: int | None = None, detail: str = ""):
        tail_ar = tail_en = ""
        if left is not None and 0 < left < MAX_FAILED_PINS:
            tail_ar = f" بقيت {to_eastern(left)} محاولات قبل إيقاف الحساب مؤقتًا."
            tail_en = f" {left} tries left before the account is locked for a while."
        super().__init__(
            "رقم الموظف أو الرقم السري غير صحيح. أعد الكتابة بهدوء." + tail_ar,
            "Wrong operator number or PIN. Type them again carefully." + tail_en,
            detail=detail,
        )


class OperatorLocked(EdgeError):
    code = "operator-locked"

    def __init__(self, until: datetime, now: datetime):
        minutes = max(1, -(-int((until - now).total_seconds()) // 60))
        super().__init__(
            f"أُوقف هذا الحساب مؤقتًا بعد {to_eastern(MAX_FAILED_PINS)} محاولات خاطئة. حاول بعد "
            f"{to_eastern(minutes)} دقيقة، أو اطلب من المشرف فتحه.",
            f"This account is locked after {MAX_FAILED_PINS} wrong PINs. Try again in {minutes} "
            "minutes, or ask the supervisor to unlock it.",
            detail=f"locked until {clock.iso(until)}",
        )


class InvalidPin(EdgeError):
    code = "operator-pin-invalid"

    def __init__(self):
        super().__init__(
            f"الرقم السري يتكون من {to_eastern(PIN_MIN)} إلى {to_eastern(PIN_MAX)} أرقام فقط.",
            f"A PIN has {PIN_MIN} to {PIN_MAX} digits, nothing else.",
        )


class InvalidOperator(EdgeError):
    code = "operator-invalid"


@dataclass(frozen=True)
class Operator:
    number: int
    name: str
    role: str
    active: bool
    failed_pins: int
    locked_until: str | None
    last_login_at: str | None

    @property
    def actor(self) -> str:
        """How the audit log and requests name this operator: ``operator:3``."""
        return f"operator:{self.number}"

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def clean_pin(pin: str) -> str:
    pin = to_ascii((pin or "").strip())
    if not (PIN_MIN <= len(pin) <= PIN_MAX and pin.isascii() and pin.isdigit()):
        raise InvalidPin()
    return pin


def parse_number(text: str | int) -> int:
    try:
        number = int(to_ascii(str(text).strip()))
    except ValueError:
        number = 0
    if not 1 <= number <= 9999:
        raise InvalidOperator(
            "رقم الموظف عدد من ١ إلى ٩٩٩٩.",
            "An operator number is a whole number from 1 to 9999.",
            detail=f"number {str(text)[:20]!r}",
        )
    return number


def add(
    db: sqlite_utils.Database,
    number: int,
    name: str,
    pin: str,
    *,
    role: str = "operator",
    actor: str = "admin",
    hasher: PasswordHasher = DEFAULT_HASHER,
    now: datetime | None = None,
) -> Operator:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    name = " ".join((name or "").split())
    if not name:
        raise InvalidOperator("اكتب اسم الموظف.", "Type the operator's name.")
    number = parse_number(number)
    pin_hash = hasher.hash(clean_pin(pin))
    at = clock.iso(now or clock.now())
    with transaction(db):
        if get(db, number) is not None:
            raise InvalidOperator(
                f"يوجد موظف بالرقم {to_eastern(number)} بالفعل.",
                f"Operator number {number} already exists.",
                detail=f"operator {number} exists",
            )
        db.execute(
            "INSERT INTO operators (number, name, role, pin_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [number, name, role, pin_hash, at, at],
        )
        audit_log.record(db, actor=actor, action="operator.add", subject=f"operator:{number}",
                         details={"role": role}, now=now)
    return get(db, number)


def set_pin(db, number: int, pin: str, *, actor: str = "admin", hasher: PasswordHasher = DEFAULT_HASHER,
            now: datetime | None = None) -> None:
    """New PIN; also clears a lock-out and ends the operator's open console sessions."""
    pin_hash = hasher.hash(clean_pin(pin))
    at = clock.iso(now or clock.now())
    with transaction(db):
        _require(db, number)
        db.execute("UPDATE operators SET pin_hash = ?, failed_pins = 0, locked_until = NULL, "
                   "session_epoch = session_epoch + 1, updated_at = ? "
                   "WHERE number = ?", [pin_hash, at, number])
        audit_log.record(db, actor=actor, action="operator.set_pin", subject=f"operator:{number}", now=now)


def unlock(db, number: int, *, actor: str = "admin", now: datetime | None = None) -> None:
    with transaction(db):
        _require(db, number)
        db.execute("UPDATE operators SET failed_pins = 0, locked_until = NULL, updated_at = ? WHERE number = ?",
                   [clock.iso(now or clock.now()), number])
        audit_log.record(db, actor=actor, action="operator.unlock", subject=f"operator:{number}", now=now)


def set_active(db, number: int, active: bool, *, actor: str = "admin", now: datetime | None = None) -> None:
    with transaction(db):
        _require(db, number)
        db.execute("UPDATE operators SET active = ?, updated_at = ? WHERE number = ?",
                   [int(active), clock.iso(now or clock.now()), number])
        audit_log.record(db, actor=actor, action="operator.enable" if active else "operator.disable",
                         subject=f"operator:{number}", now=now)


def get(db: sqlite_utils.Database, number: int) -> Operator | None:
    row = db.execute(
        "SELECT number, name, role, active, failed_pins, locked_until, last_login_at FROM operators WHERE number = ?",
        [number],
    ).fetchone()
    if row is None:
        return None
    return Operator(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6])


def all_operators(db: sqlite_utils.Database) -> list[Operator]:
    numbers = [r[0] for r in db.execute("SELECT number FROM operators ORDER BY number").fetchall()]
    return [get(db, n) for n in numbers]


def count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM operators WHERE active = 1").fetchone()[0]


def authenticate(
    db: sqlite_utils.Database,
    number: str | int,
    pin: str,
    *,
    hasher: PasswordHasher = DEFAULT_HASHER,
    now: datetime | None = None,
) -> Operator:
    """The operator whose PIN this is, or LoginRefused / OperatorLocked; every attempt is audited.

    After MAX_FAILED_PINS wrong PINs in a row the account is locked for LOCK_DURATION, even for the
    right PIN: a guesser learns nothing more during the lock.
    """
    now = now or clock.now()
    try:
        number = parse_number(number)
    except InvalidOperator:
        raise LoginRefused(detail="not an operator number") from None
    pin = to_ascii((pin or "").strip())
    subject = f"operator:{number}"
    # The PIN is checked outside any transaction: argon2 takes ~50 ms, and BEGIN IMMEDIATE would hold
    # every other writer of the van (sync, print queue, watch) that long. The row is read again inside
    # the short transaction that records the outcome, so concurrent attempts still count one by one.
    row = db.execute("SELECT pin_hash, active FROM operators WHERE number = ?", [number]).fetchone()
    ok, new_hash = False, None
    known = row is not None and row[1]
    try:
        # An unknown number costs the same argon2 check as a known one: the time says nothing either.
        ok = hasher.verify(row[0] if known else _decoy_hash(hasher), pin) and bool(known)
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and hasher.check_needs_rehash(row[0]):
        new_hash = hasher.hash(pin)
    # Refusals are recorded (audit entry, failed count) in a transaction that commits, then raised.
    refusal: EdgeError | None = None
    with transaction(db):
        row = db.execute("SELECT pin_hash, active, failed_pins, locked_until FROM operators WHERE number = ?",
                         [number]).fetchone()
        if row is None or not row[1]:
            refusal = _refuse_unknown(db, subject, "unknown" if row is None else "inactive", now)
        elif row[3] and clock.parse(row[3]) > now:
            audit_log.record(db, actor=subject, action="operator.login_refused", subject=subject,
                             details={"why": "locked"}, now=now)
            refusal = OperatorLocked(clock.parse(row[3]), now)
        elif not ok:
            failed = (0 if row[3] else row[2]) + 1  # a lock that ran out starts a fresh series
            lock = now + LOCK_DURATION if failed >= MAX_FAILED_PINS else None
            db.execute("UPDATE operators SET failed_pins = ?, locked_until = ?, updated_at = ? WHERE number = ?",
                       [failed, clock.iso(lock) if lock else None, clock.iso(now), number])
            audit_log.record(db, actor=subject, action="operator.locked" if lock else "operator.login_refused",
                             subject=subject, details={"why": "pin", "failed": failed}, now=now)
            refusal = OperatorLocked(lock, now) if lock else LoginRefused(
                MAX_FAILED_PINS - failed, detail=f"wrong PIN ({failed} in a row)")
        else:
            if new_hash:
                db.execute("UPDATE operators SET pin_hash = ? WHERE number = ?", [new_hash, number])
            db.execute("UPDATE operators SET failed_pins = 0, locked_until = NULL, last_login_at = ?, "
                       "updated_at = ? WHERE number = ?", [clock.iso(now), clock.iso(now), number])
            audit_log.record(db, actor=subject, action="operator.login", subject=subject, now=now)
    if refusal is not None:
        raise refusal
    return get(db, number)


_DECOYS: dict[int, str] = {}


def _decoy_hash(hasher: PasswordHasher) -> str:
    """A hash made with ``hasher``'s parameters that no PIN matches (PINs are digits only)."""
    if id(hasher) not in _DECOYS:
        _DECOYS[id(hasher)] = hasher.hash("no PIN is this text")
    return _DECOYS[id(hasher)]


def _refuse_unknown(db, subject: str, why: str, now: datetime) -> EdgeError:
    """The refusal for a number with no active account, exactly as a real account's would read: its
    wrong tries counted down and then "locked" (the count kept in the audit log, which already records
    every attempt), so neither the words nor the lock-out tell a guesser which numbers exist."""
    failed, locked_until = 0, None
    for action, details in db.execute(
            "SELECT action, details FROM audit_log WHERE subject = ? AND action IN "
            "('operator.login', 'operator.login_refused', 'operator.locked') ORDER BY seq DESC LIMIT 20",
            [subject]).fetchall():
        state = json.loads(details)
        if action == "operator.login":
            break  # the number was a real account since: a fresh series
        if "failed" in state:
            failed, locked_until = state["failed"], clock.parse(state["locked_until"]) if state.get(
                "locked_until") else None
            break
    if locked_until is not None and locked_until > now:
        audit_log.record(db, actor=subject, action="operator.login_refused", subject=subject,
                         details={"why": "locked", "account": why}, now=now)
        return OperatorLocked(locked_until, now)
    failed = (0 if locked_until else failed) + 1  # a lock that ran out starts a fresh series
    lock = now + LOCK_DURATION if failed >= MAX_FAILED_PINS else None
    audit_log.record(db, actor=subject, action="operator.locked" if lock else "operator.login_refused",
                     subject=subject, now=now,
                     details={"why": why, "failed": failed, "locked_until": clock.iso(lock) if lock else None})
    return OperatorLocked(lock, now) if lock else LoginRefused(MAX_FAILED_PINS - failed, detail=f"{why} operator")


def session_epoch(db: sqlite_utils.Database, number: int) -> int | None:
    """The epoch a console session of ``number`` must carry to be valid; None when the account is gone or inactive."""
    row = db.execute("SELECT session_epoch, active FROM operators WHERE number = ?", [number]).fetchone()
    return row[0] if row is not None and row[1] else None


def end_sessions(db: sqlite_utils.Database, number: int, *, now: datetime | None = None) -> None:
    """End every console session of ``number`` (sign-out): sessions of the old epoch are refused from now on."""
    with transaction(db):
        db.execute("UPDATE operators SET session_epoch = session_epoch + 1, updated_at = ? WHERE number = ?",
                   [clock.iso(now or clock.now()), number])


def _require(db, number: int) -> None:
    if get(db, number) is None:
        raise InvalidOperator(
            f"لا يوجد موظف بالرقم {to_eastern(number)}.",
            f"There is no operator number {number}.",
            detail=f"operator {number} missing",
        )
