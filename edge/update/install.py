"""Install a verified release beside the running one, switch with one atomic rename, check health, roll back.

Layout (``Layout``; on a van ``software`` is /opt/mtc-edge and ``state`` /var/lib/edge-update, root's own folder:
never under the van's data dir, which the less trusted user ``edge`` owns and could rename or replace)::

    /opt/mtc-edge/versions/<id>/venv/            one virtualenv per release (id: the release's identity, 16 hex)
    /opt/mtc-edge/versions/<id>/installed.json   written last: a version folder without it is incomplete
    /opt/mtc-edge/current -> versions/<id>       the one the van runs (units start current/venv/bin/edge)
    <state>/state.json                           edge.update.state: phase, current, candidate, previous …
    <state>/trusted/  <state>/received/  <state>/verified/   TUF's trusted metadata, a release copied out of
                                                 the sync agent's staging folder, its verified files (root's only)

A version is installed offline from the verified release: ``pip --no-index --require-hashes`` from its
wheelhouse and its hashed requirements, then its own wheel (verified by TUF). Its ``edge --version`` must
answer with the release's version before the switch is even tried. The switch is a new symlink renamed over
``current`` (rename(2) is atomic: a power cut leaves the old link or the new one). Then the units restart
and the new version must pass :class:`Health` within its deadline; if not, ``current`` is renamed back to the
previous version, the units restart, and the reason is recorded (``refused``: the version is not tried again
by itself) — unless the link alone failed and the version gone back to cannot connect either: then the link is to
blame, and the version is ``deferred`` (:meth:`Updater.retry` switches to it again once the link is back).
:meth:`Updater.recover` runs at every start (before the units) and finishes or undoes whatever a
power cut interrupted, so the van always starts a complete version whose ``edge --version`` answers; what only the
running units can answer (a version a cut caught being checked) :meth:`Updater.settle` decides once they run.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.core.errors import EdgeError
from edge.store import clock as clock_mod
from edge.store.files import write_file
from edge.sync.schema import ROLLED_BACK_UNHEALTHY
from edge.update import state as state_mod
from edge.update.errors import UpdateError
from edge.update.verify import Verified

log = logging.getLogger("edge.update.install")

SOFTWARE = "/opt/mtc-edge"  # a van's software folder
STATE = "/var/lib/edge-update"  # a van's updater folder (root's; edge.config's update.state_dir says the same)
INSTALLED = "installed.json"
UNITS = "units"  # a version's own copy of its release's systemd units (versions/<id>/units/)
UNIT_NAME = re.compile(r"edge[A-Za-z0-9@._-]{0,80}\.(service|path|target|timer|socket)")
POINTER = "current"
KEEP = 2  # versions kept: the current one and the one to roll back to (and a deferred one: Updater.prune)
# The one regression that may be the link's fault, not the version's (regressions). A check that failed on it alone
# is a LinkLost reason; the rollback then asks the version gone back to for the link (Updater._blame_the_link).
LINK_LOST = "sync is not connected to the governorate (it was before the switch)"
TRIES = 3  # a release whose check lost the link this many times in all (apply, then retries) is refused
# How long ``retry`` waits, once the link is back, to hear the governorate's word on the release to run (the downlink
# "update-target", sent at once when the van reports a deferred release) before it tries the deferred one without
# it: two turns of edge-update-retry.timer. A hub that says nothing (down, or too old to speak it) delays a retry by
# this much, never for good.
WORD_WAIT_S = 1200.0


@dataclass(frozen=True)
class LinkBack:
    """Since when the link is back, as ``retry`` measures it: ``elapsed_s`` (how long ago), ``since`` (the wall
    clock's time, for words), ``boot`` (the same moment on this boot's clock: (boot id, seconds), None when the
    health answer gives none of this boot, and the wall clock alone is used)."""

    elapsed_s: float
    since: datetime
    boot: tuple[str, float] | None
    # The health answer's record is of another boot (a power cut while connected, this boot's agent not yet or never
    # writing its own): the link may not be up at all. Measured from this boot's start instead (the link cannot have
    # come back before it): retry waits for this boot's record or a word heard this boot, at most its wait from then.
    before_boot: bool = False

    def heard_since(self, word: dict) -> bool:
        """The word was heard since the link came back: on the boot clock when both were read on this boot's
        (a word from another boot was heard before this boot's link came back), else on the wall clock."""
        heard_boot = word.get("boot")
        if self.boot is not None and heard_boot is not None:
            return heard_boot[0] == self.boot[0] and heard_boot[1] >= self.boot[1]
        return word["heard"] >= self.since


def link_back(sync: dict, now: datetime, boot_now: tuple[str, float] | None) -> LinkBack | None:
    """Since when the link is back, from the running version's health answer (``sync``: ``since`` on the wall
    clock, and on the boot clock ``boot``, ``since_boot_s`` — written by the sync agent, user edge: untrusted), at
    ``now`` (the wall clock) and ``boot_now`` (clock.boot_clock). None: unknown — no wait, and no word counts.

    Measured on the boot clock when the answer's reading is of this boot: a step of the wall clock (NTP putting
    right a van without a reliable RTC, just as the link comes back) neither ends the wait at once nor makes it
    endless. A reading of another boot (the record outlived a restart: a power cut while connected, this boot's agent
    not yet running, crashed, or failing to write): ``before_boot``, measured from this boot's start on its clock —
    the link is not known to be up, and no word of an earlier boot counts (review of camclock, M1: it was taken on
    the wall clock as "back for hours", and the release switched to without the governorate's word). No reading (a
    version from before the boot clock), or no boot clock here: the wall clock, with its rule — a ``since`` ahead of
    it is unknown (a clock set back: a wait that would never end). A reading that is not one, or one of this boot
    ahead of its clock, is unknown."""
    since = state_mod.aware(sync.get("since"))
    if since is None:
        return None
    if "boot" in sync or "since_boot_s" in sync:
        mark = clock_mod.boot_mark(sync.get("boot"), sync.get("since_boot_s"))
        if mark is None:
            return None
        if boot_now is not None and mark[0] == boot_now[0]:
            if mark[1] > boot_now[1]:
                return None
            return LinkBack(boot_now[1] - mark[1], since, mark)
        if boot_now is not None:
            try:
                booted = now - timedelta(seconds=boot_now[1])
            except OverflowError:
                return None
            return LinkBack(boot_now[1], booted, (boot_now[0], 0.0), before_boot=True)
    if since > now:
        return None
    return LinkBack((now - since).total_seconds(), since, None)


class LinkLost(str):
    """A health check's reason when the only thing wrong was the sync link (its last answer: the new version, healthy,
    devices as before, but not connected): the link may have dropped by itself (a tunnel, a cell's edge, the modem
    attaching again). A plain ``str`` everywhere else (the state, the history)."""


@dataclass(frozen=True)
class Layout:
    software: Path  # /opt/mtc-edge
    state: Path  # the updater's own folder (root's): /var/lib/edge-update on a van
    # Where the van's systemd units are (/etc/systemd/system on a van): each version's units are put there when the
    # van switches to it (and back on a rollback). None: units are not the updater's (provisioning, the tests).
    units: Path | None = None

    @property
    def versions(self) -> Path:
        return Path(self.software) / "versions"

    @property
    def pointer(self) -> Path:
        return Path(self.software) / POINTER

    @property
    def state_file(self) -> Path:
        return Path(self.state) / "state.json"

    @property
    def trusted(self) -> Path:
        return Path(self.state) / "trusted"

    @property
    def received(self) -> Path:
        return Path(self.state) / "received"

    @property
    def verified(self) -> Path:
        return Path(self.state) / "verified"

    @property
    def units_written(self) -> Path:
        """The names of the units the updater has put in ``units`` (the only ones it ever removes)."""
        return Path(self.state) / "units.json"

    def folder(self, vid: str) -> Path:
        return self.versions / vid

    def venv(self, vid: str) -> Path:
        return self.folder(vid) / "venv"

    def installed(self, vid: str | None) -> dict | None:
        """The version's record if it is complete, else None."""
        if not vid:
            return None
        try:
            record = json.loads((self.folder(vid) / INSTALLED).read_text())
            return record if isinstance(record, dict) and isinstance(record.get("version"), str) else None
        except (OSError, ValueError):
            return None

    def pointed(self) -> str | None:
        """The version ``current`` names (complete or not), or None when there is no usable link."""
        try:
            target = os.readlink(self.pointer)
        except OSError:
            return None
        parts = Path(target).parts
        return parts[1] if len(parts) == 2 and parts[0] == "versions" else None


@dataclass
class Health:
    """Is a version healthy: its ``edge --version`` answers with its version (always), and ``url`` (e.g. the
    web process's http://127.0.0.1:8080/api/health, once the units restarted) answers healthy (:func:`judge`: 200,
    or 503 for the van's surroundings only) — and, when the answer names a ``version``, the new one's — both within
    ``deadline_s``. ``check`` returns None when healthy, else the reason. ``link_grace_s``: how long a version a
    power cut caught being checked has, after the start, to connect to the governorate (:meth:`link`)."""

    deadline_s: float = 120.0
    url: str | None = None
    interval_s: float = 1.0
    link_grace_s: float = 900.0

    def baseline(self) -> dict | None:
        """What the running version's health answer says before a switch — its sync link and each device's
        state — for :meth:`check` to hold the new version to ("sync connected, devices as before"). Read from a
        503 too: a printer already in fault is part of what the new version is compared with."""
        if not self.url:
            return None
        try:
            _status, body = _ask(self.url, 5)
            answer = json.loads(body)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            log.info("no health baseline before the switch: %s", exc)
            return None
        if not isinstance(answer, dict):
            return None
        sync = answer.get("sync") if isinstance(answer.get("sync"), dict) else {}
        devices = answer.get("devices") if isinstance(answer.get("devices"), dict) else {}
        since = sync.get("since") if isinstance(sync.get("since"), str) else None
        # The same moment on the boot clock, kept as written (edge.update.install.link_back reads it with care).
        # Kept small (it goes into the state with the baseline): anything but a short text or a number is None.
        steady = {k: v if isinstance(v, int | float) or (isinstance(v, str) and len(v) <= 64) else None
                  for k, v in sync.items() if k in ("boot", "since_boot_s")}
        return {"sync_connected": sync.get("connected") is True, "sync_since": since, "sync_steady": steady,
                "devices": {str(k): v for k, v in devices.items() if isinstance(v, str)}}

    @staticmethod
    def command(venv: Path, version: str, timeout: float) -> str | None:
        """The version's own ``edge --version`` must answer, with its version, within ``timeout``."""
        try:
            done = subprocess.run([str(venv / "bin" / "edge"), "--version"], capture_output=True, text=True,
                                  timeout=timeout, env=_clean_env())
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"“edge --version” of {version} did not answer: {type(exc).__name__}: {exc}"[:500]
        if done.returncode != 0 or version not in done.stdout:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            return f"“edge --version” of {version} failed (exit {done.returncode}): {tail}"[:500]
        return None

    def check(self, layout: Layout, vid: str, *, started: bool = True, baseline: dict | None = None) -> str | None:
        end = time.monotonic() + self.deadline_s
        record = layout.installed(vid)
        if record is None:
            return f"version {vid} is not completely installed"
        reason = self.command(layout.venv(vid), record["version"], max(1.0, end - time.monotonic()))
        if reason:
            return reason
        if self.url and started:
            return self._poll(end - time.monotonic(),
                              lambda status, body: judge(record["version"], status, body, baseline),
                              lambda last: f"{self.url} not healthy within {self.deadline_s:g} s ({last})")
        return None

    def link(self, version: str, seconds: float | None = None) -> str | None:
        """Does ``version``'s health answer say its sync is connected to the governorate, within ``seconds``
        (``link_grace_s`` unless said): None when it does, else the reason (a :class:`LinkLost` when the link was all
        that was missing). After a power cut the modem may take minutes to attach."""
        seconds = self.link_grace_s if seconds is None else seconds
        connected = {"sync_connected": True, "devices": {}}
        return self._poll(seconds, lambda status, body: judge(version, status, body, connected),
                          lambda last: f"sync is not connected to the governorate within {seconds:g} s "
                                       f"after the start (it was before the switch; {last})")

    def _poll(self, seconds: float, verdict, failed) -> str | None:
        """Ask the health URL every ``interval_s`` until ``verdict(status, body)`` is None (then None), for ``seconds``
        at most (then ``failed(last verdict)``)."""
        end = time.monotonic() + seconds
        last = "no answer"
        while True:
            try:
                status, body = _ask(self.url, max(0.5, min(5.0, end - time.monotonic())))
                last = verdict(status, body)
                if last is None:
                    return None
                # else wait: the link may take a while to come back, an old process to be replaced
            except (OSError, ValueError, http.client.HTTPException) as exc:  # e.g. not HTTP on that port
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() + self.interval_s > end:
                return LinkLost(failed(last)) if last == LINK_LOST else failed(last)
            time.sleep(self.interval_s)


# What an unhealthy answer (503) of the van's web process may say that is about the van's surroundings, not its
# software: a printer out of paper, a scanner unplugged, records waiting for a link that is down. The old version
# would say the same; a new one is held to it through the baseline (regressions), not refused for it. Anything
# else (the database cannot be read, a check this updater does not know) is the version's own failure.
SURROUNDINGS = frozenset({"printer", "scanner", "outbox"})


def judge(version: str, status: int, body: bytes, baseline: dict | None) -> str | None:
    """Is this health answer the new version, healthy: None, else why not (the last reason, if its deadline ends).
    200, or 503 for its surroundings only; its version named (when it names one); nothing lost against
    ``baseline``."""
    answered = _answered_version(body)
    said = f"HTTP {status}" + (f", version {answered}" if answered else "")
    if status not in (200, 503) or answered not in (None, version):
        # A process still of the old version answering is not the new one being healthy.
        return said
    if status == 503:
        reasons = _reasons(body)
        if not reasons or not {r.get("check") for r in reasons} <= SURROUNDINGS:
            told = "; ".join(str(r.get("message", r.get("check")))[:120] for r in reasons)
            return f"{said}" + (f": {told}" if told else "")
    worse = regressions(baseline, body)
    return "; ".join(worse) if worse else None


def _reasons(body: bytes) -> list[dict]:
    """The ``reasons`` an unhealthy answer gives (edge.web.api.health), or none when it gives none readable."""
    try:
        answer = json.loads(body)
    except ValueError:
        return []
    reasons = answer.get("reasons") if isinstance(answer, dict) else None
    if not isinstance(reasons, list) or not all(isinstance(r, dict) for r in reasons):
        return []
    return reasons


def _ask(url: str, timeout: float) -> tuple[int, bytes]:
    """The health URL's status and body — a 503's too (it says why it is unhealthy)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read(1 << 16)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, exc.read(1 << 16)
        finally:
            exc.close()


def regressions(baseline: dict | None, body: bytes) -> list[str]:
    """What the new version's health answer lost against the old one's: the sync link, when it was connected, and
    each device that was "ok" and is now in fault. A device that was already failing, or a link that was already
    down (a van out of signal), is not held against the new version."""
    if not baseline:
        return []
    try:
        answer = json.loads(body)
    except ValueError:
        return ["the health answer is not JSON"]
    answer = answer if isinstance(answer, dict) else {}
    worse = []
    sync = answer.get("sync") if isinstance(answer.get("sync"), dict) else {}
    if baseline.get("sync_connected") and sync.get("connected") is not True:
        worse.append(LINK_LOST)
    devices = answer.get("devices") if isinstance(answer.get("devices"), dict) else {}
    for name, state in sorted((baseline.get("devices") or {}).items()):
        if state == "ok" and devices.get(name) == "error":
            worse.append(f"device {name} is in fault (it was ok before the switch)")
    return worse


def _answered_version(body: bytes) -> str | None:
    """The ``version`` a health answer names, if it names one (the web process may not say)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    version = answer.get("version") if isinstance(answer, dict) else None
    return version if isinstance(version, str) else None


def _clean_env() -> dict[str, str]:
    """No virtualenv or pip settings of the caller leak into the version being run or installed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON")) and k != "VIRTUAL_ENV"}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], what: str) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env())
    except OSError as exc:
        raise UpdateError(f"فشل تثبيت التحديث: {what}.", f"Installing the update failed: {what} ({exc}).",
                          code="update-install") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise UpdateError(f"فشل تثبيت التحديث: {what}. تبقى العربة على إصدارها الحالي.",
                          f"Installing the update failed: {what}. The van keeps running its current version.",
                          detail=tail, code="update-install")


def make_venv(python: str, venv: Path, requirements: Path, wheels: Path, project_wheel: Path, *,
              seed_pip: bool = True, run: Callable[[list[str], str], None] = _run) -> None:
    """A fresh virtualenv in ``venv`` made by ``python`` with exactly a release's locked packages (``requirements``
    from ``wheels``: no index, every hash checked, the machine's pip settings ignored) and its project's wheel.
    ``seed_pip``: the virtualenv gets a pip of its own (a van's version installs the next one); ``run`` runs each
    step (``cmd``, what it does) and raises its caller's error when one fails."""
    run([python, "-m", "venv", *([] if seed_pip else ["--without-pip"]), str(venv)], "making the virtualenv")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
           "--no-index", "--no-cache-dir"]
    if _has_pins(requirements):
        run([*pip, "--find-links", str(wheels), "--require-hashes", "--only-binary=:all:", "-r", str(requirements)],
            "installing the locked packages")
    run([*pip, "--no-deps", str(project_wheel)], "installing the project's wheel")


def _has_pins(requirements: Path) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in requirements.read_text().splitlines())


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    state_mod.fsync_dir(path.parent)


