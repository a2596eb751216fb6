"""Governorate staff accounts: roles, argon2-hashed passwords, the audit of every back-office action."""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from edge.core.errors import EdgeError
from governorate.store import HubStore, now_iso, parse_iso

ROLES = ("viewer", "clerk", "admin")
# What each role may do beyond looking: a viewer changes nothing.
CAN = {
    "viewer": frozenset(),
    "clerk": frozenset({"decide", "ack-alert"}),
    "admin": frozenset({"decide", "ack-alert", "command", "publish", "quarantine", "rollout"}),
}
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the answer time the same either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


# Password guessing: after MAX_FAILURES wrong passwords for one username within LOCK_S, the username is refused
# for LOCK_S. Kept in the staff table (it survives a restart and is shared by every web process); each attempt
# is counted in one transaction *before* its password is checked, so parallel guesses cannot all be checked.
MAX_FAILURES = 5
LOCK_S = 15 * 60
# Usernames that do not exist are locked the same way (else a 429 would tell which ones exist), in memory:
# there is no row to keep them in, and no account behind them to protect. Bounded: the oldest are forgotten.
MAX_UNKNOWN = 10_000
_unknown: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_unknown_lock = threading.Lock()


class StaffError(EdgeError):
    code = "staff"


def may(role: str | None, action: str) -> bool:
    return action in CAN.get(role or "", frozenset())


def add(store: HubStore, username: str, name: str, role: str, governorate: str, password: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_.-]{2,31}", username):
        raise StaffError("اسم المستخدم غير صالح.", "The username is not valid (a-z, 0-9, . _ -; 3–32).",
                         detail=username)
    if role not in ROLES:
        raise StaffError("الدور غير معروف.", f"Unknown role; use one of {', '.join(ROLES)}.", detail=role)
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"كلمة المرور قصيرة (الحد الأدنى {MIN_PASSWORD}).",
                         f"The password is too short (at least {MIN_PASSWORD}).")
    with store.transaction() as conn:
        # Again for an existing account: a reset ends its open sessions (session_version) and its lock-out.
        conn.execute(
            "INSERT INTO staff (username, name, role, governorate, password_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(username) DO UPDATE SET name = excluded.name, role = excluded.role, "
            "governorate = excluded.governorate, password_hash = excluded.password_hash, active = 1, "
            "session_version = staff.session_version + 1, failed_logins = 0, failed_since = NULL, "
            "locked_until = NULL",
            [username, name, role, governorate, _hasher.hash(password), now_iso()])
        audit(conn, "cli", "staff.add", username, {"role": role, "governorate": governorate})


def sign_in(store: HubStore, username: str, password: str, governorate: str) -> tuple[dict | None, datetime | None]:
    """(the staff member, None) on success; (None, None) when wrong; (None, until) while locked out.

    The attempt is counted before the password is checked, and a success takes it back (resets the count)."""
    until = _count_attempt(store, username, datetime.now(UTC))
    if until is not None:
        return None, until
    user = authenticate(store, username, password, governorate)
    if user is not None:
        with store.transaction() as conn:
            conn.execute("UPDATE staff SET failed_logins = 0, failed_since = NULL, locked_until = NULL "
                         "WHERE username = ?", [username])
    return user, None


def _count_attempt(store: HubStore, username: str, now: datetime) -> datetime | None:
    """Count one attempt for ``username``, atomically; the time it is locked until if it is refused instead."""
    window = timedelta(seconds=LOCK_S)
    with store.transaction() as conn:
        rows = conn.execute("SELECT failed_logins, failed_since, locked_until FROM staff WHERE username = ?"
                            + (" FOR UPDATE" if store.dialect == "postgresql" else ""), [username]).fetchall()
        if rows:
            failed, since, locked = rows[0][0], parse_iso(rows[0][1]), parse_iso(rows[0][2])
            if locked and locked > now:
                return locked  # still locked: refused without counting or checking the password
            failed, since, locked = _next_attempt(failed, since, now, window)
            conn.execute("UPDATE staff SET failed_logins = ?, failed_since = ?, locked_until = ? WHERE username = ?",
                         [failed, since and since.isoformat(), locked and locked.isoformat(), username])
            return None
    with _unknown_lock:  # no such account: the same rule, in this process's memory
        seen = _unknown.setdefault(store, OrderedDict())
        failed, since, locked = seen.pop(username, (0, None, None))
        if locked and locked > now:
            seen[username] = (failed, since, locked)
            return locked
        seen[username] = _next_attempt(failed, since, now, window)
        while len(seen) > MAX_UNKNOWN:
            seen.popitem(last=False)
        return None


def _next_attempt(failed: int, since: datetime | None, now: datetime, window: timedelta):
    """(failed, since, locked until) after one more attempt: the MAX_FAILURES-th in a window locks."""
    if since is None or now - since > window:
        failed, since = 0, now
    failed += 1
    if failed >= MAX_FAILURES:
        return 0, None, now + window
    return failed, since, None


def sign_out(store: HubStore, username: str) -> None:
    """End every open session of ``username`` (their cookies carry the old session version)."""
    with store.transaction() as conn:
        conn.execute("UPDATE staff SET session_version = session_version + 1 WHERE username = ?", [username])
        audit(conn, username, "logout", None)


def authenticate(store: HubStore, username: str, password: str, governorate: str) -> dict | None:
    """The staff member if the password is right, the account active and of this governorate; else None."""
    rows = store._read("SELECT username, name, role, governorate, password_hash, active, session_version "
                       "FROM staff WHERE username = ?", [username])
    if not rows:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    user, name, role, gov, hashed, active, version = rows[0]
    try:
        _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if not active or gov != governorate:
        return None
    if _hasher.check_needs_rehash(hashed):
        with store.transaction() as conn:
            conn.execute("UPDATE staff SET password_hash = ? WHERE username = ?", [_hasher.hash(password), user])
    return {"username": user, "name": name, "role": role, "governorate": gov, "session_version": version}


def get(store: HubStore, username: str) -> dict | None:
    rows = store._read("SELECT username, name, role, governorate, session_version, active FROM staff "
                       "WHERE username = ?", [username])
    if not rows or not rows[0][5]:
        return None
    return dict(zip(("username", "name", "role", "governorate", "session_version"), rows[0][:5], strict=True))


def audit(conn, actor: str, action: str, subject: str | None, details: dict | None = None) -> None:
    """Record one back-office action inside the caller's transaction, so action and record commit together."""
    conn.execute("INSERT INTO staff_audit (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)",
                 [now_iso(), actor, action, subject, json.dumps(details or {}, ensure_ascii=False)])


def recent_audit(store: HubStore, limit: int = 100) -> list[dict]:
    rows = store._read("SELECT at, actor, action, subject, details FROM staff_audit ORDER BY id DESC LIMIT ?", [limit])
    return [dict(zip(("at", "actor", "action", "subject", "details"), r, strict=True)) for r in rows]
