"""The ``edge codes`` commands: issue and verify signed QR codes, make development keys and trust lists."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click

from common import keys
from edge.core import codes as codes_mod
from edge.core import issuing, trust
from edge.core.codes import DocumentType

_TYPES = click.Choice([t.value for t in DocumentType])
_FILE = click.Path(dir_okay=False, path_type=Path)


def _keys_dir(obj) -> Path:
    return obj.settings.data_dir / "keys"


def _local_tz():
    from edge.store.clock import VAN_TZ

    return VAN_TZ


def _moment(text: str | None, *, end_of_day: bool = False) -> datetime:
    """``text`` as an aware time (naive means Cairo time); a bare date is its start, or its last second."""
    if text is None:
        return datetime.now(UTC)
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            at = time(23, 59, 59) if end_of_day else time(0, 0)
            return datetime.combine(day, at, tzinfo=_local_tz())
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        example = "e.g. 2027-11-21 or 2027-11-21T10:00"
        raise click.BadParameter(f"{text!r} is not an ISO-8601 date or time, {example}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_local_tz())


@click.group("codes")
def codes() -> None:
    """Signed QR codes on receipts, permits and tickets (docs/codes.md)."""


@codes.command("dev-keys")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--governorate", default=None, help="Governorate code (default: the van's).")
@click.option("--van", default=None, help="Van id (default: the van's).")
@click.option("--force", is_flag=True, help="Replace keys already in DIRECTORY.")
@click.pass_obj
def dev_keys(obj, directory: Path | None, governorate: str | None, van: str | None, force: bool) -> None:
    """Make a development CA, a van signing key and a trust list (default folder: <data_dir>/keys)."""
    directory = directory or _keys_dir(obj)
    governorate = governorate or obj.settings.van.governorate
    van = van or obj.settings.van.id
    if (directory / trust.SIGNER_KEY_FILE).exists() and not force:
        raise click.ClickException(f"{directory} already holds keys; pass --force to replace them")
    keys.make_dev_keys(directory, governorate=governorate, van=van, now=datetime.now(UTC))
    click.echo(f"{directory}: development CA for governorate {governorate}, signing key for {van}, trust list")


@codes.command("issue")
@click.option("--type", "doc_type", type=_TYPES, required=True, help="Document type.")
@click.option("--number", required=True, help="Request number (receipt, permit) or ticket number.")
@click.option("--service", required=True, help="Service code (for a ticket: its queue category).")
@click.option("--national-id", default=None, help="The citizen's national ID (only a salted digest is encoded).")
@click.option("--expires", default=None, help="Expiry: ISO date (valid through that day, Cairo) or date-time.")
@click.option("--valid-days", type=click.IntRange(min=1), default=None, help="Expiry this many days from now.")
@click.option("--key", "key_path", type=_FILE, default=None, help="Signing key (default: <data_dir>/keys).")
@click.option("--cert", "cert_path", type=_FILE, default=None, help="Signing certificate (default: <data_dir>/keys).")
@click.option("--png", "png_path", type=_FILE, default=None, help="Also write the QR code as a PNG image.")
@click.option("--at", "at", default=None, help="Issue time instead of the clock (ISO-8601; for tests).")
@click.pass_obj
def issue(obj, doc_type, number, service, national_id, expires, valid_days, key_path, cert_path, png_path, at) -> None:
    """Print the signed code for one document."""
    if expires and valid_days:
        raise click.UsageError("give --expires or --valid-days, not both")
    now = _moment(at)
    expires_at = _moment(expires, end_of_day=True) if expires else None
    if valid_days:
        expires_at = now + timedelta(days=valid_days)
    folder = _keys_dir(obj)
    signer = keys.load_signer(key_path or folder / trust.SIGNER_KEY_FILE, cert_path or folder / trust.SIGNER_CERT_FILE)
    code = codes_mod.issue(
        signer, doc_type, number, service, now=now, expires_at=expires_at, national_id=national_id
    )
    click.echo(code)
    if png_path:
        _write_png(code, png_path)
        version, level = codes_mod.qr_version(code), codes_mod.qr_error_level(code)
        click.echo(f"wrote {png_path} (QR version {version}, level {level})", err=True)


def _write_png(code: str, path: Path) -> None:
    import qrcode
    import qrcode.constants

    level = {"Q": qrcode.constants.ERROR_CORRECT_Q, "M": qrcode.constants.ERROR_CORRECT_M}
    qr = qrcode.QRCode(error_correction=level[codes_mod.qr_error_level(code)], box_size=4, border=4)
    qr.add_data(code, optimize=0)  # one alphanumeric segment, as docs/codes.md measures
    qr.make(fit=True)
    qr.make_image().save(str(path))


@codes.command("verify")
@click.argument("code")
@click.option("--trust-list", "trust_path", type=_FILE, default=None, help="Trust list (default: <data_dir>/keys).")
@click.option("--ca", "ca_path", type=_FILE, default=None, help="Governorate CA certificate (default: keys folder).")
@click.option("--national-id", default=None, help="Also check that this national ID is the one on the code.")
@click.option("--at", "at", default=None, help="Verify as of this time instead of the clock (ISO-8601).")
@click.pass_obj
def verify(obj, code: str, trust_path, ca_path, national_id, at) -> None:
    """Check CODE ("-" reads it from standard input); print one JSON line; exit 0 only if valid.

    With --national-id, also exit non-zero when the ID does not match the code.
    """
    if code == "-":
        code = sys.stdin.readline()
    code = code.rstrip("\r\n")  # scanners and shells add line ends; spaces are Base45 characters
    folder = _keys_dir(obj)
    trust_list = keys.load_trust_list(trust_path or folder / trust.TRUST_LIST_FILE,
                                      ca_path or folder / trust.CA_CERT_FILE)
    result = codes_mod.verify(code, trust_list, now=_moment(at))
    out = result.as_dict()
    matches = None
    if national_id is not None:
        matches = codes_mod.national_id_matches(result.claims, national_id) if result.claims else None
        out["national_id_matches"] = matches
    click.echo(json.dumps(out, ensure_ascii=False))
    if not result.ok or (national_id is not None and matches is not True):
        sys.exit(1)


@codes.command("make-trust-list")
@click.option("--ca-key", "ca_key_path", type=_FILE, default=None, help="CA private key (default: <data_dir>/keys).")
@click.option("--ca-cert", "ca_cert_path", type=_FILE, default=None, help="CA certificate (default: <data_dir>/keys).")
@click.option("--cert", "cert_paths", type=_FILE, multiple=True, help="A van signing certificate to list (repeat).")
@click.option("--revoke", multiple=True, help='A revoked document: "receipt:007-261121-0001-5" or a SHA-256 hex.')
@click.option("--version", "version", type=click.IntRange(min=1), required=True, help="List version (increasing).")
@click.option("--valid-days", type=click.IntRange(min=1), default=7, show_default=True, help="Days to next update.")
@click.option("--out", "out_path", type=_FILE, default=None, help="Where to write it (default: <data_dir>/keys).")
@click.pass_obj
def make_trust_list(obj, ca_key_path, ca_cert_path, cert_paths, revoke, version, valid_days, out_path) -> None:
    """Sign a trust list of van certificates and revoked documents with the governorate CA."""
    folder = _keys_dir(obj)
    ca = keys.load_signer(ca_key_path or folder / trust.CA_KEY_FILE, ca_cert_path or folder / trust.CA_CERT_FILE)
    certificates = [keys.load_certificate(p) for p in (cert_paths or [folder / trust.SIGNER_CERT_FILE])]
    revoked = [_revocation(entry) for entry in revoke]
    blob = issuing.make_trust_list(ca, certificates, now=datetime.now(UTC), version=version, revoked=revoked,
                                   days=valid_days)
    trust.verify_list(blob, ca.certificate)  # refuse to publish a list that verifiers would reject
    out_path = out_path or folder / trust.TRUST_LIST_FILE
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(blob)
    click.echo(f"{out_path}: trust list v{version}, {len(certificates)} signer(s), {len(revoked)} revoked")


def _revocation(entry: str) -> bytes:
    text = entry.strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    doc_type, _, number = text.partition(":")
    if doc_type not in (DocumentType.RECEIPT, DocumentType.PERMIT) or not number:
        raise click.BadParameter(
            f"{entry!r}: use receipt:NUMBER, permit:NUMBER or a 64-digit SHA-256 hex (tickets)", param_hint="--revoke"
        )
    return codes_mod.revocation_digest(codes_mod.document_id(doc_type, number))
