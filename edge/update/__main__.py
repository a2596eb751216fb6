"""``python -m edge.update``: verify and apply a release, recover after a restart, show the state.

On a van (docs/updates.md) it runs as root: ``recover`` from ``edge-update-recover.service`` before the
van's units start, ``settle`` from ``edge-update-check.service`` once they run, ``apply-ready`` from
``edge-update.service`` when a release sent down over MQTT is whole (``edge-update.path`` watches for the
marker edge.update.incoming writes), ``apply`` for a folder by hand (a release on a USB stick), ``retry`` from
``edge-update-retry.timer`` (a release deferred because the link dropped during its check).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click

from edge.core.errors import EdgeError
from edge.update import install as install_mod
from edge.update import received as received_mod
from edge.update import verify as verify_mod
from edge.update.errors import UpdateError

SOFTWARE = install_mod.SOFTWARE
DATA = "/var/lib/edge"
UNITS = "/etc/systemd/system"
RELOAD = "systemctl daemon-reload"
STATE = install_mod.STATE
ANCHOR = "/etc/edge/update-root.json"


def _options(f):
    f = click.option("--restart-command", default="", help="Run after every switch, e.g. "
                     "'systemctl restart edge.target' (default: restart nothing).")(f)
    f = click.option("--units", default=None, help="Where the van's systemd units are: each version's units are "
                     f"put there when the van switches to it. Default: {UNITS} when --software is {SOFTWARE} (a "
                     "van), else none; '' for none.")(f)
    f = click.option("--reload-command", default=RELOAD, show_default=True,
                     help="Run after the units changed, before the restart ('' for nothing).")(f)
    f = click.option("--link-grace", type=click.FloatRange(min=0), default=900.0, show_default=True,
                     help="settle: seconds a version a power cut caught being checked has, after the start, to "
                     "connect to the governorate (when it was connected before the switch).")(f)
    f = click.option("--health-url", default=None, help="Must answer healthy (200, or 503 for a printer, scanner or "
                     "outbox only) within the deadline after a switch, e.g. http://127.0.0.1:8080/api/health.")(f)
    f = click.option("--deadline", type=click.FloatRange(min=1), default=120.0, show_default=True,
                     help="Seconds a new version has to report healthy.")(f)
    f = _data(f)
    f = _state(f)
    return click.option("--software", type=click.Path(file_okay=False, path_type=Path), default=SOFTWARE,
                        show_default=True)(f)


def _data(f):
    return click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=DATA, show_default=True,
                        help="The van's data dir (the sync agent's, user edge): a release received over the link "
                        "waits in <data>/update/staging.")(f)


def _state(f):
    return click.option("--state", type=click.Path(file_okay=False, path_type=Path), default=STATE,
                        show_default=True, help="The updater's own folder (root's): its state, the metadata TUF "
                        "trusts, the release being verified. Never under --data.")(f)


def _units(software, units) -> Path | None:
    if units is None:
        return Path(UNITS) if Path(software) == Path(SOFTWARE) else None
    return Path(units) if units else None


def _command(line: str):
    def run() -> bool:
        """True when it worked (or there is nothing to run)."""
        if not line:
            return True
        try:
            return subprocess.run(shlex.split(line), check=False).returncode == 0
        except OSError:
            return False

    return run


def _updater(software, state, units, deadline, health_url, restart_command, reload_command,
             seed_pip=True, data=None, link_grace=900.0) -> install_mod.Updater:
    if data is not None and Path(os.path.abspath(state)).is_relative_to(os.path.abspath(data)):
        raise UpdateError("مجلد حالة التحديث يجب ألا يكون داخل مجلد بيانات العربة.",
                          f"The updater's folder ({state}) must not be inside the van's data dir ({data}): the "
                          "van's user owns that one.", code="update-layout")
    return install_mod.Updater(install_mod.Layout(software, state, _units(software, units)),
                               health=install_mod.Health(deadline_s=deadline, url=health_url,
                                                         link_grace_s=link_grace),
                               restart=_command(restart_command), reload=_command(reload_command), seed_pip=seed_pip)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EdgeError as exc:
            click.echo(exc.message_en, err=True)
            click.echo(exc.message_ar, err=True)
            if exc.detail and exc.detail != exc.message_en:
                click.echo(exc.detail, err=True)
            sys.exit(1)


@click.group(cls=_Group)
def main() -> None:
    """The van's software updates (docs/updates.md)."""


