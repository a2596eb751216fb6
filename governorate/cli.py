"""The ``governorate`` command: run the hub's ingest, look at vans, send decisions down to a van."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from edge.core import logfmt
from edge.core.errors import EdgeError
from edge.sync import protocol as p
from governorate.ingest import Hub
from governorate.store_open import open_store

_broker = click.option("--broker", default="mqtt://127.0.0.1:1883", show_default=True, help="MQTT broker URL.")
_db = click.option("--db", "db_path", default="var/hub/hub.db", show_default=True,
                   help="The hub's SQLite file, or a postgresql:// URL.")
_gov = click.option("--governorate", "gov", default="01", show_default=True, help="Governorate code served.")


_tls = click.option("--tls-dir", "tls_dir", type=click.Path(file_okay=False, exists=True), default=None,
                    envvar="GOVERNORATE_TLS_DIR",
                    help="Folder with ca.pem, hub-cert.pem, hub-key.pem (the CA folder's hub/); "
                         "needed for an mqtts:// broker.")


def tls_options(broker: str, tls_dir: str | None) -> dict | None:
    """paho's tls_set() arguments for the hub's identity; None for a plain mqtt:// broker."""
    if urlsplit(broker).scheme != "mqtts":
        return None
    if not tls_dir:
        raise click.UsageError("an mqtts:// broker needs --tls-dir with ca.pem, hub-cert.pem and hub-key.pem")
    folder = Path(tls_dir)
    files = {"ca_certs": folder / "ca.pem", "certfile": folder / "hub-cert.pem", "keyfile": folder / "hub-key.pem"}
    missing = [str(f) for f in files.values() if not f.is_file()]
    if missing:
        raise click.UsageError(f"missing in --tls-dir: {', '.join(missing)}")
    return {k: str(v) for k, v in files.items()}


def _hub(db_path: str, gov: str, broker: str, worker: str = "1", tls_dir: str | None = None) -> Hub:
    url = urlsplit(broker)
    return Hub(open_store(db_path), gov, url.hostname or "127.0.0.1", url.port or (8883 if url.scheme == "mqtts"
               else 1883), worker=worker, tls=tls_options(broker, tls_dir))


class _Group(click.Group):
    """Our user-facing errors become one line in English and Arabic and exit status 1, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EdgeError as exc:
            logging.getLogger("governorate").debug("%s: %s", exc.code, exc.detail)
            click.echo(f"{exc.message_en} / {exc.message_ar}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True)
@click.version_option(package_name="mtc-edge")
def main(verbose: bool) -> None:
    """The governorate hub of the mobile technological-centre vans."""
    logfmt.configure(logging.DEBUG if verbose else logging.INFO)  # journal priority prefixes under systemd


@main.command()
@_db
@_gov
@_broker
@click.option("--worker", default="1", show_default=True, help="Worker name (several share the load).")
@_tls
def ingest(db_path: str, gov: str, broker: str, worker: str, tls_dir: str | None) -> None:
    """Take in every van message, acknowledge it after it is stored, track which vans are online."""
    hub = _hub(db_path, gov, broker, worker, tls_dir)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    hub.run(stop)


@main.command()
@_db
def vans(db_path: str) -> None:
    """Print every van the hub has heard from, as JSON lines."""
    store = open_store(db_path)
    for (van,) in store._read("SELECT van FROM vans ORDER BY van"):
        click.echo(json.dumps(store.van(van), ensure_ascii=False))


@main.command("send-status")
@_db
@_gov
@_broker
@click.argument("van")
@click.argument("number")
@click.argument("state")
@click.option("--reason", default=None, help="Why (shown to the citizen), e.g. for a rejection.")
def send_status(db_path: str, gov: str, broker: str, van: str, number: str, state: str, reason: str | None) -> None:
    """Send a request's new state down to the van that registered it."""
    hub = _hub(db_path, gov, broker, worker=f"cli-{int(time.time())}")
    try:
        message = p.RequestStatus(number, state, reason, datetime.now(UTC).isoformat())
        hub.client.connect(hub.host, hub.port)
        hub.client.loop_start()
        msg_id = hub.send(van, message)
        time.sleep(0.5)  # let the publish leave; it is stored and re-sent on the van's next birth anyway
        hub.client.disconnect()
        hub.client.loop_stop()
    except (EdgeError, OSError) as exc:
        click.echo(f"cannot send: {exc}", err=True)
        sys.exit(1)
    click.echo(msg_id)


@main.group()
def staff() -> None:
    """Governorate staff accounts for the web back office."""


@staff.command("add")
@_db
@_gov
@click.argument("username")
@click.option("--name", required=True, help="Full name, shown in the audit.")
@click.option("--role", type=click.Choice(["viewer", "clerk", "admin"]), default="viewer", show_default=True)
@click.password_option(help="Password (asked twice when not given).")
def staff_add(db_path: str, gov: str, username: str, name: str, role: str, password: str) -> None:
    """Add a staff member (or reset one's role and password)."""
    from governorate import staff as staff_mod

    staff_mod.add(open_store(db_path), username, name, role, gov, password)
    click.echo(f"{username}: {role} of governorate {gov}")


@main.command()
@_db
@_gov
@_broker
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--with-ingest/--no-ingest", default=False, show_default=True,
              help="Also run one ingest worker in this process (the demo; production runs `governorate ingest`).")
@click.option("--threads", default=8, show_default=True, type=int)
@_tls
def web(db_path: str, gov: str, broker: str, host: str, port: int, with_ingest: bool, threads: int,
        tls_dir: str | None) -> None:
    """Serve the staff web app (fleet, alerts, back office) with waitress."""
    import waitress

    from governorate.web import create_app

    app = create_app({"DB_PATH": db_path, "STORE": open_store(db_path), "GOVERNORATE": gov, "BROKER_URL": broker,
                      "BROKER_TLS": tls_options(broker, tls_dir)})
    stop = threading.Event()
    if with_ingest:
        hub = _hub(db_path, gov, broker, worker="web-ingest", tls_dir=tls_dir)
        threading.Thread(target=hub.run, args=(stop,), daemon=True, name="ingest").start()
    click.echo(f"governorate {gov} web on http://{host}:{port}/")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="governorate")
    finally:
        stop.set()


if __name__ == "__main__":
    main()
