"""A governorate's certificate authority on disk: its CA, the certificates it issued, the CRL and the trust list.

One CA per governorate signs everything of that governorate's vans and broker: the broker's TLS server
certificate, each van's MQTT client certificate and each van's QR-signing certificate (the profile of
docs/codes.md §7). The hub's client certificate alone comes from a second CA, the hub CA, which signs
nothing else: the broker's hub listener trusts only that one, so no van certificate gets in there
(provisioning/broker.py). One CA keeps a van's files few (one ``ca.pem`` checks the broker and
the trust list); the price is that a revocation must cover every certificate of the van, which
``revoke_van`` does: the CRL lists them all (so neither key reaches the broker) and the trust list
drops the signer (so its codes stop verifying).

The folder (``provision governorate init GOV --out DIR``) holds::

    governorate.json        governorate code, broker URL, trust-list version
    ca/ca-key.pem           the CA key: never leaves this machine (0600)
    ca/ca-cert.pem
    ca/hub-ca-key.pem       the hub CA's key (0600): signs the hub's certificate only
    ca/hub-ca-cert.pem
    ca/index.json           every certificate issued: serial, subject, kind, van, expiry, revocation
    broker/                 what the broker host needs: ca.pem, hub-ca.pem, server-*.pem, crl.pem,
                            mosquitto.conf, dynamic-security.json (every van with a valid MQTT certificate)
    hub/                    the hub's MQTT identity: ca.pem, hub-cert.pem, hub-key.pem
    trust-list.cose         the current signed trust list (every valid van signer of the governorate)
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from common import keys
from edge.core import issuing, trust
from edge.core.trust import Signer
from provisioning import broker
from provisioning.checks import HUB_CN, ProvisioningError, check_governorate, check_van

SERVER_DAYS = 2 * 365
CLIENT_DAYS = 2 * 365
# Renew this many days before a van certificate expires (``provision van renew``, ``van expiry``).
RENEW_BEFORE_DAYS = 60
# An expired CRL makes OpenSSL refuse *every* client, so the CRL is long-lived and re-signed by
# ``provision governorate crl`` (monthly in docs/provisioning.md), well before it runs out.
CRL_DAYS = 180
HUB_CA_KEY = "hub-ca-key.pem"
HUB_CA_CERT = "hub-ca-cert.pem"
# Certificates start a day early so a van whose clock runs a little slow still accepts them.
BACKDATE = timedelta(days=1)


def make_ca(gov: str, *, now: datetime, cn: str | None = None) -> Signer:
    """The governorate CA (``cn``: another CA of the governorate, the hub CA): the profile of
    ``edge.core.issuing``, backdated a day like every certificate of the folder."""
    return issuing.make_ca(gov, now=now, backdate=BACKDATE, common_name=cn or f"MTC governorate CA {gov}")


def make_tls_cert(ca: Signer, cn: str, *, now: datetime, days: int, server: bool = False,
                  addresses: tuple[str, ...] = ()) -> Signer:
    """A TLS leaf certificate from ``ca``: a server (with SANs) or a client (CN = MQTT username)."""
    gov, _ = trust.identity(ca.certificate)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(issuing.name(gov, cn)).issuer_name(ca.certificate.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(issuing.key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),
                       critical=False)
    )
    if server:
        names: list[x509.GeneralName] = []
        for a in addresses:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(a)))
            except ValueError:
                names.append(x509.DNSName(a))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Signer(key, builder.sign(ca.key, hashes.SHA256()))


# --------------------------------------------------------------------------------------------------
# The CA folder
# --------------------------------------------------------------------------------------------------


@dataclass
class Issued:
    serial: int
    kind: str  # "server", "hub", "mqtt" (a van's MQTT identity) or "signer" (a van's QR-signing key)
    cn: str
    van: str | None
    not_after: str
    revoked_at: str | None = None
    superseded: bool = False  # renewed: valid until it expires; a superseded signer stays trusted


class Authority:
    """A governorate CA folder (see the module docstring)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        meta = self.folder / "governorate.json"
        if not meta.is_file():
            raise ProvisioningError(
                f"{self.folder} is not a governorate CA folder (no governorate.json). "
                "Make one with “provision governorate init GOV --out DIR”.",
                f"المجلد {self.folder} ليس مجلد سلطة شهادات لمحافظة. أنشئه بالأمر «provision governorate init».",
                code="provisioning-ca-dir",
            )
        self.meta = json.loads(meta.read_text())
        self.gov: str = self.meta["governorate"]
        self.ca = keys.load_signer(self.folder / "ca" / trust.CA_KEY_FILE, self.folder / "ca" / trust.CA_CERT_FILE)
        index = json.loads((self.folder / "ca" / "index.json").read_text())
        self.issued = [Issued(**row) for row in index]

    # paths
    @property
    def broker_dir(self) -> Path:
        return self.folder / "broker"

    @property
    def trust_list_path(self) -> Path:
        return self.folder / trust.TRUST_LIST_FILE

    def expect(self, gov: str) -> None:
        if gov != self.gov:
            raise ProvisioningError(
                f"{self.folder} is the CA of governorate {self.gov}, not {gov}.",
                f"المجلد {self.folder} خاص بمحافظة {self.gov} وليس {gov}.",
                code="provisioning-wrong-ca",
            )

    def save(self, *, now: datetime | None = None) -> None:
        """Write the index and governorate.json, and the broker's identities derived from the index."""
        rows = [vars(i) for i in self.issued]
        _write_atomic(self.folder / "ca" / "index.json", json.dumps(rows, indent=1).encode())
        _write_atomic(self.folder / "governorate.json", json.dumps(self.meta, indent=1).encode())
        _write_atomic(self.broker_dir / broker.DYNSEC_FILE,
                      broker.dynamic_security_json(self.gov, self.mqtt_vans(now=now or now_utc())), mode=0o644)

    def mqtt_vans(self, *, now: datetime) -> list[str]:
        """Every van holding an MQTT certificate that is neither revoked nor expired: the broker's vans.

        A renewed van keeps its place (old and new certificate name the same van); a revoked one loses it.
        """
        return sorted({i.van for i in self.issued if i.kind == "mqtt" and i.van and not i.revoked_at
                       and datetime.fromisoformat(i.not_after) > now})

    def record(self, signer: Signer, kind: str, van: str | None) -> None:
        _, cn = trust.identity(signer.certificate)
        # Kept so the trust list can be re-signed from the index alone after a revocation.
        keys.write_certificate(self.folder / "ca" / "issued" / f"{signer.certificate.serial_number:x}.pem",
                                  signer.certificate)
        self.issued.append(Issued(signer.certificate.serial_number, kind, cn, van,
                                  signer.certificate.not_valid_after_utc.isoformat()))

    def active(self, van: str, kind: str | None = None) -> list[Issued]:
        return [i for i in self.issued if i.van == van and not i.revoked_at and not i.superseded
                and (kind is None or i.kind == kind)]

    # the van's certificates
    def issue_van(self, van: str, *, now: datetime, days: int = CLIENT_DAYS) -> tuple[Signer, Signer]:
        """A new MQTT identity (CN = van id = MQTT username) and QR-signing key for ``van``.

        Earlier certificates of the van are marked superseded, not revoked: the old bundle keeps
        working until the new one is installed, and the old signer stays in the trust list, because
        every receipt it signed is checked against it (docs/codes.md: removal = revocation).
        """
        check_van(van)
        for old in self.active(van):
            old.superseded = True
        mqtt = make_tls_cert(self.ca, van, now=now, days=days)
        signer = issuing.make_van_signer(self.ca, van, now=now - BACKDATE, days=days)
        self.record(mqtt, "mqtt", van)
        self.record(signer, "signer", van)
        return mqtt, signer

    def revoke_van(self, van: str, *, now: datetime) -> list[Issued]:
        """Revoke every unexpired certificate of ``van`` (MQTT and signer, superseded ones too)."""
        revoked = [i for i in self.issued if i.van == van and not i.revoked_at
                   and datetime.fromisoformat(i.not_after) > now]
        if not revoked:
            raise ProvisioningError(
                f"Van {van} has no valid certificate from governorate {self.gov}'s CA: nothing to revoke.",
                f"لا توجد للعربة {van} شهادة سارية من محافظة {self.gov}: لا شيء لإلغائه.",
                code="provisioning-unknown-van",
            )
        for i in revoked:
            i.revoked_at = now.isoformat()
        return revoked

    def write_crl(self, *, now: datetime) -> bytes:
        """Re-sign the CRL (every revoked serial) into broker/crl.pem; returns the PEM."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca.certificate.subject)
            .last_update(now - timedelta(minutes=5))
            .next_update(now + timedelta(days=CRL_DAYS))
        )
        for i in self.issued:
            if i.revoked_at:
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(i.serial)
                    .revocation_date(datetime.fromisoformat(i.revoked_at)).build()
                )
        pem = builder.sign(self.ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        _write_atomic(self.broker_dir / "crl.pem", pem, mode=0o644)
        return pem

    def certificate(self, issued: Issued) -> x509.Certificate:
        return keys.load_certificate(self.folder / "ca" / "issued" / f"{issued.serial:x}.pem")

    def write_trust_list(self, *, now: datetime) -> bytes:
        """Sign a new trust list (version + 1) of every active van signer into trust-list.cose."""
        certificates = [self.certificate(i) for i in self.issued if i.kind == "signer" and not i.revoked_at]
        self.meta["trust_list_version"] = int(self.meta.get("trust_list_version", 0)) + 1
        blob = issuing.make_trust_list(self.ca, certificates, now=now, version=self.meta["trust_list_version"])
        trust.verify_list(blob, self.ca.certificate)  # never publish a list the vans would refuse
        _write_atomic(self.trust_list_path, blob, mode=0o644)
        return blob


def init_governorate(folder: Path, gov: str, *, broker_host: str, port: int, addresses: tuple[str, ...],
                     broker_dir: str, bind: str | None, persistence_dir: str, now: datetime,
                     hub_port: int | None = None) -> Authority:
    """Create the CA folder of ``gov``: CA, hub CA, broker server certificate, hub identity, empty CRL, config.

    ``hub_port``: the broker's listener for the hub (default ``port`` + 1, i.e. 8884 beside 8883)."""
    check_governorate(gov)
    folder = Path(folder)
    if (folder / "ca" / trust.CA_KEY_FILE).exists():
        raise ProvisioningError(
            f"{folder} already holds a CA; a second one would lock out every van enrolled with the first. "
            "Use another folder.",
            f"المجلد {folder} يحتوي بالفعل على سلطة شهادات؛ إنشاء أخرى يمنع كل العربات المسجلة. استخدم مجلدًا آخر.",
            code="provisioning-ca-exists",
        )
    hub_port = hub_port or (port + 1 if port < 65535 else port - 1)
    if hub_port == port:
        raise ProvisioningError(
            f"The hub's port must differ from the vans' ({port}): the broker tells them apart by listener.",
            f"يجب أن يختلف منفذ المركز عن منفذ العربات ({port}).",
            code="provisioning-hub-port",
        )
    ca = make_ca(gov, now=now)
    hub_ca = make_ca(gov, now=now, cn=f"MTC governorate hub CA {gov}")
    keys.write_private_key(folder / "ca" / trust.CA_KEY_FILE, ca.key)
    keys.write_certificate(folder / "ca" / trust.CA_CERT_FILE, ca.certificate)
    keys.write_private_key(folder / "ca" / HUB_CA_KEY, hub_ca.key)
    keys.write_certificate(folder / "ca" / HUB_CA_CERT, hub_ca.certificate)
    os.chmod(folder / "ca", 0o700)
    meta = {"governorate": gov, "broker_url": f"mqtts://{broker_host}:{port}",
            "hub_broker_url": f"mqtts://{broker_host}:{hub_port}", "trust_list_version": 0}
    _write_atomic(folder / "governorate.json", json.dumps(meta, indent=1).encode())
    _write_atomic(folder / "ca" / "index.json", b"[]")
    auth = Authority(folder)
    server = make_tls_cert(ca, broker_host, now=now, days=SERVER_DAYS, server=True,
                           addresses=(broker_host, *addresses))
    hub = make_tls_cert(hub_ca, HUB_CN, now=now, days=CLIENT_DAYS)
    auth.record(server, "server", None)
    auth.record(hub, "hub", None)
    keys.write_certificate(auth.broker_dir / "ca.pem", ca.certificate)
    keys.write_certificate(auth.broker_dir / "hub-ca.pem", hub_ca.certificate)
    keys.write_certificate(auth.broker_dir / "server-cert.pem", server.certificate)
    keys.write_private_key(auth.broker_dir / "server-key.pem", server.key)
    keys.write_certificate(folder / "hub" / "ca.pem", ca.certificate)
    keys.write_certificate(folder / "hub" / "hub-cert.pem", hub.certificate)
    keys.write_private_key(folder / "hub" / "hub-key.pem", hub.key)
    auth.write_crl(now=now)
    auth.write_trust_list(now=now)
    (auth.broker_dir / "mosquitto.conf").write_text(
        broker.mosquitto_conf(port=port, hub_port=hub_port, bind=bind, broker_dir=broker_dir,
                              persistence_dir=persistence_dir)
    )
    auth.save(now=now)
    return auth


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write via a temporary file and rename, so a crash never leaves half an index or CRL behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
