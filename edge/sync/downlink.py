"""Applying what the governorate sends down: request decisions, catalogues, holidays, trust lists, commands — each
once."""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import sqlite_utils

from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.core import trust, workdays
from edge.core.errors import EdgeError
from edge.store import calendars, catalogues, clock, device_status, files, inbox, outbox, sync_state
from edge.store import requests as store_requests
from edge.sync import protocol as p
from edge.sync.schema import THUMBNAIL_MAX_BYTES

log = logging.getLogger("edge.sync.downlink")

# Commands the hub may send; anything else is refused (and reported back as rejected).
COMMANDS = p.COMMANDS
# Sent by the hub itself, never offered to staff: ``counters`` when the van's connection counter went back (its
# database restored from a backup): {"session": the highest the hub saw, "requests": {"YYYY-MM-DD": the highest
# request sequence the hub holds of the van that day}}. The van raises its counters to at least these, so it gives
# no new citizen a number the hub holds for another and its next connection counts above the old ones.
HUB_COMMANDS = ("counters",)
MAX_COUNTER_DAYS = 31
# A connection a second for 136 years; far below what the wire takes (2**63 - 1), so the van's next connection, one
# above, is still a number it can send (a session raised to the wire's top left the van unable to send its birth).
MAX_COUNTER_SESSION = 2**32


class Refused(EdgeError):
    code = "downlink-refused"

    def __init__(self, detail: str):
        super().__init__("رُفضت رسالة من المحافظة.", "A message from the governorate was refused.", detail=detail)


class TargetSink(Protocol):
    """Where the governorate's word on the release to run goes (edge.update.incoming.Incoming: the sync layer does
    not import the updater). ``target`` keeps it and returns what it did, in a few words for the log; it raises
    ValueError for a word it will not keep (older than the one held: refused with the reason) and OSError when it
    cannot keep it (nothing is recorded: the hub sends it again)."""

    def target(self, release: str | None, at: str, msg_id: str, session: int | None = None) -> str: ...


# A camera's latest picture older than this is not "the latest picture" staff ask for: the camera has sent no
# frame for that long (the watch saves one a minute, from a new frame only), or the watch is not running.
PICTURE_FRESH_S = 300.0


@dataclass(frozen=True)
class Cameras:
    """The van's cameras by name, and the folder where the watch saves each one's latest picture
    (``<data_dir>/cctv/<name>.jpg``)."""

    names: tuple[str, ...]
    pictures: Path


@dataclass(frozen=True)
class Picture:
    """A camera's latest picture as read to answer the hub (the bytes sent are the bytes checked): ``taken`` on the
    van's clock (now when the file's time was ahead of it: the clock unsure)."""

    camera: str
    jpeg: bytes
    taken: datetime


@dataclass
class Effects:
    """What the sync loop must do after a downlink was applied (outside the database transaction)."""

    rebirth: bool = False
    telemetry: bool = False
    trust_list: bytes | None = None
    thumbnails: list[str] = field(default_factory=list)  # camera names whose latest picture the hub asked for
    pictures: list[Picture] = field(default_factory=list)  # their pictures, read once when the command was judged
    catalogue_version: int | None = None
    notes: list[str] = field(default_factory=list)


