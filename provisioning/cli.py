"""The ``provision`` command: a governorate's CA and broker, enrolling, installing, moving and revoking vans."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import click

from common import keys
from edge.core import trust
from edge.core.errors import EdgeError
from provisioning import bundle as bundle_mod
from provisioning import install as install_mod
from provisioning import pki
from provisioning import release as release_mod
from provisioning.checks import ProvisioningError

_DIR = click.Path(file_okay=False, path_type=Path)
_FILE = click.Path(dir_okay=False, path_type=Path)


class _Group(click.Group):
    """Our errors become a two-language message and exit status 1, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EdgeError as exc:
            click.echo(exc.message_en, err=True)
            click.echo(exc.message_ar, err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mtc-edge", prog_name="provision")
def main() -> None:
    """Provision governorates and vans (docs/provisioning.md)."""


@main.group(cls=_Group)
def release() -> None:
    """The software as a folder a van (or the hub) installs from with no network (docs/dependencies.md)."""


@release.command("build")
@click.argument("out", type=_DIR)
@click.option("--project", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The source tree with its uv.lock (default: the one this command runs from).")
@click.option("--platform", "platforms", multiple=True,
              help="Wheels for this platform tag instead of this machine's, e.g. manylinux_2_36_aarch64 "
                   "for an arm64 van (repeatable). The van's Python version must be this machine's.")
@click.option("--keys", "keydir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The signing keys folder (“provision release keys”): sign the release's TUF metadata, "
                   "which vans require before they update over the air (docs/updates.md).")
@click.option("--role", type=click.Choice(sorted(release_mod.FORMATS)), default="van", show_default=True,
              help="Whose release: the van's, or the governorate hub's (“provision hub install”).")
def release_build(out, project, platforms, keydir, role) -> None:
    """Build a software release in OUT (the van's unless --role hub): its locked wheels, the project's wheel, a
    manifest (and, with --keys, its TUF metadata in OUT/tuf)."""
    from provisioning import tuf_repo

    if keydir is not None:
        if role != "van":
            raise ProvisioningError("Only the vans' releases are signed for updates over the air; leave out --keys.",
                                    "لا يُوقَّع إلا إصدار العربات؛ احذف الخيار --keys.", code="provisioning-release")
        tuf_repo.read_root(keydir)  # a wrong folder is refused before the long build
    project = project or Path(release_mod.__file__).resolve().parent.parent
    rel = release_mod.build(out, project=project, platforms=tuple(platforms), role=role)
    size = sum(p.stat().st_size for p in rel.folder.rglob("*") if p.is_file())
    click.echo(f"{out}: release {rel.manifest['version']} for Python {rel.python}, "
               f"{len(rel.manifest['packages'])} packages, {size / 1e6:.0f} MB; identity {rel.digest[:16]}")
    if role != "van":
        click.echo(f"  install it on the hub: provision hub install --release {out} (docs/governorate.md)")
    elif keydir is not None:
        signed = tuf_repo.sign_release(out, keydir)
        click.echo(f"  signed: targets v{signed.targets_version} ({signed.targets} files), snapshot "
                   f"v{signed.snapshot_version}, timestamp v{signed.timestamp_version}, root v{signed.root_version}")
    else:
        click.echo("  not signed (no --keys): vans install it by hand only, never over the air")


@release.command("keys")
@click.argument("keydir", type=_DIR)
def release_keys(keydir) -> None:
    """Make the governorate's release-signing keys (TUF root, targets, snapshot, timestamp) in KEYDIR."""
    from provisioning import tuf_repo

    md = tuf_repo.make_keys(keydir)
    click.echo(f"{keydir}: signing keys and root.json v{md.signed.version} "
               f"(expires {md.signed.expires:%Y-%m-%d})")
    click.echo(f"  move {keydir}/offline/root-key.pem to offline media now: only “provision release rotate” needs it")
    click.echo(f"  every van must trust {keydir}/metadata/root.json: give --update-keys {keydir} to "
               "“provision van enrol” (docs/updates.md)")


@release.command("rotate")
@click.argument("role", type=click.Choice(["root", "targets", "snapshot", "timestamp"]))
@click.option("--keys", "keydir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--root-key", type=_FILE, default=None,
              help="The offline root key (default KEYDIR/offline/root-key.pem); rotating root writes the new one here.")
def release_rotate(role, keydir, root_key) -> None:
    """Replace ROLE's key: a new root.json version, signed by the root key, that vans follow."""
    from provisioning import tuf_repo

    md = tuf_repo.rotate(keydir, role, root_key=root_key)
    click.echo(f"{keydir}: new {role} key; root.json v{md.signed.version}. Sign the next release with "
               "“provision release build --keys” (it carries the new root to the vans).")


@release.command("timestamp")
@click.argument("folder", type=_DIR)
@click.option("--keys", "keydir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
def release_timestamp(folder, keydir) -> None:
    """Re-sign FOLDER's timestamp (the release unchanged) before it expires: vans refuse frozen metadata."""
    from provisioning import tuf_repo

    version = tuf_repo.refresh_timestamp(folder, keydir)
    click.echo(f"{folder}: timestamp v{version}, valid {tuf_repo.EXPIRY_DAYS['timestamp']} days")


@release.command("check")
@click.argument("folder", type=_DIR)
@click.option("--role", type=click.Choice(sorted(release_mod.FORMATS)), default="van", show_default=True)
def release_check(folder, role) -> None:
    """Check every file of the release in FOLDER against its manifest."""
    rel = release_mod.read(folder, role)
    click.echo(f"{folder}: release {rel.manifest['version']} intact ({len(rel.manifest['files'])} files); "
               f"identity {rel.digest[:16]}")


@main.group(cls=_Group)
def governorate() -> None:
    """The governorate's certificate authority and broker (run on the governorate's CA machine)."""


@governorate.command("init")
@click.argument("gov")
@click.option("--out", "out", type=_DIR, required=True, help="New folder for the CA and broker files.")
@click.option("--broker-host", default=None, help="The broker's DNS name (default mqtt.gGOV.mtc.local).")
@click.option("--port", type=click.IntRange(1, 65535), default=8883, show_default=True,
              help="The vans' TLS listener.")
@click.option("--hub-port", type=click.IntRange(1, 65535), default=None,
              help="The hub's TLS listener, which admits only the hub's certificate (default PORT + 1: 8884).")
@click.option("--address", "addresses", multiple=True, help="Another name or IP in the server certificate.")
@click.option("--bind", default=None, help="Listen on this address only (default: all).")
@click.option("--broker-dir", default="/etc/mosquitto/mtc", show_default=True,
              help="Where broker/ will be copied on the broker host (paths in mosquitto.conf).")
@click.option("--persistence-dir", default="/var/lib/mosquitto", show_default=True)
def governorate_init(gov, out, broker_host, port, hub_port, addresses, bind, broker_dir, persistence_dir) -> None:
    """Create governorate GOV's CA, broker TLS certificate, hub identity, CRL and Mosquitto config."""
    host = broker_host or f"mqtt.g{gov}.mtc.local"
    auth = pki.init_governorate(out, gov, broker_host=host, port=port, addresses=tuple(addresses),
                                broker_dir=broker_dir, bind=bind, persistence_dir=persistence_dir,
                                now=pki.now_utc(), hub_port=hub_port)
    click.echo(f"{out}: CA of governorate {gov}; broker at {auth.meta['broker_url']} (vans), "
               f"{auth.meta['hub_broker_url']} (hub)")
    click.echo(f"  copy {out}/broker/ to the broker host and run there: provision broker install --from broker/ "
               f"(it lays it in {broker_dir}/)")
    click.echo(f"  give {out}/hub/ to the hub (--broker {auth.meta['hub_broker_url']}); "
               f"keep {out}/ca/ on this machine only")


@governorate.command("crl")
@click.option("--ca-dir", type=_DIR, required=True)
def governorate_crl(ca_dir) -> None:
    """Re-sign the CRL (it must not expire: an expired CRL locks every van out). Run monthly."""
    auth = pki.Authority(ca_dir)
    auth.write_crl(now=pki.now_utc())
    click.echo(f"{auth.broker_dir / 'crl.pem'}: re-signed, valid {pki.CRL_DAYS} days; copy {auth.broker_dir}/ to the "
               "broker host and run there: provision broker install --from broker/ (it reloads mosquitto)")


@main.group(cls=_Group)
def van() -> None:
    """A van: enrol and renew (CA machine), install and reassign (the van), revoke (CA machine)."""


def _camera(values: tuple[str, ...]) -> dict[str, str]:
    cameras = {}
    for v in values:
        name, sep, url = v.partition("=")
        if not sep or not name or not url:
            raise click.BadParameter(f"{v!r}: use NAME=URL, e.g. front=rtsp://10.0.0.11/stream1",
                                     param_hint="--camera")
        cameras[name] = url
    return cameras


def _enrol_options(f):
    f = click.option("--update-keys", "update_keys", type=_DIR, default=None,
                     help="The governorate's release keys folder (“provision release keys”): its newest root.json "
                          "goes in the bundle as the van's anchor for software updates.")(f)
    f = click.option("--camera", "cameras", multiple=True, help="NAME=URL of a camera (repeat).")(f)
    f = click.option("--simulated", is_flag=True, help="All devices sim:// (a training or demo van).")(f)
    f = click.option("--name", default="", help="The van's display name.")(f)
    f = click.option("--out", "out", type=_FILE, required=True, help="Bundle file to write (.tar.gz).")(f)
    f = click.option("--ca-dir", type=_DIR, required=True, help="The governorate's CA folder.")(f)
    f = click.argument("van_id", metavar="VAN")(f)
    return click.argument("gov")(f)


def _enrol(kind, gov, van_id, ca_dir, out, name, simulated, cameras, update_keys) -> None:
    auth = pki.Authority(ca_dir)
    auth.expect(gov)
    update_root = None
    if update_keys is not None:
        root_file = Path(update_keys) / "metadata" / "root.json"
        try:
            update_root = root_file.read_bytes()
        except OSError:
            raise ProvisioningError(
                f"{root_file} is missing: give --update-keys the folder “provision release keys” made.",
                f"الملف {root_file} غير موجود: حدد بالخيار ‎--update-keys‎ مجلد مفاتيح الإصدارات.",
                code="provisioning-update-keys") from None
    b = bundle_mod.enrol(auth, van_id, out, now=pki.now_utc(), name=name, simulated=simulated,
                         cameras=_camera(cameras), kind=kind, update_root=update_root)
    certs = b.manifest["certificates"]
    click.echo(f"{out}: van {van_id} of governorate {gov} ({kind}), certificates valid until "
               f"{certs['mqtt']['not_after'][:10]}; trust list v{auth.meta['trust_list_version']}")
    click.echo("  the bundle holds private keys: carry it on the technician's USB stick, delete it after install")
    if update_root is None:
        click.echo("  no update anchor (--update-keys): this van will refuse software updates over the air until a "
                   "bundle with one is installed")
    if kind == "enrol":
        click.echo(f"  before installing it: copy {auth.broker_dir}/ to the broker host and run there: provision "
                   "broker install --from broker/ (until then the broker lets the van do nothing)")


@van.command("enrol")
@_enrol_options
def van_enrol(**kw) -> None:
    """Issue van VAN's MQTT and QR-signing certificates and write its bundle."""
    _enrol("enrol", **kw)


@van.command("renew")
@_enrol_options
def van_renew(**kw) -> None:
    """New keys and certificates for an enrolled van (before expiry); install the bundle on the van."""
    _enrol("renew", **kw)


@van.command("revoke")
@click.argument("gov")
@click.argument("van_id", metavar="VAN")
@click.option("--ca-dir", type=_DIR, required=True)
def van_revoke(gov, van_id, ca_dir) -> None:
    """Revoke every certificate of VAN: new CRL for the broker, new trust list without its signer."""
    auth = pki.Authority(ca_dir)
    auth.expect(gov)
    now = pki.now_utc()
    revoked = auth.revoke_van(van_id, now=now)
    auth.write_crl(now=now)
    auth.write_trust_list(now=now)
    auth.save()
    click.echo(f"revoked {len(revoked)} certificate(s) of van {van_id}")
    click.echo(f"  1. copy {auth.broker_dir}/ to the broker host and run there: provision broker install --from "
               "broker/ (it restarts mosquitto)")
    click.echo("     (this cuts the van off at once; every other van reconnects within seconds)")
    click.echo(f"  2. publish {auth.trust_list_path} (v{auth.meta['trust_list_version']}) to the vans")


@van.command("install")
@click.argument("bundle_path", metavar="BUNDLE", type=_FILE)
@click.option("--root", type=_DIR, default=None, help="Install under this folder instead of / (no chown, no start).")
@click.option("--no-start", is_flag=True, help="Do not enable or start the services.")
@click.option("--units", "units_dir", type=_DIR, default=None, help="Folder of the systemd unit files.")
@click.option("--release", "release_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="The software release (from “provision release build”) to install as "
                                 "/opt/mtc-edge/versions/<id>, offline, and switch /opt/mtc-edge/current to; its "
                                 "systemd units are used unless --units is given (until the van's next start: "
                                 "the updater keeps each version's units, docs/updates.md).")
def van_install(bundle_path, root, no_start, units_dir, release_dir) -> None:
    """Install BUNDLE on this machine (as root). Safe to run again: reports what changed.

    With --release the van's software is installed (or updated) too, with no network: every package
    exactly as the release's lock pins it, every file checked against its SHA-256.
    """
    _check_root(root)
    b = bundle_mod.read(bundle_path)
    rel = release_mod.read(release_dir) if release_dir else None
    installer = install_mod.Installer(root, units_dir, release=rel)
    report = installer.install(b, start=not no_start)
    _print_report(report, f"van {b.van} of governorate {b.governorate}")


@van.command("reassign")
@click.argument("bundle_path", metavar="BUNDLE", type=_FILE)
@click.option("--wait", "wait_s", type=click.IntRange(min=0), default=0,
              help="Seconds to wait for the outbox to drain to the old governorate.")
@click.option("--root", type=_DIR, default=None)
@click.option("--no-start", is_flag=True)
@click.option("--units", "units_dir", type=_DIR, default=None)
def van_reassign(bundle_path, wait_s, root, no_start, units_dir) -> None:
    """Move the van to BUNDLE's governorate, after its outbox has drained to the old one."""
    _check_root(root)
    b = bundle_mod.read(bundle_path)
    installer = install_mod.Installer(root, units_dir)
    report = install_mod.reassign(installer, b, wait_s=wait_s, start=not no_start)
    _print_report(report, f"van {b.van} now in governorate {b.governorate}")


@van.command("expiry")
@click.option("--root", type=_DIR, default=None)
@click.option("--days", type=click.IntRange(min=1), default=pki.RENEW_BEFORE_DAYS, show_default=True)
def van_expiry(root, days) -> None:
    """Exit 1 when this van's certificates expire within DAYS: time to ask for a renewal bundle."""
    installer = install_mod.Installer(root)
    now = pki.now_utc()
    due = False
    certificates = (("MQTT", f"{bundle_mod.TLS_DIR}/van.pem"),
                    ("QR signing", f"{bundle_mod.KEYS_DIR}/{trust.SIGNER_CERT_FILE}"))
    for label, path in certificates:
        cert = keys.load_certificate(installer.at(path))
        left = cert.not_valid_after_utc - now
        due |= left < timedelta(days=days)
        click.echo(f"{label} certificate: expires {cert.not_valid_after_utc:%Y-%m-%d} ({left.days} days)")
    if due:
        click.echo("renew now: on the CA machine run “provision van renew”, then install the bundle here", err=True)
        sys.exit(1)


@main.group(cls=_Group)
def hub() -> None:
    """The governorate hub's server: its software, identity, settings and services (docs/governorate.md)."""


@hub.command("install")
@click.option("--release", "release_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True, help="The hub's release (“provision release build --role hub”): installed offline as "
                                  "/opt/governorate/versions/<id>, with /opt/governorate/current switched to it.")
@click.option("--settings", "settings_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The hub's settings (installed as /etc/governorate/hub.toml, checked first); "
                                 "default: keep the installed one.")
@click.option("--tls", "tls_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The hub's MQTT identity, the CA folder's hub/ (ca.pem, hub-cert.pem, hub-key.pem).")
@click.option("--releases-tls", "releases_tls", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="The release server's certificate folder (cert.pem, key.pem): vans that fetch "
                                 "over HTTPS need it; with it governorate-releases.service runs.")
@click.option("--web-tls", "web_tls", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The certificate folder of the web app's public name, web.public_url (cert.pem: the full chain; "
                   "key.pem): nginx serves the app over HTTPS with it.")
@click.option("--root", type=_DIR, default=None, help="Install under this folder instead of / (no chown, no start).")
@click.option("--no-start", is_flag=True, help="Do not enable or start the services.")
def hub_install(release_dir, settings_file, tls_dir, releases_tls, web_tls, root, no_start) -> None:
    """Install (or update) the governorate hub on this machine (as root). Safe to run again: reports what
    changed."""
    from provisioning import hub_install as hub_mod

    _check_root(root)
    rel = release_mod.read(release_dir, "hub")
    installer = hub_mod.HubInstaller(rel, root)
    report = installer.install(settings=settings_file.read_bytes() if settings_file else None, tls=tls_dir,
                               releases_tls=releases_tls, web_tls=web_tls, start=not no_start)
    _print_report(report, f"governorate hub {rel.manifest['version']}")
    if (hub_mod.CURRENT, "created") in report:  # a first install
        click.echo("next: add the first administrator — sudo -u governorate "
                   "GOVERNORATE_CONFIG=/etc/governorate/hub.toml /opt/governorate/current/venv/bin/governorate "
                   "staff add NAME --name \"…\" --role admin")


@main.group("broker", cls=_Group)
def broker_group() -> None:
    """The governorate's MQTT broker host (docs/provisioning.md)."""


@broker_group.command("install")
@click.option("--from", "source", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The CA folder's broker/ (copied to this machine): certificates, CRL, access list, mosquitto.conf.")
@click.option("--root", type=_DIR, default=None, help="Install under this folder instead of / (no chown, no start).")
@click.option("--no-start", is_flag=True, help="Do not enable, start, reload or restart Mosquitto.")
def broker_install(source, root, no_start) -> None:
    """Install the broker's files where its mosquitto.conf names them, and tell Mosquitto (reload for a new CRL,
    restart for anything else). Run it again after every van enrol, revoke or renew and every CRL re-signing."""
    from provisioning import broker_install as broker_mod

    _check_root(root)
    installer = broker_mod.BrokerInstaller(source, root)
    report = installer.install(start=not no_start)
    for warning in installer.warnings:
        click.echo(f"warning: {warning}", err=True)
    _print_report(report, "broker")
    if not no_start and root is None:
        click.echo(f"mosquitto: {installer.commands()[-1][1]}")


def _check_root(root: Path | None) -> None:
    import os

    if root is None and os.geteuid() != 0:
        raise ProvisioningError(
            "Installing on this machine needs root: run it with sudo (or use --root DIR to prepare a folder).",
            "التثبيت على هذا الجهاز يحتاج صلاحيات المدير: شغّل الأمر باستخدام sudo.",
            code="provisioning-not-root",
        )


def _print_report(report: list[tuple[str, str]], what: str) -> None:
    for path, state in report:
        if state != "unchanged":
            click.echo(f"{state:9} {path}")
    changed = sum(1 for _, s in report if s != "unchanged")
    click.echo(f"{what}: {changed} changed, {len(report) - changed} unchanged" if changed
               else f"{what}: unchanged (nothing to do)")


if __name__ == "__main__":
    main()
