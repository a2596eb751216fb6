"""The ``governorate`` command: run the hub's ingest, look at vans, send decisions down to a van."""

from __future__ import annotations

import getpass
import json
import logging
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from common import sdnotify
from edge.core import logfmt
from edge.core.digits import to_eastern
from edge.core.errors import EdgeError
from edge.core.localtime import VAN_TZ
from edge.sync import protocol as p
from governorate import fleet, metrics, settings
from governorate.ingest import Hub
from governorate.store import parse_iso
from governorate.store_open import open_store, without_password

_broker = click.option("--broker", default="mqtt://127.0.0.1:1883", show_default=True, help="MQTT broker URL.",
                       envvar="GOVERNORATE_BROKER_URL", show_envvar=True)
# No show_default: a URL from the settings file may carry a password, and --help must not print it.
_db = click.option("--db", "db_path", default="var/hub/hub.db", envvar="GOVERNORATE_DB_URL", show_envvar=True,
                   help="The hub's SQLite file, or a postgresql:// URL (default var/hub/hub.db). Keep a password "
                        "off the command line: use the variable or the settings file.")
_gov = click.option("--governorate", "gov", default="01", show_default=True, help="Governorate code served.",
                    envvar="GOVERNORATE_CODE", show_envvar=True)


_tls = click.option("--tls-dir", "tls_dir", type=click.Path(file_okay=False, exists=True), default=None,
                    envvar="GOVERNORATE_TLS_DIR", show_envvar=True,
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


# The broker's listener for the hub (provision governorate init --hub-port): the vans' 8883 refuses the hub's
# certificate-less client ids and admits no hub (docs/provisioning.md, the broker's per-van identity).
HUB_TLS_PORT = 8884


def _hub(db_path: str, gov: str, broker: str, worker: str = "1", tls_dir: str | None = None,
         thresholds: fleet.Thresholds | None = None) -> Hub:
    url = urlsplit(broker)
    return Hub(open_store(db_path), gov, url.hostname or "127.0.0.1", url.port or (HUB_TLS_PORT if url.scheme == "mqtts"
               else 1883), worker=worker, tls=tls_options(broker, tls_dir), thresholds=thresholds)


def _thresholds(silent_after_s: float | None, offline_alert_min: float | None,
                backlog_alert_h: float | None) -> fleet.Thresholds:
    """The alert thresholds given (command line, environment, settings file), the rest from their defaults."""
    given = {"silent_after_s": silent_after_s, "offline_alert_min": offline_alert_min,
             "backlog_alert_h": backlog_alert_h}
    return fleet.Thresholds(**{k: float(v) for k, v in given.items() if v is not None})


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
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              envvar=settings.ENV_VAR, show_envvar=True,
              help=f"Hub settings file (default: {settings.DEFAULT_PATH} when it exists).")
@click.option("-v", "--verbose", is_flag=True)
@click.version_option(package_name="mtc-edge")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """The governorate hub of the mobile technological-centre vans.

    Every option is taken from the command line, else its environment variable, else the settings
    file, else its default.
    """
    logfmt.configure(logging.DEBUG if verbose else logging.INFO)  # journal priority prefixes under systemd
    values, source = settings.load(config_path)
    ctx.obj = {"settings": values, "source": source}
    ctx.default_map = settings.default_map(values, main)


def _web_option(name: str, env: str, kind: type, help_text: str):
    # No default here: what is not given is left to governorate.web.DEFAULTS and fleet.Thresholds.
    return click.option(name, type=kind, default=None, envvar=env, show_envvar=True, help=help_text)


def _alert_options(f):
    for option in reversed((
        _web_option("--silent-after-s", "GOVERNORATE_SILENT_AFTER_S", float,
                    "A connected van heard from less recently than this is shown silent (default 180)."),
        _web_option("--offline-alert-min", "GOVERNORATE_OFFLINE_ALERT_MIN", float,
                    "Alert when a van is offline longer than this many minutes (default 10)."),
        _web_option("--backlog-alert-h", "GOVERNORATE_BACKLOG_ALERT_H", float,
                    "Alert when a van's oldest unsent row is older than this many hours (default 2)."),
    )):
        f = option(f)
    return f


@main.command()
@_db
@_gov
@_broker
@click.option("--worker", default="1", show_default=True, help="Worker name (several share the load).",
              envvar="GOVERNORATE_WORKER", show_envvar=True)
