"""The update's state on the van: one JSON file under the data dir, replaced atomically, never edited in place.

``<data_dir>/update/state.json``::

    {"format": "mtc-van-update", "phase": "idle" | "installing" | "switching" | "checking" | "rolling-back",
     "current": ID | null,        the version the van runs and trusts to run (healthy)
     "candidate": ID | null,      the version being installed, switched to or rolled back from
     "previous": ID | null,       the version to roll back to
     "refused": {ID: reason},     versions that failed their health check: not tried again by themselves
     "deferred": {ID: {"version", "reason", "at", "attempts"}},   a version whose check failed on the sync link
                                  alone while the version gone back to could not connect either: the link was to
                                  blame, so it is tried again once the link is back (``python -m edge.update retry``)
     "history": [{"at", "event", "version", "reason"?}, …]   the last 50 events, newest last}

Written as a new file, fsynced, renamed over the old one, and the folder fsynced: a power cut leaves the old
state or the new one, never a mix (the crash-point test, tests/update/test_crash_points.py, proves it).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from edge.store import clock
from edge.store.files import fsync_dir

FORMAT = "mtc-van-update"
PHASES = ("idle", "installing", "switching", "checking", "rolling-back")
HISTORY = 50


def empty() -> dict:
    # baseline: the old version's health (sync link, devices) taken before a switch; the new one is held to it.
    # attention: why the van needs a technician (a rollback to a version that did not come up either), until a
    # version passes its health check again; the van's status says it in place of its last event meanwhile.
    # unchecked: the version a rollback at boot went back to, asked only its edge --version so far (recover runs
    # before the units); Updater.settle asks its health answer once they run.
    # deferred: versions rolled back because the link dropped during their check (Updater._blame_the_link).
    return {"format": FORMAT, "phase": "idle", "current": None, "candidate": None, "previous": None,
            "refused": {}, "deferred": {}, "history": [], "baseline": None, "attention": None, "unchecked": None}


def read(path: Path) -> dict:
    """The state in ``path``; the empty state when there is none yet, or when it cannot be read (it then
    says so in its history: the recovery works from the folders themselves)."""
    try:
        state = json.loads(Path(path).read_text())
        if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("phase") not in PHASES:
            raise ValueError("not an update state")
    except FileNotFoundError:
        return empty()
    except (OSError, ValueError) as exc:
        state = empty()
        note(state, "state-unreadable", None, f"{type(exc).__name__}: {exc}")
        return state
    base = empty()
    base.update(state)
    return base


def write(path: Path, state: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    data = (json.dumps(state, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def note(state: dict, event: str, version: str | None, reason: str | None = None) -> None:
    entry = {"at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "event": event, "version": version}
    if reason:
        entry["reason"] = reason
    state["history"] = [*state.get("history", []), entry][-HISTORY:]


aware = clock.aware  # an ISO-8601 time with its zone (the health answer's ``sync.since``, a word's time), or None
