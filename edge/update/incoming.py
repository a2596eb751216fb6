"""The van's end of a release sent down over MQTT: chunks in, progress out, and a ready marker when whole.

The sync agent (edge/sync/agent.py) hands every ``update-chunk`` downlink to :meth:`Incoming.add` and sends what
it returns to the hub as ``tel.update``; the hub sends only the chunks the report says are missing. One bundle
is received at a time: the first chunk of another bundle (the hub offers a newer release) drops what was held of
the old one. When every chunk is here and every file is whole against its SHA-256, the bundle is put together
in ``<staging>/<bundle>/files/`` and its name written to ``<staging>/READY`` (atomically): the root unit
``edge-update.path`` watches for that file and starts ``python -m edge.update apply-ready``, which verifies the
release with TUF before anything is installed (docs/updates.md).

Nothing here raises into the sync loop: a refused chunk is a ``refused`` report with its reason (nothing of it
kept), a full disk is a ``receiving`` report that says so (the update waits; the van's own work goes on).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

from edge.store import clock as clock_mod
from edge.sync.schema import is_bundle_name
from edge.update import state as state_mod
from edge.update import transfer
from edge.update.errors import UpdateError
from edge.update.state import fsync_dir

log = logging.getLogger("edge.update.incoming")

READY = "READY"
# The governorate's word on the release this van should run (the downlink "update-target"), kept here by the sync
# agent for the updater (root) to read as it reads READY: as if an attacker wrote it (edge.update.received.target).
TARGET = "TARGET"
TARGET_MAX_BYTES = 1024


def _locked(method):
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return run


class Incoming:
    # Where the time a word was heard is read on the boot clock (a test gives its own).
    boot_clock = staticmethod(clock_mod.boot_clock)

    def __init__(self, staging: Path, *, state_file: Path | None = None, chunk_size: int = transfer.CHUNK_SIZE,
                 disk_reserve: int = transfer.DISK_RESERVE_BYTES):
        self.staging = Path(staging)
        # The updater's state (root's, /var/lib/edge-update/state.json): read here, never written. None: no updater
        # on this machine (a development van), so nothing to report of it.
        self.state_file = Path(state_file) if state_file is not None else None
        # How the chunks come: "mqtt" (the hub pushes them) or "https" (edge.update.https fetches them); said in every
        # snapshot so the hub does not push what the van fetches itself.
        self.transport = "mqtt"
        # The sync agent's thread and the HTTPS fetcher's both hand chunks in and ask for progress.
        self._lock = threading.RLock()
        self.chunk_size = chunk_size
        self.disk_reserve = disk_reserve
        self._receiver: transfer.Receiver | None = None
        self._held: int | None = None  # chunks of the current bundle held (counted once, then kept up to date)

    def _receiver_for(self, bundle: str) -> transfer.Receiver:
        if self._receiver is not None and self._receiver.bundle == bundle:
            if (self._receiver.root / "chunks").is_dir():
                return self._receiver
            self._receiver = None  # apply-ready (another process) forgot this bundle: start it afresh
        self.staging.mkdir(parents=True, exist_ok=True)
        receiver = transfer.Receiver(self.staging, bundle, self.chunk_size, disk_reserve=self.disk_reserve)
        # One bundle at a time: what was held of another one goes (a newer offer replaced it) — except the one READY
        # names, which apply-ready may be installing right now (it removes it when done).
        ready = self.ready()
        for other in self.staging.iterdir():
            if other.is_dir() and other.name not in (bundle, ready):
                log.info("update bundle %s replaced by %s; its chunks are removed", other.name, bundle)
                shutil.rmtree(other, ignore_errors=True)
        self._receiver = receiver
        self._held = None
        return receiver

    @_locked
    def current(self) -> str | None:
        """The bundle being received (or received), from the staging folder: it survives a restart."""
        if self._receiver is not None and (self._receiver.root / "chunks").is_dir():
            return self._receiver.bundle
        self._receiver = None
        try:
            names = sorted((d.stat().st_mtime, d.name) for d in self.staging.iterdir()
                           if d.is_dir() and is_bundle_name(d.name))
        except OSError:
            return None
        return names[-1][1] if names else None

    @_locked
    def ready(self) -> str | None:
        """The bundle READY names, only when it is a bundle name (1–64 letters or digits): apply-ready runs as root
        on what the sync agent (another user) wrote, so a READY naming "../.." must never become a path."""
        try:
            name = (self.staging / READY).read_text(errors="replace").strip()
        except OSError:
            return None
        return name if is_bundle_name(name) else None

    @_locked
    def add(self, body: dict) -> dict | None:
        """Keep one chunk. Returns the ``tel.update`` body to send at once (the chunk was refused, or it completed
        the bundle), else None (the sync agent reports :meth:`progress` a moment later). Never raises for a chunk's
        fault."""
        try:
            # Checked before it may replace the bundle held: a bad chunk of another bundle wipes nothing.
            checked = transfer.check_body(body, self.chunk_size)
            receiver = self._receiver_for(checked["bundle"])
            receiver.disk_reserve = self.disk_reserve
            if self._held is None:
                self._held = len(receiver.held())
            if receiver.keep(checked):
                self._held += 1
        except UpdateError as exc:
            log.warning("update chunk refused: %s", exc.detail or exc.message_en)
            return self._refusal(body, "receiving" if exc.code == "update-disk" else "refused",
                                 exc.detail or exc.message_en)
        except OSError as exc:  # the van's own fault (the staging folder not writable, a disk error): say so
            log.error("update chunk not kept: %s", exc)
            return self._refusal(body, "receiving", f"the van cannot keep the update: {exc}")
        if self._held >= body["total"]:
            return self.progress()
        return None

    def _refusal(self, body: object, state: str, error: str) -> dict:
        """The report for a chunk not kept: about the bundle held (or, with none, the one the chunk named)."""
        name = self.current()
        if name is not None:
            return self._report(name, state, error[:500])
        bundle = body.get("bundle") if isinstance(body, dict) else None
        return {"bundle": bundle if is_bundle_name(bundle) else "x", "at": _now(), "state": state, "total": 0,
                "held": 0, "have": [], "error": error[:500]}

    @_locked
    def progress(self) -> dict | None:
        """The report for the bundle held (assembling it when every chunk is here), or None when there is none."""
        name = self.current()
        if name is None:
            return None
        receiver = self._receiver_for(name)
        receiver.disk_reserve = self.disk_reserve
        figures = receiver.progress()
        if not figures["complete"]:
            return self._report(name, "receiving", None, figures)
        if self.ready() != name:
            try:
                receiver.assemble()
            except UpdateError as exc:  # a file not whole: its chunks were dropped, the hub sends them again
                self._held = None
                log.warning("update bundle %s not whole: %s", name, exc.detail or exc.message_en)
                return self._report(name, "receiving", (exc.detail or exc.message_en)[:500])
            _write_ready(self.staging, name)
            log.info("update bundle %s received whole; waiting to be verified and installed", name)
        return self._report(name, "complete", None, figures)

    def _report(self, name: str, state: str, error: str | None, figures: dict | None = None) -> dict:
        if figures is None:
            figures = self._receiver_for(name).progress()
        return {"bundle": name, "at": _now(), "state": state, "total": figures["total"], "held": figures["held"],
                "have": figures["have"], "error": error}

    @_locked
    def status(self) -> dict[str, str | int | None]:
        """What the van tells the governorate of its software in every ``tel.snapshot`` (the fleet screen and the
        rollout read it): the version running, the updater's id for it and its phase, the versions it refused
        (failed health check), the ones it deferred (rolled back because the link dropped during their check: tried
        again once it is back, not refused), its last event with the reason, and the bundle being received."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            running = version("mtc-edge")
        except PackageNotFoundError:
            running = None
        st = state_mod.read(self.state_file) if self.state_file is not None else state_mod.empty()
        last = (st.get("history") or [None])[-1]
        last_text = st.get("attention")[:200] if isinstance(st.get("attention"), str) else None  # until healthy again
        if last_text is None and isinstance(last, dict):
            words = (last.get("event"), last.get("version"), last.get("reason"))
            last_text = " ".join(str(x) for x in words if x)[:200] or None
        # Refused: failed its health check (rolled back), or refused before installing (TUF, pip): not run.
        refused = set(st.get("refused") or {}) | {e.get("version") for e in st.get("history") or []
                                                   if isinstance(e, dict) and e.get("event") == "refused-release"}
        return {"software.version": running, "software.id": st.get("current"), "update.phase": st.get("phase"),
                "update.transport": self.transport,
                "update.refused": ",".join(sorted(x for x in refused if isinstance(x, str)))[:200] or None,
                "update.deferred": ",".join(sorted(x for x in st.get("deferred") or {} if isinstance(x, str)))[:200]
                or None,
                "update.last": last_text, "update.bundle": self.current(),
                # The governorate's last word on the release to run, as heard here: "<release or ->@<heard>".
                "update.target": _word_text(self.word())}

    @_locked
    def target(self, release: str | None, at: str, msg_id: str, session: int | None = None) -> str:
        """Keep the governorate's word ``release`` (sent at ``at``, the hub's time) in ``<staging>/TARGET``, with the
        time the van heard it (its own clock, as the link's ``since`` the updater compares it with: on the wall clock,
        ``heard``, and on the boot clock, ``boot`` and ``heard_boot_s``, which its steps do not move — extra fields
        an updater that knows only ``heard`` reads past). ValueError when
        the word held is newer (an old word sent again: not kept, the caller refuses it with the reason). Written
        atomically; OSError when it cannot be (the caller records nothing, so the hub sends the word again)."""
        if release is not None and not is_bundle_name(release):
            raise ValueError(f"{release!r} is not a release id")
        held = _read_word(self.staging)
        held_at, sent_at = state_mod.aware((held or {}).get("at")), state_mod.aware(at)
        if held_at is not None and sent_at is not None and \
                _order(held.get("session"), held_at) > _order(session, sent_at):
            raise ValueError(f"an older word ({release or 'none'}, sent {at}, connection {session}) than the one "
                             f"held ({held.get('release') or 'none'}, sent {held['at']}, connection "
                             f"{held.get('session')}): not kept")
        self.staging.mkdir(parents=True, exist_ok=True)
        word = {"release": release, "at": at, "msg_id": msg_id, "heard": _now(), "session": session}
        mark = self.boot_clock()
        if mark is not None:
            word.update(boot=mark[0], heard_boot_s=round(mark[1], 3))
        tmp = self.staging / f".{TARGET}.new"
        with open(tmp, "w") as f:
            f.write(json.dumps(word, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.staging / TARGET)
        fsync_dir(self.staging)
        log.info("the governorate says this van should run %s", release or "whatever it runs (it names none)")
        return f"the release to run: {release or 'none named'}"

    def word(self) -> dict | None:
        """The word held (for the van's status), or None."""
        return _read_word(self.staging)

    @_locked
    def held(self, bundle: str) -> set[int]:
        """The seqs of ``bundle`` kept here (none when another bundle is held: the first chunk of this one replaces
        it)."""
        if self.current() != bundle:
            return set()
        return set(self._receiver_for(bundle).held())

    def folder(self, name: str) -> Path:
        return self.staging / name / "files"

    @_locked
    def done(self, name: str) -> None:
        """Forget a bundle once applied (or refused by the verifier): its chunks go, and the marker if it names it (a
        marker naming no bundle goes too)."""
        if self.ready() in (name, None):
            (self.staging / READY).unlink(missing_ok=True)
        if is_bundle_name(name):
            shutil.rmtree(self.staging / name, ignore_errors=True)
        if self._receiver is not None and self._receiver.bundle == name:
            self._receiver = None
            self._held = None


def _write_ready(staging: Path, name: str) -> None:
    tmp = staging / f".{READY}.new"
    tmp.write_text(name + "\n")
    tmp.replace(staging / READY)
    fsync_dir(staging)


def _order(session, at):
    """Words are ordered by the connection they were told for, then by the hub's time: a word dated ahead by a hub
    clock wrong once is overtaken by the next connection's."""
    return (session if isinstance(session, int) and not isinstance(session, bool) else 0, at)


def _read_word(staging: Path) -> dict | None:
    try:
        with open(staging / TARGET, "rb") as f:
            word = json.loads(f.read(TARGET_MAX_BYTES + 1)[:TARGET_MAX_BYTES + 1])
    except (OSError, ValueError, RecursionError):  # RecursionError: deeply nested JSON
        return None
    return word if isinstance(word, dict) else None


def _word_text(word: dict | None) -> str | None:
    if word is None:
        return None
    release = word.get("release")
    heard = word.get("heard")
    return f"{release if is_bundle_name(release) else '-'}@{heard if isinstance(heard, str) else '?'}"[:200]




def _now() -> str:
    return datetime.now(UTC).isoformat()