@_tls
@_alert_options
@click.option("--metrics", "metrics_address", default=metrics.DEFAULT_ADDRESS, show_default=True,
              envvar="GOVERNORATE_METRICS", show_envvar=True,
              help="HOST:PORT of this worker's Prometheus /metrics (loopback by default; 'off' for none). "
                   "A second worker on the same machine needs another port.")
def ingest(db_path: str, gov: str, broker: str, worker: str, tls_dir: str | None, silent_after_s: float | None,
           offline_alert_min: float | None, backlog_alert_h: float | None, metrics_address: str) -> None:
    """Take in every van message, acknowledge it after it is stored, track which vans are online, and
    raise and clear the fleet's alerts. Under systemd: ready once running, watchdog pings while the
    ingest loop turns."""
    hub = _hub(db_path, gov, broker, worker, tls_dir, _thresholds(silent_after_s, offline_alert_min, backlog_alert_h))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    metrics.serve(metrics_address, hub.store, hub.thresholds)
    sdnotify.run_with_watchdog(lambda: hub.run(stop), stop, "ingest", f"governorate {gov} ingest worker {worker}",
                               hung=hub.hung)


@main.group(invoke_without_command=True)
@_db
@click.pass_context
def vans(ctx: click.Context, db_path: str) -> None:
    """Print every van of the fleet (heard from, or added and not heard from yet), as JSON lines."""
    if ctx.invoked_subcommand is not None:
        # `vans --db X add …`: the database named before the subcommand is the one it uses (unless it names its own).
        if ctx.get_parameter_source("db_path") not in (click.core.ParameterSource.DEFAULT,
                                                       click.core.ParameterSource.DEFAULT_MAP):
            ctx.meta["vans.db"] = db_path
        return
    store = open_store(db_path)
    for (van,) in store._read("SELECT van FROM vans ORDER BY van"):
        click.echo(json.dumps(store.van(van), ensure_ascii=False))


def _vans_db(ctx: click.Context, db_path: str) -> str:
    """`vans --db X add …`: the database named before the subcommand, unless the subcommand names its own."""
    if "vans.db" in ctx.meta and ctx.get_parameter_source("db_path") in (click.core.ParameterSource.DEFAULT,
                                                                         click.core.ParameterSource.DEFAULT_MAP):
        return ctx.meta["vans.db"]
    return db_path


def _who() -> dict:
    """Who ran the command, for the staff audit: the CLI's records are the actor "cli", with the OS user beside."""
    if os.environ.get("SUDO_USER"):  # under sudo, getuser() is the account sudo ran it as (the service's)
        return {"os_user": os.environ["SUDO_USER"], "sudo": True}
    try:
        return {"os_user": getpass.getuser()}
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (a bare container)
        return {"os_user": f"uid {os.getuid()}" if hasattr(os, "getuid") else "?"}


@vans.command("add")
@_db
@click.argument("van_ids", nargs=-1)
@click.option("--from-broker", "broker_file", type=click.Path(exists=True, dir_okay=False, readable=True),
              help="the broker's access list (dynamic-security.json): every van enrolled in the governorate")