def apply(
    db: sqlite_utils.Database, down: p.Downlink, keys_dir: Path, *, now: datetime | None = None,
    updates: TargetSink | None = None, session: int | None = None, cameras: Cameras | None = None,
) -> tuple[str, Effects]:
    """Apply one decoded non-ack downlink through the inbox; returns (outcome, effects to carry out). ``updates``:
    where the governorate's word on the release to run is kept (None: this van takes no updates over the link);
    ``cameras``: the van's cameras, whose pictures the hub may ask for (None: it has none)."""
    now = now or clock.now()
    effects = Effects()
    message = down.message

    def effect(d: sqlite_utils.Database) -> None:
        if isinstance(message, p.RequestStatus):
            store_requests.change_state(d, message.number, message.state, source="hub", reason=message.reason,
                                        now=now)
        elif isinstance(message, p.Catalog):
            _store_catalogue(d, message, now)
            effects.catalogue_version = message.version
        elif isinstance(message, p.Calendar):
            _store_calendar(d, message, now)
        elif isinstance(message, p.TrustList):
            # Written before the inbox row commits: a crash in between leaves the new list in force and the
            # message unrecorded, and its redelivery (the same bytes) is applied again, not refused as old.
            if _check_trust_list(message.blob, keys_dir):
                files.write_file(keys_dir, trust.TRUST_LIST_FILE, message.blob)
            effects.trust_list = message.blob
        elif isinstance(message, p.Command):
            if message.name not in COMMANDS and message.name not in HUB_COMMANDS:
                raise Refused(f"unknown command {message.name!r}")
            if message.name == "counters":
                effects.notes.append(_raise_counters(d, message.args, clock.local_day(now)))
            effects.rebirth = message.name == "rebirth"
            effects.telemetry = message.name in ("ping", "send-telemetry")
            if message.name == "camera-thumbnail":
                camera = message.args.get("camera")
                if not isinstance(camera, str) or not camera:
                    raise Refused("camera-thumbnail needs args.camera, the camera's name")
                picture = take_picture(d, cameras, camera, now)
                if isinstance(picture, str):  # said to the hub, not "done" with nothing sent
                    raise Refused(picture)
                effects.thumbnails.append(camera)
                effects.pictures.append(picture)
        elif isinstance(message, p.UpdateTarget):
            if updates is None or not hasattr(updates, "target"):
                raise Refused("this van takes no software updates over the link")
            if session is not None and message.session != session:
                # Sent again from an earlier connection (the hub's re-send at a birth, the broker's session): it may
                # be stale — staff may have rolled the fleet back since. The hub tells this connection anew.
                raise Refused(f"a word told for the van's connection {message.session}, not this one ({session})")
            # Kept before the inbox row commits, as the trust list: a crash in between leaves the word kept and the
            # message unrecorded; its redelivery keeps it again (the same word). The updater (root) reads it.
            try:
                effects.notes.append(updates.target(message.release, down.created_at, down.msg_id, message.session))
            except ValueError as exc:  # an older word than the one held (sent again): noted, changes nothing
                raise Refused(str(exc)[:400]) from None
            effects.telemetry = True  # the snapshot says which word the van holds (update.target)
        else:  # an ack never comes here: it is not an instruction, it is handled by the drain
            raise Refused(f"{down.kind} is not applied through the inbox")

    def report(d: sqlite_utils.Database, outcome: str, error: str | None) -> None:
        outbox.enqueue(d, "tx", "downlink.applied",
                       {"msg_id": down.msg_id, "kind": down.kind, "outcome": outcome, "error": error}, now=now)

    outcome = inbox.apply_once(db, down.msg_id, down.kind, effect, now=now, report=report)
    if outcome != "applied":
        return outcome, Effects()
    return outcome, effects



def _raise_counters(d: sqlite_utils.Database, args: dict, today: date) -> str:
    """The hub's ``counters`` (HUB_COMMANDS): raise the connection counter and the days' request counters to at least
    what the hub saw of this van. Never lowers one. A day after ``today`` + 1 (the van's local day, as its request
    numbers count it; one more for a hub clock or a day edge) is refused: the van would skip numbers of a day to
    come, and a counter raised for a day far ahead could take that day's 9000 numbers."""
    session, days = args.get("session"), args.get("requests")
    if type(session) is not int or not 1 <= session <= MAX_COUNTER_SESSION:
        raise Refused(f"counters needs args.session, a whole number from 1 to {MAX_COUNTER_SESSION}")
    if not isinstance(days, dict) or len(days) > MAX_COUNTER_DAYS:
        raise Refused(f"counters needs args.requests, at most {MAX_COUNTER_DAYS} days")
    raised = {}
    for day, seq in days.items():
        try:
            when = datetime.strptime(day, "%Y-%m-%d").date() if isinstance(day, str) and len(day) == 10 else None
        except ValueError:
            when = None
        if when is None or when > today + timedelta(days=1) or type(seq) is not int or not 1 <= seq <= rq.MAX_REAL_SEQ:
            raise Refused(f"counters: {str(day)[:20]!r} → {str(seq)[:20]!r} is not a day and a request sequence")
        raised[when] = seq
    was = sync_state.raise_session(d, session)
    store_requests.raise_counters(d, raised)
    log.warning("the hub saw more of this van than its database holds (restored from a backup?): connection "
                "counter %d → at least %d, request counters raised for %s", was, session,
                ", ".join(f"{day}: {seq}" for day, seq in sorted(raised.items())) or "no day")
    return f"counters raised to the hub's (session {session}, {len(raised)} day(s))"