@main.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--anchor", type=click.Path(dir_okay=False, path_type=Path), default=ANCHOR, show_default=True,
              help="The governorate's root.json this van was installed with.")
@click.option("--no-pip", is_flag=True, help="Give the new version no pip of its own (tests).")
@_options
def apply(source, anchor, no_pip, software, data, state, deadline, health_url, reload_command, units,
          restart_command, link_grace) -> None:
    """Verify the release offered in SOURCE (TUF), install it beside the running one, switch, check, roll back."""
    _apply(source, anchor, _updater(software, state, units, deadline, health_url, restart_command, reload_command,
                                    seed_pip=not no_pip))


@main.command("apply-ready")
@click.option("--anchor", type=click.Path(dir_okay=False, path_type=Path), default=ANCHOR, show_default=True,
              help="The governorate's root.json this van was installed with.")
@click.option("--no-pip", is_flag=True, help="Give the new version no pip of its own (tests).")
@_options
def apply_ready(anchor, no_pip, software, data, state, deadline, health_url, reload_command, units,
                restart_command, link_grace) -> None:
    """Apply the release the sync agent received whole over MQTT (<data>/update/staging/READY names it), then
    forget its chunks, whatever the outcome: a refused release is not tried again until the hub offers one anew.

    The staging folder is the sync agent's (user edge): the release is first copied out of it into root's own
    folder, without following a link and reading regular files only (edge.update.received); TUF verifies that
    copy, and only that copy is installed."""
    staging = Path(data) / "update" / "staging"
    name = received_mod.ready(staging)
    if name is None:
        if received_mod.forget(staging, ""):  # READY names no bundle: nothing to apply, and never a path
            click.echo("READY names no bundle; removed", err=True)
            sys.exit(1)
        click.echo("no release received whole; nothing to apply")
        return
    updater = _updater(software, state, units, deadline, health_url, restart_command, reload_command,
                       seed_pip=not no_pip, data=data)
    _terminate_cleanly()
    # The lock is held from the copy to the outcome: a second apply-ready (by hand) is refused (update-busy) and
    # touches nothing: the one running forgets the bundle when done.
    with updater:
        try:
            source = received_mod.copy_out(staging, name, updater.layout.received)
            received_mod.forget(staging, name)  # the copy is root's now: the disk gets the staging room back
            _apply(source, anchor, updater)
        except _Terminated:
            _note_refused(updater, name, "terminated: the update's unit was stopped (SIGTERM); what it "
                          "interrupted is finished or undone by recover")
            raise
        except EdgeError as exc:
            _note_refused(updater, name, f"{exc.code}: {exc.detail or exc.message_en}")
            raise
        except Exception as exc:  # a fault of ours: said in the state too, so the governorate sees why
            _note_refused(updater, name, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            received_mod.forget(staging, name)
            shutil.rmtree(updater.layout.received, ignore_errors=True)


class _Terminated(SystemExit):
    """SIGTERM, as an exit the ``finally`` clauses see (and the outcome is noted)."""


def _terminate_cleanly() -> None:
    """systemd's stop (or the unit's timeout) sends SIGTERM: end through the ``finally`` clauses (the release's
    chunks and copy removed, the outcome noted) instead of dying mid-line. What was interrupted is the same as a
    power cut at that instant, which ``recover`` finishes or undoes (the crash-point test)."""
    def stop(signum, frame):
        raise _Terminated(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _note_refused(updater: install_mod.Updater, name: str, reason: str) -> None:
    """A release refused before it was installed (TUF said no, installing failed, the unit stopped): in the state's
    history, so the hub's fleet screen and a technician see why. apply-ready holds the update lock."""
    updater.note("refused-release", name, reason[:500])


def _apply(source, anchor, updater: install_mod.Updater) -> None:
    with updater:
        updater.recover()
        verified = verify_mod.verify(source, anchor=anchor, trusted_dir=updater.layout.trusted,
                                     dest=updater.layout.verified / "incoming")
    try:
        vid, healthy = install_mod.apply(verified, updater)
    finally:
        shutil.rmtree(verified.folder, ignore_errors=True)
    st = updater.state()
    if healthy:
        click.echo(f"version {verified.version} ({vid}) runs and is healthy")
    elif vid in st["deferred"]:
        _said_deferred(verified.version, vid, st)
        sys.exit(3)
    else:
        reason = st["refused"].get(vid, "")
        click.echo(f"version {verified.version} ({vid}) failed its health check and was rolled back: {reason}",
                   err=True)
        click.echo(f"رُفض الإصدار {verified.version} لفشل فحص سلامته وأُعيدت العربة إلى إصدارها السابق.", err=True)
        _needs_technician(updater)
        sys.exit(3)


def _said_deferred(version: str, vid: str, st: dict) -> None:
    """A version rolled back because the link dropped during its check (the version gone back to could not connect
    either): deferred, tried again once the link is back."""
    entry = st["deferred"][vid]
    click.echo(f"version {version} ({vid}) was rolled back: the link to the governorate dropped during its check "
               f"({entry.get('reason')}), and the version gone back to could not connect either. It is deferred, "
               f"not refused: tried again once the link is back (try {entry.get('attempts')} of "
               f"{install_mod.TRIES}).", err=True)
    click.echo(f"انقطع الاتصال بالمحافظة أثناء فحص الإصدار {version} فأُعيدت العربة إلى إصدارها السابق، ولم "
               "يتصل هو أيضًا: الإصدار مؤجل وليس مرفوضًا، ويُعاد تجربته حين يعود الاتصال.", err=True)


def _needs_technician(updater: install_mod.Updater) -> None:
    """Exit 4, saying so in both languages, when the version the van went back to is not healthy either."""
    back = updater.rolled_back_unhealthy()
    if back:
        click.echo(f"The version rolled back to is not healthy either: {back}. The van needs a technician "
                   "(its software runs, its health check fails — the reason says why).", err=True)
        click.echo("الإصدار السابق الذي أُعيدت إليه العربة لا يعمل بسلامة أيضًا: تحتاج العربة إلى فني "
                   "(السبب مذكور أعلاه بالإنجليزية).", err=True)
        sys.exit(4)


@main.command()
@_options
def recover(software, data, state, deadline, health_url, reload_command, units, restart_command,
            link_grace) -> None:
    """Finish or undo an update a power cut interrupted; run at every start, before the van's units."""
    updater = _updater(software, state, units, deadline, health_url, restart_command, reload_command)
    with updater:
        current = updater.recover()
    click.echo(f"current version: {current or 'none installed by the updater'}")


@main.command()
@_options
def settle(software, data, state, deadline, health_url, reload_command, units, restart_command,
           link_grace) -> None:
    """At every start, once the van's units run (edge-update-check.service): decide what recover left undecided
    before them — a new version whose check a power cut interrupted is kept, or rolled back (exit 3); a version a
    rollback at boot went back to is checked (exit 4 when it is not healthy either: the van needs a technician)."""
    if not health_url or not restart_command:
        raise click.UsageError("settle needs --health-url and --restart-command: it asks the running units, and a "
                               "rollback must restart them.")
    updater = _updater(software, state, units, deadline, health_url, restart_command, reload_command,
                       link_grace=link_grace)
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(updater)
        except UpdateError as exc:
            if exc.code != "update-busy":
                raise
            # An update runs (the restart of edge.target it makes starts this unit on a van whose previous version
            # had none): it checks what it switched to itself; a power cut during it is decided at the next start.
            click.echo("an update is running: it checks its own outcome; nothing to decide here")
            return
        if not updater.undecided():
            click.echo("no update left undecided")
            return
        vid = updater.state()["candidate"]
        reason = updater.settle()
        st = updater.state()
    if reason is None:
        click.echo(f"the version this van runs is healthy: {st['current']}")
        return
    if vid in st["deferred"]:
        _said_deferred(st["deferred"][vid].get("version") or "?", vid, st)
        sys.exit(3)
    click.echo(f"The version the van started with after a restart is not healthy: {reason}", err=True)
    click.echo("الإصدار الذي بدأت به العربة بعد إعادة التشغيل لا يعمل بسلامة؛ التفاصيل بالإنجليزية أعلاه.", err=True)
    _needs_technician(updater)
    click.echo(f"The van went back to its previous version ({st['current']}).", err=True)
    click.echo("أُعيدت العربة إلى إصدارها السابق.", err=True)
    sys.exit(3)


@main.command()
@_options
@click.option("--word-wait", type=click.FloatRange(min=0), default=install_mod.WORD_WAIT_S, show_default=True,
              help="Seconds after the link came back to wait for the governorate's word on the release to run "
              "before the deferred release is tried without it (after this boot's start when the link's record is "
              "from before this boot).")
def retry(software, data, state, deadline, health_url, reload_command, units, restart_command,
          link_grace, word_wait) -> None:
    """Every 10 minutes (edge-update-retry.timer): a release deferred because the link dropped during its check (the
    version gone back to could not connect either) is switched to again from its installed folder once the running
    version says its sync is connected and the governorate's word since then (kept by the sync agent in
    <data>/update/staging/TARGET) does not cancel it, and checked as after an update: kept (exit 0), deferred again or
    refused after a rollback (exit 3; 4 when the van needs a technician). Nothing deferred, the link still down, no
    word yet (at most --word-wait), an update running: nothing is tried (exit 0); cancelled by the word: dropped
    (exit 0)."""
    if not health_url or not restart_command:
        raise click.UsageError("retry needs --health-url and --restart-command: it asks the running units whether the "
                               "link is up, and a switch must restart them.")
    if not install_mod.Updater(install_mod.Layout(software, state)).state()["deferred"]:
        click.echo("no release deferred")  # every 10 minutes on every van: read the state, nothing more
        return
    updater = _updater(software, state, units, deadline, health_url, restart_command, reload_command)
    try:
        with updater:
            outcome, why = updater.retry(received_mod.target(Path(data) / "update" / "staging"),
                                         word_wait_s=word_wait)
            st = updater.state()
    except UpdateError as exc:
        if exc.code != "update-busy":
            raise
        click.echo("an update is running; the deferred release is tried at a later turn")
        return
    if outcome == "nothing":
        click.echo("no release deferred")
    elif outcome == "waiting":
        click.echo(f"a release is deferred; not tried now: {why}")
    elif outcome == "cancelled":
        click.echo(f"the deferred release is cancelled, not tried: {why}")
        click.echo("أُلغي الإصدار المؤجل بطلب من المحافظة؛ لن تُعاد تجربته.")
    elif outcome == "kept":
        version = (updater.layout.installed(st["current"]) or {}).get("version")
        click.echo(f"the deferred version {version} ({st['current']}) runs now and is healthy")
        click.echo(f"الإصدار المؤجل {version} يعمل الآن بسلامة.")
    elif outcome == "deferred":
        vid = next(iter(st["deferred"]))
        _said_deferred(st["deferred"][vid].get("version") or "?", vid, st)
        sys.exit(3)
    else:
        click.echo(f"The deferred version was tried again, failed its health check and was rolled back: it is refused "
                   f"for good: {why}", err=True)
        click.echo("أُعيدت تجربة الإصدار المؤجل ففشل فحص سلامته وأُعيدت العربة إلى إصدارها السابق: رُفض الإصدار.",
                   err=True)
        _needs_technician(updater)
        sys.exit(3)


@main.command()
@_options
def check(software, data, state, deadline, health_url, reload_command, units, restart_command,
          link_grace) -> None:
    """Check the version the van runs now (edge --version, then --health-url): exit 0 when healthy — which ends the
    need of a technician a failed rollback left (the hub's "software" alert clears) — else 1 with the reason; 2 when
    a restart left an update undecided, which settle decides (edge-update-check.service)."""
    if not health_url:
        raise click.UsageError("check needs --health-url (e.g. http://127.0.0.1:8080/api/health): edge --version "
                               "alone does not say the van's web process serves.")
    updater = _updater(software, state, units, deadline, health_url, restart_command, reload_command)
    with updater:
        if updater.undecided():
            click.echo("A restart left a software update undecided; it is decided once the van's units run: "
                       "systemctl restart edge-update-check.service (python -m edge.update settle).", err=True)
            click.echo("أعيد تشغيل العربة قبل اكتمال فحص تحديث؛ يُحسم بتشغيل: "
                       "systemctl restart edge-update-check.service", err=True)
            sys.exit(2)
        reason = updater.check()
    if reason:
        click.echo(f"The version this van runs is not healthy: {reason}", err=True)
        click.echo("الإصدار الذي تعمل به العربة لا يعمل بسلامة؛ التفاصيل بالإنجليزية أعلاه.", err=True)
        sys.exit(1)
    click.echo("the version this van runs is healthy")


@main.command()
@click.option("--software", type=click.Path(file_okay=False, path_type=Path), default=SOFTWARE, show_default=True)
@_state
def status(software, state) -> None:
    """The update state as JSON."""
    lay = install_mod.Layout(software, state)
    st = install_mod.Updater(lay).state()
    st["pointed"] = lay.pointed()
    st["pointed_version"] = (lay.installed(lay.pointed()) or {}).get("version")
    click.echo(json.dumps(st, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