@click.pass_context
def vans_add(ctx: click.Context, db_path: str, van_ids: tuple[str, ...], broker_file: str | None) -> None:
    """Add vans to the fleet before they first connect: the overview lists each as never connected until it does.
    A retired van named here is back in service. Each added, back, or heard from before it was added and sent
    nothing yet is queued the latest trust list, catalogue and holidays it lacks (the count is said)."""
    db_path = _vans_db(ctx, db_path)
    listed = fleet.broker_vans(Path(broker_file).read_text(encoding="utf-8", errors="replace")) if broker_file else []
    if not van_ids and not listed:
        raise click.UsageError("name the vans (V001 V002 …) or give --from-broker dynamic-security.json")
    # Only a van named here is brought back: the access list still holds a retired van whose certificate was kept.
    from governorate import backoffice

    done = fleet.register(open_store(db_path), list(van_ids), details=_who(), listed=listed,
                          on_back=backoffice.queue_latest)
    for van in done.skipped:
        click.echo(f"الوحدة {van} خارج الخدمة: اذكر رقمها لإعادتها / "
                   f"{van} is retired: name it to bring it back (governorate vans add {van})")
    added = [v for v in done if v not in done.back]
    known = len(set(van_ids) | set(listed)) - len(done) - len(done.skipped)
    copies = sum(len(kinds) for kinds in done.queued.values())
    early = " ".join(done.early)
    # Arabic: "the number of …: ٢", Eastern digits, which needs no agreement of the noun with the number.
    click.echo(f"عدد الوحدات المضافة: {to_eastern(len(added))}" + (f" ({' '.join(added)})" if added else "") + "؛ "
               + (f"عادت إلى الخدمة: {' '.join(done.back)}؛ " if done.back else "")
               + f"عدد الوحدات المعروفة من قبل: {to_eastern(known)}"
               + (f" (اتصلت قبل إضافتها: {early})" if early else "")
               + (f"؛ عدد الوحدات خارج الخدمة التي لم تُعَد: {to_eastern(len(done.skipped))}" if done.skipped else "")
               + f"؛ عدد النسخ من آخر ما نُشر التي تنتظر الإرسال: {to_eastern(copies)}"
               + " / "
               + f"{len(added)} van(s) added: {' '.join(added) or '—'}; "
               + (f"back in service: {' '.join(done.back)}; " if done.back else "")
               + f"{known} already known"
               + (f" (connected before being added: {early})" if early else "")
               + (f"; {len(done.skipped)} retired left out" if done.skipped else "")
               + f"; {copies} cop{'y' if copies == 1 else 'ies'} of the latest publications queued")


@vans.command("remove")
@_db
@click.argument("van_ids", nargs=-1, required=True)
@click.pass_context
def vans_remove(ctx: click.Context, db_path: str, van_ids: tuple[str, ...]) -> None:
    """Take vans out of the fleet. One that never connected is removed, with what was queued for it; one the hub
    holds data of (requests, documents, shifts…) is retired: kept for its history, gone from the live screens,
    sent nothing new; `governorate vans add` brings it back."""
    done = fleet.remove(open_store(_vans_db(ctx, db_path)), list(van_ids), details=_who())
    dropped = sum(done.dropped.values())
    click.echo(f"removed (never connected): {' '.join(done.removed) or '—'}"
               + (f" ({dropped} queued downlink(s) dropped)" if dropped else "") + "; "
               f"retired (kept for their history; `vans add` brings one back): {' '.join(done.retired) or '—'}"
               + (f"; already retired: {' '.join(done.already)}" if done.already else ""))


STATUS_WORDS = {"never": "never connected", "online": "online", "silent": "silent", "offline": "offline",
                "retired": "retired"}


@vans.command("list")
@_db
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line (van, status, last_seen, retired_at).")
@click.pass_context
def vans_list(ctx: click.Context, db_path: str, as_json: bool) -> None:
    """Every registered van with its status: never connected, online, silent, offline or retired."""
    rows = fleet.overview(open_store(_vans_db(ctx, db_path)), fleet.Thresholds(), retired=True)
    for v in rows:
        if as_json:
            click.echo(json.dumps({k: v[k] for k in ("van", "status", "last_seen", "session", "retired_at")},
                                  ensure_ascii=False))
        else:
            when = parse_iso(v["retired_at"] if v["status"] == "retired" else v["last_seen"])
            click.echo(f"{v['van']}  {STATUS_WORDS.get(v['status'], v['status']):<15}  "
                       f"{'since' if v['status'] == 'retired' else 'last seen'} "
                       f"{f'{when.astimezone(VAN_TZ):%Y-%m-%d %H:%M} Cairo' if when else '—'}")
    if not as_json:
        counts = {}
        for v in rows:
            counts[v["status"]] = counts.get(v["status"], 0) + 1
        click.echo(f"{len(rows)} van(s)" + "".join(f", {n} {STATUS_WORDS.get(status, status)}"
                                                 for status, n in sorted(counts.items())))


@main.group()
def update() -> None:
    """Software releases sent to the vans over the MQTT link (docs/updates.md)."""


@update.command("offer")
@_db
@click.argument("van")
@click.argument("release", type=click.Path(exists=True, file_okay=False))
def update_offer(db_path: str, van: str, release: str) -> None:
    """Offer the signed RELEASE folder to VAN; the ingest workers send it in chunks, at the lowest priority."""
    from governorate.updates import Updates

    offer = Updates(open_store(db_path)).offer(van, release)
    click.echo(f"release {offer['version']} ({offer['bundle']}, {offer['total']} chunks) offered to {van}; "
               "it goes while the van is online and has nothing else to send")


