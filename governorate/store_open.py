"""Open the hub database for a command: each way it can fail becomes one bilingual HubDatabaseError."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from edge.core.errors import EdgeError
from governorate.store import HubStore


class HubDatabaseError(EdgeError):
    """The hub database named by ``--db`` (or the settings) cannot be used; the message says what to fix."""

    code = "hub-database"

    def __init__(self, message_en: str, message_ar: str, *, detail: str = "", code: str | None = None):
        super().__init__(message_ar, message_en, detail=detail, code=code)


def open_store(target: str | os.PathLike) -> HubStore:
    """The hub's store at ``target`` (a SQLite file or a postgresql:// URL), or a HubDatabaseError saying why not."""
    target = str(target)
    if target.startswith(("postgresql://", "postgres://")):
        return _open_postgresql(target)
    return _open_sqlite(target)


def _open_sqlite(path: str) -> HubStore:
    try:
        return HubStore(path)
    except OSError as exc:  # the folder could not be made: a part of it is a file, no permission, read-only
        raise _sqlite_error(path, exc) from None
    except sqlite3.DatabaseError as exc:
        raise _sqlite_error(path, exc) from None


def _sqlite_error(path: str, exc: BaseException) -> HubDatabaseError:
    file, folder = Path(path), Path(path).parent
    detail = f"{path}: {type(exc).__name__}: {exc}"
    if isinstance(exc, OSError) or not folder.is_dir():
        blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            return HubDatabaseError(
                f"Cannot use the hub database {path}: {blocker} is a file, not a folder. Check --db.",
                f"تعذّر استخدام قاعدة بيانات المركز {path}: {blocker} ملف وليس مجلدًا. راجع --db.",
                detail=detail, code="hub-database-folder")
        return HubDatabaseError(
            f"Cannot create the folder {folder} for the hub database: {exc.strerror or exc}. "
            "Create it, or give --db a folder this user may write to.",
            f"تعذّر إنشاء المجلد {folder} لقاعدة بيانات المركز. "
            "أنشئه، أو اختر لـ --db مجلدًا يملك هذا المستخدم الكتابة فيه.",
            detail=detail, code="hub-database-folder")
    if file.is_dir():
        return HubDatabaseError(
            f"Cannot use the hub database {path}: it is a folder. Give --db a file, e.g. {file / 'hub.db'}.",
            f"تعذّر استخدام قاعدة بيانات المركز {path}: هذا مجلد وليس ملفًا. اختر لـ --db ملفًا، مثل {file / 'hub.db'}.",
            detail=detail, code="hub-database-folder")
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text:
        return HubDatabaseError(
            f"{path} is not a hub database (not SQLite, or damaged). Check --db.",
            f"الملف {path} ليس قاعدة بيانات المركز (ليس SQLite أو تالف). راجع --db.",
            detail=detail, code="hub-database-not-sqlite")
    if "locked" in text or "busy" in text:
        return HubDatabaseError(
            f"The hub database {path} is busy with another process. Wait a moment and try again.",
            f"قاعدة بيانات المركز {path} مشغولة بعملية أخرى. انتظر قليلًا ثم أعد المحاولة.",
            detail=detail, code="hub-database-busy")
    if not os.access(folder, os.W_OK) or (file.exists() and not os.access(file, os.W_OK)) or "readonly" in text:
        where = file if file.exists() else folder
        return HubDatabaseError(
            f"Cannot write the hub database {path}: this user may not write to {where}. "
            "Fix its owner or permissions, or run as the hub's user.",
            f"تعذّرت الكتابة في قاعدة بيانات المركز {path}: هذا المستخدم لا يملك الكتابة هناك. "
            "صحّح المالك أو الصلاحيات، أو شغّل الأمر بمستخدم المركز.",
            detail=detail, code="hub-database-permission")
    return HubDatabaseError(
        f"Cannot open the hub database {path}: {exc}. Check --db.",
        f"تعذّر فتح قاعدة بيانات المركز {path}. راجع --db.",
        detail=detail)


def _open_postgresql(url: str) -> HubStore:
    where = without_password(url)
    try:
        import psycopg
    except ImportError:
        raise HubDatabaseError(
            f"Cannot use {where}: PostgreSQL support (psycopg) is not installed. Install the hub's packages.",
            f"تعذّر استخدام {where}: دعم PostgreSQL (psycopg) غير مثبّت. ثبّت حزم المركز.",
            code="hub-database-driver") from None
    try:
        return HubStore(url)
    except psycopg.OperationalError as exc:
        reason = _first_line(exc)
        raise HubDatabaseError(
            f"Cannot reach the hub's PostgreSQL database {where}: {reason}. "
            "Check the server, the address and the credentials.",
            f"تعذّر الوصول إلى قاعدة بيانات المركز PostgreSQL {where}. تحقّق من الخادم والعنوان وبيانات الدخول.",
            detail=f"{where}: {exc}", code="hub-database-unreachable") from None
    except psycopg.Error as exc:
        raise HubDatabaseError(
            f"The hub's PostgreSQL database {where} refused to set up its tables: {_first_line(exc)}.",
            f"رفضت قاعدة بيانات المركز PostgreSQL {where} إنشاء جداولها. راجع صلاحيات المستخدم فيها.",
            detail=f"{where}: {exc}", code="hub-database-refused") from None


def without_password(url: str) -> str:
    """The URL as it may be shown and logged: never the password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__).removeprefix("connection failed: ")
