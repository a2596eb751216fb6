"""Governorate staff accounts: roles, argon2-hashed passwords, the audit of every back-office action."""

from __future__ import annotations

import json
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from edge.core.errors import EdgeError
from governorate.store import HubStore, now_iso

ROLES = ("viewer", "clerk", "admin")
# What each role may do beyond looking: a viewer changes nothing.
CAN = {
    "viewer": frozenset(),
    "clerk": frozenset({"decide", "ack-alert"}),
    "admin": frozenset({"decide", "ack-alert", "command", "publish"}),
}
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the answer time the same either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


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
        conn.execute(
            "INSERT INTO staff (username, name, role, governorate, password_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(username) DO UPDATE SET name = excluded.name, role = excluded.role, "
            "governorate = excluded.governorate, password_hash = excluded.password_hash, active = 1",
            [username, name, role, governorate, _hasher.hash(password), now_iso()])
        audit(conn, "cli", "staff.add", username, {"role": role, "governorate": governorate})


def authenticate(store: HubStore, username: str, password: str, governorate: str) -> dict | None:
    """The staff member if the password is right, the account active and of this governorate; else None."""
    rows = store._read("SELECT username, name, role, governorate, password_hash, active FROM staff "
                       "WHERE username = ?", [username])
    if not rows:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    user, name, role, gov, hashed, active = rows[0]
    try:
        _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if not active or gov != governorate:
        return None
    if _hasher.check_needs_rehash(hashed):
        with store.transaction() as conn:
            conn.execute("UPDATE staff SET password_hash = ? WHERE username = ?", [_hasher.hash(password), user])
    return {"username": user, "name": name, "role": role, "governorate": gov}


def get(store: HubStore, username: str) -> dict | None:
    rows = store._read("SELECT username, name, role, governorate, active FROM staff WHERE username = ?", [username])
    if not rows or not rows[0][4]:
        return None
    return dict(zip(("username", "name", "role", "governorate"), rows[0][:4], strict=True))


def audit(conn, actor: str, action: str, subject: str | None, details: dict | None = None) -> None:
    """Record one back-office action inside the caller's transaction, so action and record commit together."""
    conn.execute("INSERT INTO staff_audit (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)",
                 [now_iso(), actor, action, subject, json.dumps(details or {}, ensure_ascii=False)])


def recent_audit(store: HubStore, limit: int = 100) -> list[dict]:
    rows = store._read("SELECT at, actor, action, subject, details FROM staff_audit ORDER BY id DESC LIMIT ?", [limit])
    return [dict(zip(("at", "actor", "action", "subject", "details"), r, strict=True)) for r in rows]