@update.command("withdraw")
@_db
@click.argument("van")
def update_withdraw(db_path: str, van: str) -> None:
    """Stop sending VAN the release offered to it (what it received stays on the van until a new offer)."""
    from governorate.updates import Updates

    done = Updates(open_store(db_path)).withdraw(van)
    click.echo(f"offer to {van} withdrawn" if done else f"{van} has no offer being sent")


@update.command("status")
@_db
def update_status(db_path: str) -> None:
    """Every van's offer as JSON lines: the release, how much the van holds, its state."""
    from governorate.updates import Updates

    for offer in Updates(open_store(db_path)).offers():
        click.echo(json.dumps({k: v for k, v in offer.items() if k != "have"}, ensure_ascii=False))


@main.command("release-server")
@_db
@click.option("--listen", default="0.0.0.0:8443", show_default=True, envvar="GOVERNORATE_RELEASES_LISTEN",
              show_envvar=True, help="HOST:PORT the vans fetch releases from over HTTPS.")
@click.option("--cert", type=click.Path(dir_okay=False, exists=True), required=True,
              envvar="GOVERNORATE_RELEASES_CERT", show_envvar=True,
              help="The server's certificate (with the name the vans use in update.https_url; the broker's will do).")
@click.option("--key", type=click.Path(dir_okay=False, exists=True), required=True,
              envvar="GOVERNORATE_RELEASES_KEY", show_envvar=True, help="Its private key.")
@click.option("--ca", type=click.Path(dir_okay=False, exists=True), required=True,
              envvar="GOVERNORATE_RELEASES_CA", show_envvar=True,
              help="The governorate CA the vans' certificates come from (a van proves itself with its MQTT identity).")
@click.option("--crl", type=click.Path(dir_okay=False, exists=True), default=None,
              envvar="GOVERNORATE_RELEASES_CRL", show_envvar=True, help="Revoked certificates (the broker's CRL).")
def release_server(db_path: str, listen: str, cert: str, key: str, ca: str, crl: str | None) -> None:
    """Serve the release offered to each van over HTTPS, to vans that fetch it themselves (update.https_url)
    instead of having it pushed over MQTT. Under systemd: ready once listening, watchdog pings while it serves."""
    from governorate.release_server import ReleaseServer, tls_context

    host, _, port = listen.rpartition(":")
    context = tls_context(Path(cert), Path(key), Path(ca), Path(crl) if crl else None)
    server = ReleaseServer(open_store(db_path), context, host or "0.0.0.0", int(port))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    click.echo(f"software releases on https://{host or '0.0.0.0'}:{server.port}/updates/")
    sdnotify.run_with_watchdog(server.serve_forever, stop, "releases", f"releases on {listen}")


@main.group("rollout")
def rollout_group() -> None:
    """Staged rollout of a van software release: canaries, waves, pause on failures (docs/updates.md)."""


@rollout_group.command("start")
@_db
@click.argument("release", type=click.Path(exists=True, file_okay=False))
@click.option("--previous", required=True, help="The id of the release the fleet runs now (16 hex digits).")
@click.option("--previous-release", type=click.Path(exists=True, file_okay=False), default=None,
              help="Its signed folder, to roll the fleet back to (sign it again before a rollback).")
@click.option("--canary", "canaries", multiple=True, help="A canary van (wave 0); repeat for several.")
@click.option("--waves", default="5,20", show_default=True, help="Sizes of the waves after the canaries.")
@click.option("--max-failure-rate", type=float, default=0.2, show_default=True,
              help="A wave whose share of failed vans passes this pauses the rollout.")
def rollout_start(db_path, release, previous, previous_release, canaries, waves, max_failure_rate) -> None:
    """Roll the signed RELEASE out to the fleet: the ingest workers offer it wave by wave."""
    from governorate import rollouts

    try:
        sizes = tuple(int(x) for x in waves.split(","))
    except ValueError:
        raise click.BadParameter(f"{waves!r}: whole numbers separated by commas, e.g. 5,20",
                                 param_hint="--waves") from None
    row = rollouts.start(open_store(db_path), release, previous=previous, previous_folder=previous_release,
                         canaries=canaries, wave_sizes=sizes, max_failure_rate=max_failure_rate)
    click.echo(f"rollout {row['id']}: release {row['target_version']} ({row['target']}) after {row['previous']}, "
               f"canaries {', '.join(row['canaries']) or 'none'}, waves {row['wave_sizes']}")