def picture_refusal(db: sqlite_utils.Database, cameras: Cameras | None, camera: str, now: datetime) -> str | None:
    """Why the van cannot send ``camera``'s latest picture now, in a few words for the hub's van page; None: it can
    (take_picture)."""
    picture = take_picture(db, cameras, camera, now)
    return picture if isinstance(picture, str) else None


def take_picture(db: sqlite_utils.Database, cameras: Cameras | None, camera: str, now: datetime) -> Picture | str:
    """``camera``'s latest picture to send now, or why the van cannot (a few words for the hub's van page).

    A camera the van does not have is named with the ones it has. A camera that sends pictures but is covered,
    dark, blurred, moved or frozen is answered with its picture: it shows what the camera sees, which is what staff
    asked to see (its state is on the van page beside it). A camera that sends none (offline: since when the watch
    saw it go, ``detail["offline_since"]``), or whose latest picture is older than PICTURE_FRESH_S, is refused with
    why: an old frame is not the picture asked for (the hub keeps the last one it got). A camera back from offline
    whose picture is fresh and newer than its going is answered (its alarm clears only after a few good samples).
    A file that is no picture (a link, not a regular file, empty, over THUMBNAIL_MAX_BYTES, not a JPEG) is refused
    too (review of camclock, L1: it was "done" with nothing sent). A picture dated ahead of the van's clock is taken
    now (the clock was set back since): fresh, dated now."""
    names = cameras.names if cameras is not None else ()
    if camera not in names:
        have = ", ".join(names) if names else "none"
        return f"no camera named {camera[:64]!r} on this van; its cameras: {have}"[:480]
    status = device_status.get(db, f"camera:{camera}")
    down = status is not None and status.detail.get("fault") == "offline"
    went = clock.aware(status.detail.get("offline_since")) if down else None
    state = (f"camera {camera} is not sending pictures"
             + (f" (offline since {_hm(went)})" if went is not None else "")) if down else None
    read = _read_picture(cameras.pictures / f"{camera}.jpg")
    if read is None:
        return f"{state}: no picture of it yet" if state else f"no picture of camera {camera} yet"
    if isinstance(read, str):
        return f"{state}: {read}" if state else f"the picture of camera {camera} cannot be sent: {read}"
    jpeg, taken, mtime_ns = read
    seconds_ago = _taken_on_the_boot_clock(cameras.pictures / f"{camera}.taken.json", mtime_ns)
    if seconds_ago is not None:  # the wall clock stepped since (NTP at the link's return): the boot clock did not
        taken = now - timedelta(seconds=seconds_ago)
    taken = min(taken, now)  # ahead of the clock: taken now, the clock unsure
    age = (now - taken).total_seconds()
    if state and not (went is not None and taken > went and age <= PICTURE_FRESH_S):
        return f"{state}: no picture now; its last one was taken {_hm(taken)}"
    if age > PICTURE_FRESH_S:
        return f"no recent picture of camera {camera}: its latest was taken {_hm(taken)}, {age / 60:.0f} min ago"
    return Picture(camera, jpeg, taken)


