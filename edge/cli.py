"""The ``edge`` command: run the van, manage its database, check catalogues and the audit chain."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path

import click

from edge import config as config_mod
from edge.core import logfmt
from edge.core.errors import EdgeError


class _Context:
    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self._settings = None

    @property
    def settings(self) -> config_mod.Settings:
        if self._settings is None:
            self._settings = config_mod.load(self.config_path)
        return self._settings

    def open_db(self):
        from edge.store.db import open_db
        from edge.store.migrations import migrate

        db = open_db(self.settings.db_path)
        migrate(db)
        return db


def _fail(exc: EdgeError) -> None:
    click.echo(exc.message_en, err=True)
    click.echo(exc.message_ar, err=True)
    sys.exit(1)


class _Group(click.Group):
    """Turns our user-facing errors into a two-language message and exit status 1, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EdgeError as exc:
            _fail(exc)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            _fail(EdgeError(
                "قاعدة بيانات العربة مشغولة بعملية أخرى. انتظر قليلًا ثم أعد المحاولة.",
                "The van database is busy with another process. Wait a moment and try again.",
                detail=str(exc), code="store-busy",
            ))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None,
    help="Van settings file (default: $EDGE_CONFIG, else /etc/edge/van.toml, else demo defaults).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.version_option(package_name="mtc-edge")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Software for a mobile technological-centre van."""
    logfmt.configure(logging.DEBUG if verbose else logging.INFO)  # journal priority prefixes under systemd
    ctx.obj = _Context(config_path)


@main.command()
@click.option("--host", default=None, help="Address for the local web UI (default from settings).")
@click.option("--port", type=int, default=None, help="Port for the local web UI (default from settings).")
@click.pass_obj
def run(obj: _Context, host: str | None, port: int | None) -> None:
    """Run every van process in one (for development and the demo van)."""
    from edge import runner

    runner.run_all(obj.settings, host=host, port=port)


@main.command()
@click.option("--host", default=None, help="Address for the local web UI (default from settings).")
@click.option("--port", type=int, default=None, help="Port for the local web UI (default from settings).")
@click.pass_obj
def web(obj: _Context, host: str | None, port: int | None) -> None:
    """Serve the kiosk, console, display and API, drive the printer, and keep the housekeeping (edge-web unit)."""
    from edge import runner

    runner.run_all(obj.settings, host=host, port=port, only=("web", "housekeeping"))


@main.command()
@click.pass_obj
def sync(obj: _Context) -> None:
    """Send the outbox to the governorate and apply what it sends back (runs until stopped)."""
    import signal
    import threading

    from edge.runner import sync_agent

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    from common import sdnotify  # under systemd: ready, and watchdog pings while the agent's thread lives

    sdnotify.run_with_watchdog(lambda: sync_agent(obj.settings).run(stop), stop, "sync", "sync running")


@main.command()
@click.option("--accept-view", "accept", metavar="CAMERA", multiple=True,
              help="Accept CAMERA's new view after re-aiming it on purpose (the running watch relearns it), then exit.")
@click.pass_obj
def watch(obj: _Context, accept: tuple[str, ...]) -> None:
    """Watch the cameras, GPS and modem; write their status for the operator and the governorate."""
    import signal
    import threading

    from edge.services.watch import forget_reference
    from edge.services.watch import run as run_watch

    if accept:
        for name in accept:
            if name not in obj.settings.devices.cameras:
                known = ", ".join(obj.settings.devices.cameras) or "none"
                raise click.BadParameter(f"no camera '{name}' in the settings (cameras: {known})")
            forget_reference(obj.settings.data_dir / "cctv", name)
            click.echo(f"camera {name}: new view accepted; the watch learns it within seconds")
        return
    obj.open_db().close()  # create or migrate the schema before the monitors write to it
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    from common import sdnotify  # under systemd: ready, and watchdog pings while the watch thread lives

    sdnotify.run_with_watchdog(lambda: run_watch(obj.settings, stop), stop, "watch", "watch running")


@main.group()
def db() -> None:
    """The van's SQLite database."""


@db.command("migrate")
@click.pass_obj
def db_migrate(obj: _Context) -> None:
    """Create the database or bring its schema up to date (safe to run again)."""
    from edge.store.db import open_db
    from edge.store.migrations import migrate

    database = open_db(obj.settings.db_path)
    applied = migrate(database)
    if applied:
        click.echo(f"{obj.settings.db_path}: applied {', '.join(applied)}")
    else:
        click.echo(f"{obj.settings.db_path}: schema is up to date")


@main.command()
@click.pass_obj
def status(obj: _Context) -> None:
    """Print the van's state as JSON: identity, outbox backlog, devices."""
    from edge.store import device_status, outbox

    database = obj.open_db()
    backlog = outbox.backlog(database)
    click.echo(json.dumps({
        "van": obj.settings.van.id,
        "governorate": obj.settings.van.governorate,
        "database": str(obj.settings.db_path),
        "outbox": {"pending": backlog.pending, "oldest": backlog.oldest_created_at, "by_stream": backlog.by_stream},
        "devices": [asdict(d) for d in device_status.current(database)],
    }, ensure_ascii=False, indent=2))


@main.group()
def catalog() -> None:
    """The service catalogue."""


@catalog.command("check")
@click.argument("file", type=click.Path(dir_okay=False), required=False)
def catalog_check(file: str | None) -> None:
    """Validate a catalogue file (default: the shipped one); report the line at fault."""
    from edge.core import catalogue

    path = Path(file) if file else catalogue.default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    cat = catalogue.loads(text, source=str(path))
    click.echo(
        f"{path}: OK — catalogue version {cat.version} ({cat.published}), "
        f"{len(cat.services)} services in {len(cat.categories)} categories"
    )


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.pass_obj
def audit_verify(obj: _Context) -> None:
    """Check the audit log's hash chain; name the first tampered entry if any."""
    from edge.core.digits import to_eastern
    from edge.store import audit_log
    from edge.store.db import open_db

    # Never create or migrate here: verifying the wrong (empty) file must not report "intact".
    database = open_db(obj.settings.db_path, must_exist=True)
    broken = audit_log.verify(database)
    count = database.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    if broken is None:
        click.echo(f"audit log OK: {count} entries, chain intact")
        click.echo(f"سجل التدقيق سليم: {to_eastern(count)} قيد، السلسلة غير منقطعة")
        return
    click.echo(f"audit log TAMPERED: first bad entry is #{broken.seq} ({broken.reason})", err=True)
    click.echo(f"تم العبث بسجل التدقيق: أول قيد غير سليم رقم {to_eastern(broken.seq)} ({broken.reason})", err=True)
    sys.exit(1)


@main.group("config")
def config_group() -> None:
    """The van's settings file."""


@config_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.pass_obj
def config_check(obj: _Context, file: str | None) -> None:
    """Validate a settings file and print the effective settings as JSON."""
    settings = config_mod.load(file or obj.config_path)
    config_mod.load_catalogue(settings)  # fee overrides must name real services
    config_mod.check_devices(settings)  # what each device checks at start, in its own words
    click.echo(json.dumps(asdict(settings), default=str, ensure_ascii=False, indent=2))


from edge.cli_codes import codes  # noqa: E402  (the group lives in its own module)

main.add_command(codes)

from edge.cli_operators import operator  # noqa: E402

main.add_command(operator)

if __name__ == "__main__":
    main()