@rollout_group.command("status")
@_db
def rollout_status(db_path) -> None:
    """The rollout in force and every van's software, as JSON."""
    from dataclasses import asdict

    from governorate import rollouts

    store = open_store(db_path)
    vans = [asdict(v) | {"refused": sorted(v.refused), "deferred": sorted(v.deferred)}
            for v in rollouts.fleet(store).values()]
    click.echo(json.dumps({"rollout": rollouts.current(store), "vans": vans}, ensure_ascii=False, indent=1))


@rollout_group.command("resume")
@_db
def rollout_resume(db_path) -> None:
    """Go on after a pause (the vans that failed keep the version they went back to)."""
    from governorate import rollouts

    row = rollouts.resume(open_store(db_path))
    click.echo(f"rollout {row['id']} resumed; pinned: {row['pinned'] or 'none'}")


@rollout_group.command("back")
@_db
def rollout_back(db_path) -> None:
    """Roll every van that is not pinned back to the previous release."""
    from governorate import rollouts

    row = rollouts.roll_back(open_store(db_path))
    click.echo(f"rollout {row['id']}: the fleet goes back to {row['previous_version'] or row['previous']}")


@rollout_group.command("pin")
@_db
@click.argument("van")
@click.option("--remove", is_flag=True, help="Unpin: the van follows the rollout again.")
def rollout_pin(db_path, van, remove) -> None:
    """Keep VAN on the version it runs now (or let it follow the rollout again with --remove)."""
    from governorate import rollouts

    store = open_store(db_path)
    row = rollouts.unpin(store, van) if remove else rollouts.pin(store, van)
    click.echo(f"{van} {'follows the rollout' if remove else 'pinned to ' + row['pinned'][van]}")


@main.command("send-status")
@_db
@_gov
@_broker
@click.argument("van")
@click.argument("number")
@click.argument("state")
@click.option("--reason", default=None, help="Why (shown to the citizen), e.g. for a rejection.")
@_tls
def send_status(db_path: str, gov: str, broker: str, van: str, number: str, state: str, reason: str | None,
                tls_dir: str | None) -> None:
    """Send a request's new state down to the van that registered it."""
    hub = _hub(db_path, gov, broker, worker=f"cli-{int(time.time())}", tls_dir=tls_dir)
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
def db() -> None:
    """The hub's database."""


@db.command("migrate")
@_db
def db_migrate(db_path: str) -> None:
    """Create the database or bring its schema up to date (safe to run again); prints its version.

    Every hub command does this when it opens the database (ingest and web too); this runs it alone, e.g.
    before starting several workers, and refuses a database newer than this release."""
    from governorate import migrations

    store = open_store(db_path)  # opening migrates (governorate/migrations.py)
    applied = ", ".join(store.migrated) or "nothing to apply"
    click.echo(f"{without_password(db_path)}: schema version {migrations.version(store)} ({applied})")
    store.close()


@db.command("summarise")
@_db
@click.option("--limit", type=int, default=None, help="At most this many days (oldest first); the rest next time.")
def db_summarise(db_path: str, limit: int | None) -> None:
    """Bring the performance screens' per-day summary up to date (m012, governorate/perf_summary.py).

    Recomputes every day marked dirty since (a late upload, a decision, a refund) and summarises the days not
    summarised yet, today excepted; until then those days are read raw (never wrong, only slower). Safe to run
    at any time, alongside the ingest and the web app: governorate-summary.timer runs it every 10 minutes."""
    from governorate import perf_summary

    store = open_store(db_path)
    try:
        started = time.monotonic()
        days = perf_summary.refresh(store, limit=limit)
        state = perf_summary.state(store)
        click.echo(f"summarised {len(days)} day(s) in {time.monotonic() - started:.1f} s; "
                   f"{state['summarised']} summarised, {state['dirty']} dirty (read raw)")
    finally:
        store.close()


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
@click.option("--host", default="127.0.0.1", show_default=True, envvar="GOVERNORATE_WEB_HOST", show_envvar=True)
@click.option("--port", default=8090, show_default=True, type=int, envvar="GOVERNORATE_WEB_PORT", show_envvar=True)
@click.option("--with-ingest/--no-ingest", default=False, show_default=True,
              help="Also run one ingest worker in this process (the demo; production runs `governorate ingest`).")