_PICTURE_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_picture(path: Path, limit: int = THUMBNAIL_MAX_BYTES) -> tuple[bytes, datetime, int] | str | None:
    """The picture file's bytes and time (and its st_mtime_ns), read once (no link followed, no FIFO waited on: the
    read runs in the MQTT callback); None: there is none; else what is wrong with it."""
    try:
        fd = os.open(path, _PICTURE_OPEN)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if os.path.islink(path):
            return "its file is a link"
        return f"its file cannot be read ({type(exc).__name__})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "its file is not a regular file"
        if st.st_size > limit:
            return f"it is {st.st_size} bytes, over the {limit} sent"
        jpeg = os.read(fd, limit + 1)
    except OSError as exc:
        return f"its file cannot be read ({type(exc).__name__})"
    finally:
        os.close(fd)
    if not jpeg:
        return "its file is empty"
    if len(jpeg) > limit:
        return f"it is over the {limit} bytes sent"
    if limit == THUMBNAIL_MAX_BYTES and not jpeg.startswith(b"\xff\xd8"):
        return "its file is not a JPEG"
    try:
        taken = datetime.fromtimestamp(st.st_mtime, UTC)
    except (ValueError, OverflowError, OSError):
        return "its file's time is not one"
    return jpeg, taken, st.st_mtime_ns


_NOTE_MAX = 512


def _taken_on_the_boot_clock(note: Path, mtime_ns: int) -> float | None:
    """How many seconds ago the picture was taken, on this boot's clock, from the note the watch writes beside it
    (edge.services.watch.taken_note_path: ``{"mtime_ns", "boot", "boot_s"}``); None: no note of this picture (its
    file time differs), of another boot, or not one — the file's time is used."""
    read = _read_picture(note, _NOTE_MAX)
    here = clock.boot_clock()
    if not isinstance(read, tuple) or here is None:
        return None
    try:
        taken = json.loads(read[0])
        mark = clock.boot_mark(taken.get("boot"), taken.get("boot_s")) if isinstance(taken, dict) else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if mark is None or taken.get("mtime_ns") != mtime_ns or mark[0] != here[0] or mark[1] > here[1]:
        return None
    return here[1] - mark[1]


def _hm(at: str | datetime) -> str:
    """A time for a refusal: UTC, to the second (the van page shows the reason as the van wrote it)."""
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else at
        return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (ValueError, OverflowError):
        return str(at)[:40]


def _store_catalogue(db: sqlite_utils.Database, message: p.Catalog, now: datetime) -> None:
    try:
        cat = catalogue_mod.from_dict(message.data, source=f"catalogue v{message.version} from the governorate")
    except EdgeError as exc:
        raise Refused(f"catalogue v{message.version} is invalid: {exc.detail or exc.message_en}") from None
    if cat.version != message.version:
        raise Refused(f"catalogue says version {cat.version}, the message {message.version}")
    newest = catalogues.newest_version(db) or 0
    if cat.version <= newest:
        raise Refused(f"catalogue v{cat.version} is not newer than v{newest}")
    db.execute("INSERT INTO catalogues (version, data, received_at) VALUES (?, ?, ?)",
               [cat.version, json.dumps(message.data, ensure_ascii=False), clock.iso(now)])


def _store_calendar(db: sqlite_utils.Database, message: p.Calendar, now: datetime) -> None:
    try:
        cal = workdays.loads(message.text, f"holidays v{message.version} from the governorate")
    except workdays.CalendarError as exc:
        raise Refused(f"holidays v{message.version} are invalid: {exc}") from None
    if cal.version != message.version:
        raise Refused(f"the holidays file says version {cal.version}, the message {message.version}")
    newest = calendars.newest_version(db) or 0
    if cal.version <= newest:
        raise Refused(f"holidays v{cal.version} are not newer than v{newest}")
    db.execute("INSERT INTO calendars (version, text, received_at) VALUES (?, ?, ?)",
               [cal.version, message.text, clock.iso(now)])


def _check_trust_list(blob: bytes, keys_dir: Path) -> bool:
    """Refuse a list that is invalid or not newer than the cached one; False: it is the cached one already."""
    from cryptography import x509

    ca_path = keys_dir / trust.CA_CERT_FILE
    try:
        ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise Refused(f"no governorate CA certificate at {ca_path} to check the trust list: {exc}") from None
    new = trust.verify_list(blob, ca)
    current_path = keys_dir / trust.TRUST_LIST_FILE
    if current_path.exists():
        cached = current_path.read_bytes()
        if cached == blob:
            return False
        try:
            current = trust.verify_list(cached, ca)
        except EdgeError:
            return True  # the cached one is unusable: any valid list is better
        if new.version <= current.version:
            raise Refused(f"trust list v{new.version} is not newer than the cached v{current.version}")
    return True