class Updater:
    """Install, switch, roll back and recover, on one van. One at a time (a lock file in the updater's folder)."""

    def __init__(self, layout: Layout, *, health: Health | None = None, python: str | None = None,
                 restart: Callable[[], None] | None = None, seed_pip: bool = True,
                 reload: Callable[[], None] | None = None):
        self.layout = layout
        self.health = health or Health()
        # The interpreter new virtualenvs are made from: the one the running version was made from.
        self.python = python or getattr(sys, "_base_executable", sys.executable)
        # Restarting the van's units after a switch (systemctl restart edge.target on a van); None: nothing
        # to restart (the tests, an image being prepared).
        self.restart = restart or (lambda: None)
        # Making systemd read unit files again (systemctl daemon-reload) after the updater changed them.
        self.reload = reload or (lambda: None)
        # Each version gets its own pip (ensurepip, offline), so it can install the next one.
        self.seed_pip = seed_pip
        # The clocks retry measures the wait for the governorate's word with (a test gives its own).
        self.wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.boot_clock: Callable[[], tuple[str, float] | None] = clock_mod.boot_clock
        self._lock_fd: int | None = None
        self._depth = 0

    # -- the state ----------------------------------------------------------------------------------

    def state(self) -> dict:
        return state_mod.read(self.layout.state_file)

    def _save(self, st: dict) -> None:
        state_mod.write(self.layout.state_file, st)

    def note(self, event: str, version: str | None, reason: str | None = None) -> None:
        """Add one event to the state's history (held under the update lock)."""
        st = self.state()
        state_mod.note(st, event, version, reason)
        self._save(st)

    def __enter__(self) -> Updater:
        if self._lock_fd is not None:  # held already by this updater (apply-ready holds it around the whole apply)
            self._depth += 1
            return self
        self.layout.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.layout.state_file.parent / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UpdateError("تحديث آخر قيد التنفيذ على هذه العربة.", "Another update is running on this van.",
                              code="update-busy") from None
        self._lock_fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._depth:
            self._depth -= 1
            return
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- install ------------------------------------------------------------------------------------

    def install(self, release: Verified, *, again: bool = False) -> str:
        """Install ``release`` into its own version folder (nothing the van runs is touched); its id. A release that
        failed its health check before is refused, unless ``again``: a technician installing it by hand on the van
        (``provision van install --release``) has decided to try it once more."""
        vid = release.identity[:16]
        st = self.state()
        if again and vid in st["refused"]:
            reason = st["refused"].pop(vid)
            state_mod.note(st, "refusal-cleared", release.version, f"installed again by hand; before: {reason}"[:300])
            self._save(st)
        if self.layout.installed(vid) is not None:
            return vid
        if vid in st["refused"]:
            raise UpdateError("هذا الإصدار فشل في فحص سلامته من قبل ولن يُثبَّت تلقائيًا.",
                              f"Version {release.version} failed its health check before "
                              f"({st['refused'][vid]}); it is not installed again by itself.",
                              code="update-refused")
        st.update(phase="installing", candidate=vid)
        state_mod.note(st, "install", release.version)
        self._save(st)
        folder = self.layout.folder(vid)
        if folder.exists():  # what an interrupted install left
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        venv = self.layout.venv(vid)
        try:
            make_venv(self.python, venv, release.requirements, release.wheels, release.project_wheel,
                      seed_pip=self.seed_pip)
            _keep_units(release.folder / "systemd", folder / UNITS)
            record = {"version": release.version, "identity": release.identity,
                      "installed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
            # Checked before it is marked complete: a version that cannot even start is never switched to.
            reason = self.health.command(venv, release.version, self.health.deadline_s)
            if reason:
                raise UpdateError("الإصدار الجديد لا يعمل بعد تثبيته؛ لم يتم التبديل إليه.",
                                  f"The new version does not start ({reason}); the van was not switched to it.",
                                  detail=reason, code="update-unhealthy")
            write_json_atomic(folder / INSTALLED, record)
        except UpdateError as exc:
            st = self.state()
            if exc.code == "update-unhealthy":
                st["refused"][vid] = exc.detail
            st.update(phase="idle", candidate=None)
            state_mod.note(st, "install-failed", release.version, exc.detail or exc.message_en)
            self._save(st)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        st = self.state()
        st.update(phase="idle", candidate=None)
        state_mod.note(st, "installed", release.version)
        self._save(st)
        return vid

    # -- switch and roll back -----------------------------------------------------------------------

    def _point(self, vid: str) -> None:
        """``current`` → versions/<vid>, by renaming a new link over it (atomic)."""
        tmp = self.layout.pointer.with_name(f".{POINTER}.new")
        if os.path.lexists(tmp):
            os.remove(tmp)
        os.symlink(f"versions/{vid}", tmp)
        os.replace(tmp, self.layout.pointer)
        state_mod.fsync_dir(self.layout.pointer.parent)
        self._units_follow(vid)

    def _units_follow(self, vid: str) -> None:
        """The van's units become version ``vid``'s (written where they differ, the ones the updater put there
        before and ``vid`` does not have removed), then systemd reads them again — before the units restart. A unit
        masked by hand (a link to /dev/null) stays masked; a unit the updater never wrote is never removed. A
        version without units of its own (installed before versions kept them) leaves the units as they are.

        Called after every change of ``current``, and by :meth:`recover`, so a cut at any step ends with
        ``current``'s units; a reload that failed or was cut is done again by the next :meth:`recover` (the state's
        ``units_reload``). A unit that cannot be written is said in the history, never a stuck update."""
        target, src = self.layout.units, self.layout.folder(vid) / UNITS
        if target is None or not src.is_dir():
            return
        want = {f.name: f.read_bytes() for f in sorted(src.iterdir()) if f.is_file() and UNIT_NAME.fullmatch(f.name)}
        if not want:
            return
        record = self.layout.units_written
        try:
            owned = set(json.loads(record.read_text()))
        except (OSError, ValueError, TypeError):
            owned = set()
        try:
            target.mkdir(parents=True, exist_ok=True)
            changes = [name for name, data in want.items() if not _same_unit(target / name, data)]
            stale = [name for name in sorted(owned - set(want)) if os.path.lexists(target / name)
                     and not _masked(target / name)]
            if changes or stale:
                self._mark_reload(True)
            if owned | set(want) != owned:
                write_json_atomic(record, sorted(owned | set(want)))
            for name in changes:
                write_file(target, name, want[name])  # beside, fsynced, renamed (0644 under root's umask)
            for name in stale:
                (target / name).unlink()
            if changes or stale:
                state_mod.fsync_dir(target)
        except (OSError, EdgeError) as exc:  # EdgeError: a full disk (DiskFull)
            log.error("units of version %s not put in place: %s", vid, exc)
            self.note("units-not-written", vid, f"{type(exc).__name__}: {exc}"[:300])
        if self.state().get("units_reload"):
            self._reload()

    def _mark_reload(self, pending: bool) -> None:
        st = self.state()
        if bool(st.get("units_reload")) != pending:
            st["units_reload"] = pending
            self._save(st)

    def _reload(self) -> None:
        """systemd reads the units again; the pending mark is cleared only when that worked."""
        try:
            ok = self.reload() is not False
        except Exception as exc:  # noqa: BLE001 - said, and tried again by the next recover
            log.error("reloading the units failed: %s", exc)
            ok = False
        if ok:
            self._mark_reload(False)
        else:
            self.note("units-reload-failed", None, "systemd did not read the units again; tried at the next start")

    def _keep_live_units(self, vid: str | None) -> None:
        """Before the van leaves version ``vid``, which has no units of its own (installed before versions kept
        them): keep the units it runs with, so a rollback to it puts them back instead of keeping the new ones."""
        target = self.layout.units
        if target is None or not vid or self.layout.installed(vid) is None:
            return
        own = self.layout.folder(vid) / UNITS
        if not own.is_dir():
            _keep_units(target, own)

    def switch(self, vid: str) -> bool:
        """Switch the van to installed version ``vid``; True when it came up healthy, False when it was
        rolled back (the reason is in the state's history and ``refused``)."""
        record = self.layout.installed(vid)
        if record is None:
            raise UpdateError("الإصدار المطلوب غير مثبت بالكامل.", f"Version {vid} is not completely installed.",
                              code="update-install")
        st = self.state()
        if self._drop_deferred(st, keep=vid, why=f"{record['version']} was switched to after it"):
            self._save(st)
        previous = st["current"] or self.layout.pointed()
        if previous == vid and self.layout.pointed() == vid:
            return True
        self._keep_live_units(previous)
        st.update(phase="switching", candidate=vid, previous=previous, baseline=self.health.baseline())
        state_mod.note(st, "switch", record["version"])
        self._save(st)
        self._point(vid)
        return self._after_switch(vid)

    def _after_switch(self, vid: str) -> bool:
        self.restart()
        st = self.state()
        st["phase"] = "checking"
        self._save(st)
        return self._decide(vid, st.get("baseline"))

    def _decide(self, vid: str, baseline: dict | None) -> bool:
        """Keep ``vid`` (switched to, its units restarted) when it is healthy, else roll back; True when kept."""
        reason = self.health.check(self.layout, vid, baseline=baseline)
        if reason is None:
            self._keep(vid)
            return True
        self._roll_back(reason, link_s=self.health.deadline_s if isinstance(reason, LinkLost) else None)
        return False

    def _keep(self, vid: str) -> None:
        st = self.state()
        st.update(phase="idle", current=vid, candidate=None, attention=None, unchecked=None)
        tried = st["deferred"].pop(vid, None)
        state_mod.note(st, "healthy", (self.layout.installed(vid) or {}).get("version"),
                       f"deferred before ({tried.get('attempts')} check(s) lost the link)" if tried else None)
        self._save(st)
        self.prune()

    def settle(self) -> str | None:
        """Once the van's units run after a start (edge-update-check.service): decide what ``recover`` could not
        before them — a new version whose check a power cut interrupted is kept or rolled back, a version a rollback
        at boot went back to is checked. None when nothing was undecided or it is healthy, else the reason."""
        lay = self.layout
        st = self.state()
        vid = st["candidate"]
        if st["phase"] == "checking" and vid and lay.pointed() == vid and lay.installed(vid) is not None:
            # Not held to the devices as they were before the switch: the power cut restarted them all (a printer
            # still off, a camera or the modem still starting). Held to the link when it was up — the only way a
            # fixed release could reach the van — but given link_grace_s for the modem to attach.
            version = (lay.installed(vid) or {}).get("version", "?")
            reason = self.health.check(lay, vid)
            if reason is None and (st.get("baseline") or {}).get("sync_connected"):
                reason = self.health.link(version)
            if reason is None:
                self._keep(vid)
                return None
            # Given the same grace, the version gone back to tells whether the link or the version is to blame.
            self._roll_back(reason, link_s=self.health.link_grace_s if isinstance(reason, LinkLost) else None)
            return reason
        unchecked = st.get("unchecked")
        if unchecked and unchecked == lay.pointed() and lay.installed(unchecked) is not None:
            reason = self.health.check(lay, unchecked)
            st = self.state()
            version = (lay.installed(unchecked) or {}).get("version")
            st["unchecked"] = None
            if reason is None:
                st["attention"] = None
                state_mod.note(st, "healthy", version)
            else:
                log.error("the version a rollback at boot went back to, %s, is not healthy: %s", version, reason)
                st["attention"] = f"{ROLLED_BACK_UNHEALTHY} {version}: {reason[:300]}"
                state_mod.note(st, ROLLED_BACK_UNHEALTHY, version, reason[:500])
            self._save(st)
            return reason
        return None

    def undecided(self) -> bool:
        """A switch or a rollback that ``recover`` left for :meth:`settle` to decide (the units must run for it)."""
        st = self.state()
        pointed = self.layout.pointed()
        return bool(pointed and ((st["phase"] == "checking" and st["candidate"] == pointed)
                                 or st.get("unchecked") == pointed))

    def check(self) -> str | None:
        """Check the version the van runs now (its ``edge --version``, then the health URL): None when healthy — which
        ends a need of a technician the state held (the fleet screen's alert clears) — else the reason, the state
        left as it is. For the technician who repaired the van. What :meth:`settle` has to decide is not decided
        here (the caller says so: :meth:`undecided`)."""
        st = self.state()
        vid = st["current"] or self.layout.pointed()
        if vid is None or self.layout.installed(vid) is None:
            return "no version installed by the updater"
        reason = self.health.check(self.layout, vid)
        if reason is None and st.get("attention"):
            st = self.state()
            st["attention"] = None
            state_mod.note(st, "healthy", (self.layout.installed(vid) or {}).get("version"))
            self._save(st)
        return reason

    def rolled_back_unhealthy(self) -> str | None:
        """Why the van needs a technician — the version a rollback went back to is not healthy either — until a
        version passes its health check again."""
        return self.state().get("attention")

    def _roll_back(self, reason: str, link_s: float | None = None) -> None:
        """Back to the previous version (it must come up too), ``candidate`` refused for ``reason``. ``link_s``: the
        reason was the link alone (:class:`LinkLost`), after that many seconds: the version gone back to gets as long
        to connect (:meth:`_blame_the_link`). Refused meanwhile: a power cut before that ends leaves it refused."""
        st = self.state()
        vid, previous = st["candidate"], st["previous"]
        version = (self.layout.installed(vid) or {}).get("version")
        tried = _attempts(st["deferred"].get(vid))  # checks of it that lost the link before (a retry)
        if st["phase"] != "rolling-back":
            st["phase"] = "rolling-back"
            if vid:
                st["refused"][vid] = reason
                st["deferred"].pop(vid, None)  # never both: refused until the link test says otherwise
            state_mod.note(st, "rollback", version, reason)
            self._save(st)
        if previous and self.layout.installed(previous) is not None:
            self._point(previous)
            self.restart()
            # The version gone back to ran before, but a rollback is not assumed to work: it must come up too (held
            # to nothing more: the link or a device may have changed meanwhile). If it does not, nothing better is
            # installed; the van stays on it and says so, for the fleet screen and a technician.
            back = self.health.check(self.layout, previous)
            st = self.state()
            st.update(phase="idle", current=previous, candidate=None)
            before = (self.layout.installed(previous) or {}).get("version")
            if back is not None:
                log.error("rolled back to %s, which is not healthy either: %s", before, back)
                st.update(attention=f"{ROLLED_BACK_UNHEALTHY} {before}: {back[:300]} (after: {reason[:150]})",
                          unchecked=None)
                state_mod.note(st, ROLLED_BACK_UNHEALTHY, before, f"{back[:300]} (after: {reason[:180]})")
            elif self.health.url is None:  # at boot (recover runs before the units): only its --version answered
                st["unchecked"] = previous  # edge-update-check.service asks the rest once the units run (settle)
                state_mod.note(st, "rolled-back-unchecked", before, reason)
            else:
                st.update(attention=None, unchecked=None)  # it came up: whatever needed a technician does no more
                state_mod.note(st, "rolled-back", before, reason)
                if vid and link_s is not None and self._knows_retry(previous):
                    self._save(st)
                    self._blame_the_link(vid, version, before, reason, link_s, tried)
                    st = self.state()
                elif vid and link_s is not None:  # staff see why it was not deferred, as for the other two outcomes
                    st["refused"][vid] = (f"{reason[:400]} — not deferred: {before} cannot try it again (its updater "
                                          f"predates the deferral)")
        else:  # the very first version: nothing to go back to; it stays, and says so
            st = self.state()
            st.update(phase="idle", current=vid, candidate=None)
            state_mod.note(st, "no-previous-version", version, reason)
        if vid in st["refused"]:
            st["deferred"].pop(vid, None)
        self._save(st)

    def _knows_retry(self, vid: str) -> bool:
        """Does version ``vid`` try a deferred release again by itself? One from before the deferral (2026-12-06) has
        no ``retry`` and no timer, does not report ``update.deferred``, and its prune removes the deferred folder:
        gone back to it, a deferral would never end, and the hub's wave would wait for the van for good (review of
        2026-12-06) — the release is refused then, as before. Told by that version's own updater; a version without
        the project's updater in it (a test release) is taken to know it."""
        found = sorted(self.layout.venv(vid).glob("lib/python3*/site-packages/edge/update/__main__.py"))
        try:
            return not found or "def retry(" in found[0].read_text()
        except (OSError, UnicodeDecodeError):
            return True

    def _blame_the_link(self, vid: str, version: str | None, before: str | None, reason: str, seconds: float,
                        tried: int) -> None:
        """``vid`` (``version``) failed its check on the link alone, after ``seconds`` (``tried`` checks of it lost
        the link before); the van went back to ``before``, which came up. Given as long, does that one connect? Yes:
        the link works and ``vid`` could not use it — refused, as any failed check. No: the link is to blame (a tunnel,
        a cell's edge), not the release — it is **deferred** (``retry`` tries it again once the link is back), unless
        this was the :data:`TRIES`-th check of it that lost the link (then refused, saying so). One release is
        deferred at a time: the newest."""
        connected = self.health.link(before or "?", seconds)
        st = self.state()
        if connected is None:
            st["refused"][vid] = f"{reason[:400]} — {before} connected within {seconds:g} s after the rollback"
            state_mod.note(st, "link-works", before, f"{version} failed on the link; {before} connects")
        else:
            tries = tried + 1
            if tries >= TRIES:
                st["refused"][vid] = (f"{reason[:400]} — the link was down for {before} too, but {tries} checks "
                                      f"of {version} lost it: refused after {TRIES}")
                st["deferred"].pop(vid, None)
                state_mod.note(st, "deferred-refused", version, f"{tries} checks lost the link")
            else:
                st["refused"].pop(vid, None)
                self._drop_deferred(st, keep=vid, why=f"{version} is deferred after it")
                st["deferred"][vid] = {"version": version, "reason": reason[:300], "attempts": tries,
                                       "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
                state_mod.note(st, "deferred", version, f"{before} did not connect within {seconds:g} s either: "
                                                        f"tried again once the link is back ({tries}/{TRIES})")
        self._save(st)

    def _cancel_deferred(self, st: dict, release: str) -> bool:
        """The governorate's word: this van should run ``release``. Every deferred release but it is dropped (event
        ``deferred-cancelled``; saved at once, one atomic write); True when none is left."""
        others = [v for v in st["deferred"] if v != release]
        for other in others:
            state_mod.note(st, "deferred-cancelled", st["deferred"].pop(other).get("version"),
                           f"the governorate asks this van to run {release}")
        if others:
            self._save(st)
        return not st["deferred"]

    @staticmethod
    def _heard_since_deferred(st: dict, word: dict) -> bool:
        """The word was heard after every deferred release was deferred (so it was said knowing of them)."""
        times = [state_mod.aware(entry.get("at")) for entry in st["deferred"].values()]
        return all(t is not None and word["heard"] >= t for t in times)

    def _drop_deferred(self, st: dict, *, keep: str | None, why: str) -> bool:
        """Forget every deferred release but ``keep`` (in ``st``, saved by the caller): the newest offer is the one
        that counts — a release switched to or deferred after one replaces it, as the hub's new offer replaces the
        old (an offer of the running version, a fleet's rollback, too)."""
        others = [v for v in st["deferred"] if v != keep]
        for other in others:
            state_mod.note(st, "deferred-dropped", st["deferred"].pop(other).get("version"), why)
        return bool(others)

    def retry(self, word: dict | None = None, *, word_wait_s: float = WORD_WAIT_S) -> tuple[str, str | None]:
        """Try the deferred release again (``python -m edge.update retry``, edge-update-retry.timer), once the running
        version says its sync is connected **and the governorate has had its word**: the same switch and check as an
        update (a power cut meanwhile is one during an update: :meth:`recover`), from its installed folder.

        ``word``: the governorate's word on the release this van should run, as the sync agent heard it
        (edge.update.received.target: ``{"release": id or None, "heard": datetime}``). It counts only when heard since
        the link came back (the health answer's ``sync.since``): staff may have rolled the fleet back while the van was
        away. A word naming another release **cancels** the deferred one (event ``deferred-cancelled``); one naming it,
        or naming none, lets it be tried now. No word since the link came back: wait (the hub sends it within seconds
        of the van's first report), at most ``word_wait_s`` after the link came back, then try without it.

        ``("nothing", None)``: nothing deferred; ``("cancelled", why)``: the governorate's word dropped it;
        ``("waiting", why)``: not now (the link is still down, no word yet, a restart left an update undecided);
        ``("kept", None)``; after a rollback ``("deferred", reason)`` (the link again) or ``("refused", reason)``."""
        lay = self.layout
        st = self.state()
        if not st["deferred"]:
            return "nothing", None
        pointed = lay.pointed()
        # Undecided first: a retry killed during its check (its unit stopped or timed out, no reboot) leaves the
        # deferred version pointed at and unchecked — it is not "running" until settle or recover decides it, and its
        # entry (with its count of checks that lost the link) must survive that (review of 2026-12-06).
        if st["phase"] != "idle" or self.undecided() or pointed is None:
            return "waiting", "a restart left an update undecided (settle decides it first)"
        gone = [v for v in st["deferred"]
                if (v == pointed and v == st["current"]) or v in st["refused"] or lay.installed(v) is None]
        for vid in gone:
            why = "it runs" if vid == pointed else "refused" if vid in st["refused"] else "no longer installed"
            state_mod.note(st, "deferred-dropped", st["deferred"].pop(vid).get("version"), why)
        if gone:
            self._save(st)
        if not st["deferred"]:
            return "nothing", None
        baseline = self.health.baseline() or {}
        if not baseline.get("sync_connected"):
            return "waiting", "the link is still down"
        # On the boot clock when it can be (a step of the wall clock does not move it), else the wall clock; unknown
        # (None): not waited on, and no word counts (link_back).
        back = link_back({"since": baseline.get("sync_since"), **(baseline.get("sync_steady") or {})},
                         self.wall_clock(), self.boot_clock())
        if word is not None and back is not None and back.heard_since(word):
            release = word["release"]
            if release is not None and self._cancel_deferred(st, release):
                return "cancelled", f"the governorate asks this van to run {release}"
        elif back is not None and back.before_boot and back.elapsed_s < word_wait_s:
            return "waiting", (f"the link's record is from before this boot (the sync agent has not written this "
                               f"boot's yet): no word from the governorate this boot; tried without it "
                               f"{word_wait_s:g} s after the boot ({back.elapsed_s:.0f} s ago)")
        elif back is not None and back.elapsed_s < word_wait_s:
            return "waiting", (f"asking the governorate first: no word from it on the release to run since the link "
                               f"came back ({back.since:%Y-%m-%d %H:%M:%S}Z, {back.elapsed_s:.0f} s ago); tried "
                               f"without it {word_wait_s:g} s after that")
        elif word is not None and word["release"] is not None and self._heard_since_deferred(st, word):
            # No word since the link came back, but one heard while the release was deferred names another: the
            # governorate's silence now is no newer news, and a cancel held is safe to honour (the hub offers the
            # release again if it should run after all); switching is not (review of the cancel, M1).
            if self._cancel_deferred(st, word["release"]):
                return "cancelled", f"the governorate's last word asks this van to run {word['release']}"
        vid = max(st["deferred"], key=lambda v: str(st["deferred"][v].get("at")))
        if self.switch(vid):
            return "kept", None
        st = self.state()
        if vid in st["deferred"]:
            return "deferred", st["deferred"][vid].get("reason")
        return "refused", st["refused"].get(vid)

    # -- after a restart ----------------------------------------------------------------------------

    def recover(self) -> str | None:
        """Finish or undo what a power cut interrupted; returns the version ``current`` names after it."""
        lay = self.layout
        st = self.state()
        tmp = lay.pointer.with_name(f".{POINTER}.new")
        if os.path.lexists(tmp):
            os.remove(tmp)
        phase, vid = st["phase"], st["candidate"]
        if phase == "installing":
            if vid and lay.installed(vid) is None and lay.pointed() != vid:
                shutil.rmtree(lay.folder(vid), ignore_errors=True)
            st.update(phase="idle", candidate=None)
            state_mod.note(st, "install-interrupted", None)
            self._save(st)
        elif phase in ("switching", "checking") and lay.pointed() != vid:
            st.update(phase="idle", candidate=None)  # the rename never happened: the van runs what it ran
            state_mod.note(st, "switch-interrupted", None)
            self._save(st)
        elif phase in ("switching", "checking"):
            if lay.installed(vid) is None:
                self._roll_back(f"version {vid} incomplete after a restart")
            else:
                self._units_follow(vid)  # the cut may have come between the rename and the units
                if self.health.url:  # within an apply: restart the units and check it again, from the start
                    self._after_switch(vid)
                else:  # at boot, before the units: what can be asked now, the rest once they run (settle)
                    self._check_before_units(vid)
        elif phase == "rolling-back":
            self._roll_back(st["refused"].get(vid) or "rollback interrupted by a restart")
        self._repair_pointer()
        if lay.installed(lay.pointed()) is not None:
            self._units_follow(lay.pointed())  # whatever step a cut came at, the units are current's
        self.prune()
        return lay.pointed()

    def _check_before_units(self, vid: str) -> None:
        """At boot, the version a power cut caught being checked: its ``edge --version`` must answer (else it is
        rolled back now); its health answer is left to :meth:`settle`, once the units it starts run."""
        record = self.layout.installed(vid) or {}
        reason = self.health.command(self.layout.venv(vid), record.get("version", "?"), self.health.deadline_s)
        if reason:
            self._roll_back(reason)
            return
        st = self.state()
        if st["phase"] != "checking" or (st["history"][-1:] or [{}])[0].get("event") != "check-after-start":
            st["phase"] = "checking"
            state_mod.note(st, "check-after-start", record.get("version"))
            self._save(st)

    def _repair_pointer(self) -> None:
        """``current`` must name a complete version: the recorded one, else the newest complete one."""
        lay = self.layout
        if lay.installed(lay.pointed()) is not None:
            return
        st = self.state()
        choice = st["current"] if lay.installed(st["current"]) is not None else None
        if choice is None:
            complete = [(r["installed_at"], p.name) for p in lay.versions.glob("*")
                        if (r := lay.installed(p.name)) is not None and p.name not in st["refused"]
                        and p.name not in st["deferred"]]
            choice = max(complete)[1] if complete else None
        if choice is None:
            return  # nothing installed by the updater yet
        self._point(choice)
        st = self.state()
        st["current"] = choice
        state_mod.note(st, "pointer-repaired", lay.installed(choice)["version"])
        self._save(st)

    def prune(self) -> None:
        """Remove incomplete version folders and complete ones beyond current and previous — and the deferred one,
        which ``retry`` switches to again from its folder."""
        lay = self.layout
        if not lay.versions.is_dir():
            return
        st = self.state()
        keep = {lay.pointed(), st["current"], st["previous"], st["candidate"], *st["deferred"]} - {None}
        for p in sorted(lay.versions.iterdir()):
            if p.is_dir() and p.name not in keep:
                shutil.rmtree(p)


def _attempts(entry: object) -> int:
    """How many checks of a deferred release lost the link so far (0 for nothing readable)."""
    value = entry.get("attempts") if isinstance(entry, dict) else None
    return value if isinstance(value, int) and value > 0 else 0


def _keep_units(src: Path, dest: Path) -> None:
    """The unit files in ``src`` (a release's, verified with it; or the live ones), kept as ``dest``: made beside
    and renamed, so a version has all its units or none. Nothing when ``src`` has none."""
    units = [f for f in sorted(src.iterdir()) if f.is_file() and not f.is_symlink() and UNIT_NAME.fullmatch(f.name)] \
        if src.is_dir() else []
    if not units:
        return
    partial = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for f in units:
        shutil.copyfile(f, partial / f.name)
    os.replace(partial, dest)
    state_mod.fsync_dir(dest.parent)


def _masked(path: Path) -> bool:
    try:
        return path.is_symlink() and os.readlink(path) == "/dev/null"
    except OSError:
        return False


def _same_unit(path: Path, data: bytes) -> bool:
    """True when ``path`` holds ``data`` already — or is masked (a link to /dev/null: a technician's decision)."""
    if _masked(path):
        return True
    try:
        return not path.is_symlink() and path.read_bytes() == data
    except OSError:
        return False


def apply(release: Verified, updater: Updater) -> tuple[str, bool]:
    """Recover, install and switch: the whole update of one verified release. (id, healthy)."""
    with updater:
        updater.recover()
        vid = updater.install(release)
        return vid, updater.switch(vid)