@click.option("--threads", default=8, show_default=True, type=int, envvar="GOVERNORATE_WEB_THREADS",
              show_envvar=True)
@_tls
@_web_option("--notifier", "GOVERNORATE_NOTIFIER", str,
             "module:factory of the citizen notification sender (default: the notifications table).")
@_web_option("--refresh-s", "GOVERNORATE_REFRESH_S", float, "Seconds between overview refreshes (default 3).")
@_web_option("--public-url", "GOVERNORATE_PUBLIC_URL", str,
             "The https:// address staff open, served by the TLS reverse proxy in front of this app (settings: "
             "web.public_url): the app then trusts the proxy's X-Forwarded-For/-Proto and listens on loopback only.")
@_alert_options
@click.option("--dlr-secret", "dlr_secret", default=None, envvar="GOVERNORATE_DLR_SECRET", show_envvar=True,
              help="Checks the SMS gateway's delivery reports (/notify/dlr); the notify worker signs with the same. "
                   "Keep it off the command line: use the variable or the settings file's notify.dlr_secret.")
@click.option("--print-settings", is_flag=True,
              help="Print the settings this would run with (as JSON, secrets hidden) and exit.")
@click.pass_obj
def web(obj: dict, db_path: str, gov: str, broker: str, host: str, port: int, with_ingest: bool, threads: int,
        tls_dir: str | None, notifier: str | None, refresh_s: float | None, public_url: str | None,
        silent_after_s: float | None, offline_alert_min: float | None, backlog_alert_h: float | None,
        dlr_secret: str | None, print_settings: bool) -> None:
    """Serve the staff web app (fleet, alerts, back office) with waitress.

    The cookie-signing key comes from $GOVERNORATE_SECRET_KEY or the settings file's web.secret_key,
    else it is made once into web-secret.key beside the database.
    """
    secret, secret_from = settings.secret_key(obj["settings"], obj["source"])
    if public_url:  # given here or in the environment too: checked as the file's value is
        problem = settings.public_url_problem(public_url) or (
            None if settings.is_loopback(host) else settings.proxied_host_problem(host))
        if problem:
            raise settings.HubConfigError("--public-url / --host", "web.public_url", problem)
    given = {"NOTIFIER": notifier, "REFRESH_S": refresh_s, "PUBLIC_URL": public_url, "SILENT_AFTER_S": silent_after_s,
             "OFFLINE_ALERT_MIN": offline_alert_min, "BACKLOG_ALERT_H": backlog_alert_h, "SECRET_KEY": secret,
             "DLR_SECRET": dlr_secret}
    config = {"DB_PATH": db_path, "GOVERNORATE": gov, "BROKER_URL": broker,
              **{k: v for k, v in given.items() if v is not None}}
    if print_settings:
        from governorate.web import DEFAULTS

        shown = {**{k: DEFAULTS[k] for k in given if k in DEFAULTS}, **config,
                 "DB_PATH": without_password(db_path), "SECRET_KEY": secret_from,
                 "DLR_SECRET": "set" if dlr_secret else None,
                 "TLS_DIR": tls_dir, "HOST": host, "PORT": port, "THREADS": threads, "SETTINGS_FILE": obj["source"]}
        click.echo(json.dumps(shown, indent=2, sort_keys=True))
        return
    from waitress.server import create_server

    from governorate.web import create_app, server_options

    app = create_app({**config, "STORE": open_store(db_path), "BROKER_TLS": tls_options(broker, tls_dir)})
    server = create_server(app, host=host, port=port, threads=threads, ident="governorate",
                           **server_options(config, host))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=lambda: (stop.wait(), server.close()), daemon=True).start()
    if with_ingest:
        hub = _hub(db_path, gov, broker, worker="web-ingest", tls_dir=tls_dir,
                   thresholds=_thresholds(silent_after_s, offline_alert_min, backlog_alert_h))
        threading.Thread(target=hub.run, args=(stop,), daemon=True, name="ingest").start()
    click.echo(f"governorate {gov} web on http://{host}:{port}/" + (f", served at {public_url}" if public_url else ""))
    server.print_listen("Serving on http://{}:{}")  # as waitress.serve says it (the journal's line)

    def serve() -> None:
        try:
            server.run()
        except OSError:  # the listening socket closed under it: that is how it stops
            if not stop.is_set():
                raise

    # Under systemd: ready once listening, watchdog pings while the server thread lives.
    sdnotify.run_with_watchdog(serve, stop, "web", f"governorate {gov} web on {host}:{port}")


