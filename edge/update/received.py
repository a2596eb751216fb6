"""Root's careful reading of the folder the sync agent (user ``edge``) writes a release into.

``python -m edge.update apply-ready`` runs as root on what another, less trusted user wrote: the staging folder
under the van's data dir (``/var/lib/edge/update/staging``, owned by ``edge``). A compromised ``edge`` user can
put anything there, and rename or replace any folder on the way at any instant: a symbolic link to
``/etc/shadow`` instead of a wheel, a FIFO instead of ``READY`` (an open that never returns), ``staging`` itself
swapped for a link to ``/opt/mtc-edge``. So root

- walks every path one component at a time from ``/`` with ``O_NOFOLLOW`` (a link anywhere is refused, never
  followed) and reads or removes only through the folder descriptors it opened — a rename after the walk
  changes nothing of what it reads;
- opens files ``O_NOFOLLOW | O_NONBLOCK`` and reads only regular files (``fstat`` on the descriptor), within the
  limits a release has (:data:`edge.update.transfer.MAX_BUNDLE_BYTES`, :data:`~edge.update.transfer.MAX_FILES`);
- copies the release out into its own folder (``/var/lib/edge-update/received``, root's, where ``edge`` cannot
  write) before TUF checks a byte of it: what is verified is what is installed, never a file ``edge`` could still
  change between the check and the install.

Nothing here trusts a name it read: ``READY`` must name a bundle (:func:`edge.sync.schema.is_bundle_name`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
from datetime import datetime
from pathlib import Path

from edge.store import clock
from edge.store.files import fsync_dir
from edge.sync.schema import is_bundle_name
from edge.update import transfer
from edge.update.errors import UpdateError

log = logging.getLogger("edge.update.received")

READY = "READY"
READY_MAX = 65  # a bundle name is at most 64 characters, then a newline
MAX_DEPTH = 16
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
BLOCK = 1 << 20


def _bad(en: str, ar: str, detail: str = "") -> UpdateError:
    return UpdateError(f"{ar} تبقى العربة على إصدارها الحالي.", f"{en} The van keeps running its current version.",
                       detail=detail or en, code="update-staging")


def open_folder(path: Path) -> int:
    """A descriptor of the folder ``path``, reached without following any symbolic link on the way (raises
    :class:`UpdateError` when a component is a link, not a folder, or missing)."""
    top = os.open("/", _DIR)
    try:
        return _open_sub(top, *Path(os.path.abspath(path)).parts[1:])
    finally:
        os.close(top)


def ready(staging: Path) -> str | None:
    """The bundle ``READY`` names, read without following a link or waiting on a FIFO, at most 65 bytes; None
    when there is no marker or it is not a regular file naming a bundle."""
    try:
        folder = open_folder(staging)
    except UpdateError:
        return None
    try:
        return _ready_in(folder)
    finally:
        os.close(folder)


def _ready_in(folder: int) -> str | None:
    try:
        fd = os.open(READY, _FILE, dir_fd=folder)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, READY_MAX + 1)
    finally:
        os.close(fd)
    if len(data) > READY_MAX:
        return None
    name = data.decode("ascii", errors="replace").strip()
    return name if is_bundle_name(name) else None


TARGET = "TARGET"  # edge.update.incoming.TARGET: the governorate's word on the release to run
TARGET_MAX = 1024


def target(staging: Path) -> dict | None:
    """The governorate's word the sync agent kept (``<staging>/TARGET``, edge.update.incoming.Incoming.target), read as
    ``READY`` is (no link followed, no FIFO waited on, a regular file of at most 1 KiB): ``{"release": id or None,
    "heard": aware datetime, "boot": (boot id, seconds on its boot clock) or None}`` (None: a word from an agent
    before the boot clock, compared on the wall clock); None when there is none or it is not one (said in the log:
    a boot clock's reading that is not one too). Only what it can do is trusted: a word written by the edge user
    itself can at most cancel a deferred release, or let it be tried."""
    try:
        folder = open_folder(staging)
    except UpdateError:
        return None
    try:
        fd = os.open(TARGET, _FILE, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            log.warning("the governorate's word in %s is not a regular file: not read", staging)
            return None
        data = os.read(fd, TARGET_MAX + 1)
    finally:
        os.close(fd)
    try:
        if len(data) > TARGET_MAX:
            raise ValueError(f"more than {TARGET_MAX} bytes")
        word = json.loads(data)
        release, heard = word["release"], datetime.fromisoformat(word["heard"])
        if not (release is None or is_bundle_name(release)) or heard.tzinfo is None:
            raise ValueError("not a release id, or a time without its zone")
        mark = None
        if "boot" in word or "heard_boot_s" in word:  # absent: written by an agent from before the boot clock
            mark = clock.boot_mark(word.get("boot"), word.get("heard_boot_s"))
            if mark is None:
                raise ValueError("not a boot id and a reading of its clock")
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, RecursionError) as exc:  # 1000 "[": recursion
        log.warning("the governorate's word in %s cannot be read (%s): not used", staging, type(exc).__name__)
        return None
    return {"release": release, "heard": heard, "boot": mark}


def copy_out(staging: Path, name: str, dest: Path, *, max_bytes: int = transfer.MAX_BUNDLE_BYTES,
             max_files: int = transfer.MAX_FILES, reserve: int = transfer.DISK_RESERVE_BYTES) -> Path:
    """Copy the files of bundle ``name`` (``<staging>/<name>/files/``) into ``dest`` (root's; replaced whole):
    regular files and folders only, at most ``max_files`` files and ``max_bytes`` bytes, ``reserve`` bytes left
    free on ``dest``'s disk. Returns ``dest``. Raises :class:`UpdateError` for anything else found."""
    if not is_bundle_name(name):
        raise _bad(f"READY names no bundle ({name!r}).", "ملف الجاهزية لا يسمي حزمة تحديث.")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    folder = open_folder(staging)
    try:
        src = _open_sub(folder, name, "files")
    finally:
        os.close(folder)
    # Entries: a release's folders are fewer than its files (each holds one at least), so twice the files.
    budget = {"bytes": max_bytes, "files": 2 * max_files, "reserve": reserve, "dest": dest.parent}
    try:
        os.mkdir(partial, 0o700)
        _copy_tree(src, partial, budget, depth=0)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        os.close(src)
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(partial, dest)
    fsync_dir(dest.parent)
    return dest


def _open_sub(folder: int, *parts: str) -> int:
    fd = os.dup(folder)
    try:
        for part in parts:
            try:
                nxt = os.open(part, _DIR, dir_fd=fd)
            except OSError as exc:
                raise _bad(f"The received release's folder /{'/'.join(parts)} cannot be opened safely ({part}: "
                           f"{exc.strerror}).", "تعذر فتح مجلد التحديث المستلم بأمان.", f"{part}: {exc}") from None
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def _copy_tree(src: int, dest: Path, budget: dict, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _bad("The received release's folders are nested too deep.", "مجلدات التحديث المستلم متداخلة بعمق مفرط.")
    with os.scandir(src) as entries:  # streamed: a folder of millions of names is refused, not listed into memory
        names = []
        for e in entries:
            budget["files"] -= 1  # every entry counts, folders too (millions of empty folders are no release)
            if budget["files"] < 0:
                raise _bad("The received release holds more files than a release may.",
                           "يحتوي التحديث المستلم ملفات أكثر من المسموح.")
            names.append(e.name)
    for entry in names:
        st = os.stat(entry, dir_fd=src, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            sub = _open_sub(src, entry)
            try:
                os.mkdir(dest / entry, 0o700)
                _copy_tree(sub, dest / entry, budget, depth + 1)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            _copy_file(src, entry, dest / entry, budget)
        else:
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            raise _bad(f"The received release holds {entry!r}, {kind}: refused.",
                       "يحتوي التحديث المستلم ملفًا ليس ملفًا عاديًا (رابطًا أو جهازًا) فرُفض.")


def _copy_file(src: int, entry: str, dest: Path, budget: dict) -> None:
    try:
        fd = os.open(entry, _FILE, dir_fd=src)
    except OSError as exc:  # replaced by a link (ELOOP) or removed since the listing
        raise _bad(f"The received release's file {entry!r} cannot be opened safely.",
                   "تعذر فتح ملف من ملفات التحديث المستلم بأمان.", f"{entry}: {exc}") from None
    try:
        size = os.fstat(fd)
        if not stat.S_ISREG(size.st_mode):
            raise _bad(f"The received release holds {entry!r}, not a regular file: refused.",
                       "يحتوي التحديث المستلم ملفًا ليس ملفًا عاديًا فرُفض.")
        if size.st_size > budget["bytes"]:
            raise _bad("The received release is larger than a release may be.", "التحديث المستلم أكبر من المسموح.")
        free = shutil.disk_usage(budget["dest"]).free
        if free - size.st_size < budget["reserve"]:
            raise UpdateError("لا توجد مساحة كافية على قرص العربة لنسخ التحديث فلم يُثبَّت؛ أفرغ مساحة ثم يعيد "
                              "المركز إرساله.", "The van's disk has no room to copy the update out: it was not "
                              "installed. Free some room; the governorate can then offer it again.",
                              detail=f"{free} bytes free, {size.st_size} needed, {budget['reserve']} reserved",
                              code="update-disk")
        with open(dest, "xb") as out:
            while block := os.read(fd, BLOCK):
                budget["bytes"] -= len(block)
                if budget["bytes"] < 0:  # the file grew while read
                    raise _bad("The received release is larger than a release may be.",
                               "التحديث المستلم أكبر من المسموح.")
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    finally:
        os.close(fd)


def _remove(folder: int, entry: str) -> bool:
    """Remove ``entry`` of ``folder`` whatever it is — a folder too (edge may make READY one: left there, the path unit
    would start the updater again and again), never following a link nor opening anything but a folder (a FIFO
    swapped in on the way cannot block root); True when it is gone."""
    try:
        _remove_tree(folder, entry, 0)
    except FileNotFoundError:
        return False
    except (OSError, RecursionError) as exc:
        log.error("cannot remove %s from the staging folder: %s", entry, exc)
        return False
    return True


def _remove_tree(parent: int, name: str, depth: int) -> None:
    try:
        os.unlink(name, dir_fd=parent)  # a file, a link, a FIFO, a socket: unlink opens nothing
        return
    except IsADirectoryError:
        pass
    if depth > MAX_DEPTH * 4:
        raise OSError(f"folders nested deeper than {MAX_DEPTH * 4}")
    fd = os.open(name, _DIR | os.O_NONBLOCK, dir_fd=parent)  # not a folder any more (swapped): ENOTDIR, at once
    try:
        for inner in os.listdir(fd):
            _remove_tree(fd, inner, depth + 1)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)


def forget(staging: Path, name: str) -> bool:
    """Remove bundle ``name``'s folder and the ``READY`` marker when it names it (or names nothing usable), through
    the staging folder's descriptor: never anything outside it, whatever was renamed on the way. True when a
    marker was removed."""
    try:
        folder = open_folder(staging)
    except UpdateError:
        return False
    removed = False
    try:
        if _ready_in(folder) in (name, None):
            removed = _remove(folder, READY)
        if is_bundle_name(name):
            _remove(folder, name)
    finally:
        os.close(folder)
    return removed