def _notify_option(name: str, env: str, kind: type, help_text: str, default=None):
    return click.option(name, type=kind, default=default, envvar=env, show_envvar=True,
                        show_default=default is not None, help=help_text)


@main.command("notify")
@_db
@_notify_option("--notifier", "GOVERNORATE_NOTIFIER", str,
                "The sender: kannel, webhook, or module:factory of your own (settings: notify.sender).")
@_notify_option("--kannel-url", "GOVERNORATE_KANNEL_URL", str,
                "smsbox's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms.")
@_notify_option("--kannel-username", "GOVERNORATE_KANNEL_USERNAME", str, "Kannel's sendsms-user username.")
@_notify_option("--kannel-password", "GOVERNORATE_KANNEL_PASSWORD", str,
                "Kannel's sendsms-user password (keep it in the variable or the settings file).")
@_notify_option("--kannel-from", "GOVERNORATE_KANNEL_FROM", str, "The sender id the citizen's phone shows.")
@_notify_option("--dlr-url", "GOVERNORATE_DLR_URL", str,
                "The hub web's /notify/dlr as Kannel reaches it, for delivery reports (with --dlr-secret).")
@_notify_option("--dlr-secret", "GOVERNORATE_DLR_SECRET", str, "Signs the delivery-report links (as the web's).")
@_notify_option("--webhook-url", "GOVERNORATE_WEBHOOK_URL", str, "Where the webhook sender POSTs each message.")
@_notify_option("--webhook-secret", "GOVERNORATE_WEBHOOK_SECRET", str, "The webhook's HMAC-SHA256 key.")
@_notify_option("--max-attempts", "GOVERNORATE_NOTIFY_MAX_ATTEMPTS", click.IntRange(min=1),
                "Attempts before a notification is given up.", default=6)
@_notify_option("--retry-s", "GOVERNORATE_NOTIFY_RETRY_S", click.FloatRange(min=0, min_open=True),
                "Wait after the first failure, doubled after each next one (at most an hour).", default=60.0)
@_notify_option("--poll-s", "GOVERNORATE_NOTIFY_POLL_S", click.FloatRange(min=0, min_open=True),
                "Seconds between looks for due notifications.", default=5.0)
@click.option("--once", is_flag=True, help="Send what is due now, print how many, and exit.")
def notify_worker(db_path: str, notifier: str | None, kannel_url: str | None, kannel_username: str | None,
                  kannel_password: str | None, kannel_from: str | None, dlr_url: str | None, dlr_secret: str | None,
                  webhook_url: str | None, webhook_secret: str | None, max_attempts: int, retry_s: float,
                  poll_s: float, once: bool) -> None:
    """Send the citizens' notifications the back office queued: through Kannel, a webhook or your own sender,
    retried with back-off, given up after --max-attempts. Under systemd: ready once running, watchdog pings
    while the loop turns."""
    from governorate import sms

    store = open_store(db_path)
    sender = sms.make_sender(notifier, store, kannel_url=kannel_url, kannel_username=kannel_username,
                             kannel_password=kannel_password, kannel_from=kannel_from, dlr_url=dlr_url,
                             dlr_secret=dlr_secret, webhook_url=webhook_url, webhook_secret=webhook_secret)
    dispatcher = sms.Dispatcher(store, sender, max_attempts=max_attempts, retry_s=retry_s)
    if once:
        click.echo(f"{dispatcher.run_once()} notification(s) tried")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sdnotify.run_with_watchdog(lambda: dispatcher.run(stop, poll_s), stop, "notify",
                               f"governorate notifications through {sender.name}",
                               hung=lambda: dispatcher.hung(max(600.0, 20 * poll_s)))


if __name__ == "__main__":
    main()
