"""The van's keys for the web UI: the trust list that verifies scanned codes, the signer for receipt QR codes.

Both are read from ``<data_dir>/keys`` (written by ``edge codes dev-keys`` today, by provisioning later).
Without them the kiosk says honestly that it cannot verify, and receipts carry the bare request number.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from edge.core import codes, trust
from edge.core import requests as rq
from edge.core.errors import EdgeError

log = logging.getLogger(__name__)

def keys_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "keys"


def _stamp(folder: Path, *names: str) -> tuple:
    """What the files look like now (modification times): a cached load is reused until one changes,
    e.g. when the sync process writes a new trust list from the downlink."""
    stamps = []
    for name in names:
        try:
            stamps.append((folder / name).stat().st_mtime_ns)
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def load_trust_list(data_dir: Path) -> trust.TrustList | None:
    """The cached trust list, checked against the governorate CA; None when absent or unusable."""
    folder = keys_dir(data_dir)
    return _trust_list(folder, _stamp(folder, trust.CA_CERT_FILE, trust.TRUST_LIST_FILE))


@functools.lru_cache(maxsize=8)
def _trust_list(folder: Path, _stamp: tuple) -> trust.TrustList | None:
    # Read and verified once per version of the files, not on every kiosk request.
    try:
        ca = x509.load_pem_x509_certificate((folder / trust.CA_CERT_FILE).read_bytes())
        return trust.verify_list((folder / trust.TRUST_LIST_FILE).read_bytes(), ca)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EdgeError) as exc:
        log.warning("trust list in %s cannot be used: %s", folder, getattr(exc, "detail", exc))
        return None


def load_signer(data_dir: Path) -> trust.Signer | None:
    folder = keys_dir(data_dir)
    return _signer(folder, _stamp(folder, trust.SIGNER_KEY_FILE, trust.SIGNER_CERT_FILE))


@functools.lru_cache(maxsize=8)
def _signer(folder: Path, _stamp: tuple) -> trust.Signer | None:
    try:
        key = serialization.load_pem_private_key((folder / trust.SIGNER_KEY_FILE).read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate((folder / trust.SIGNER_CERT_FILE).read_bytes())
        return trust.Signer(key, cert)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, EdgeError) as exc:
        log.warning("signing key in %s cannot be used: %s", folder, getattr(exc, "detail", exc))
        return None


def receipt_code(data_dir: Path, number: str, service: str, national_id: str, now: datetime) -> str:
    """What the receipt's QR code holds: a signed EG1 code when the van has a signing key, else the number.
    A training receipt's (training mode's number series) is never signed: ``TRAINING-<digits>``, which every
    kiosk shows as «تدريب — ليس مستندًا رسميًا»."""
    parsed = rq.parse_request_number(number)
    if parsed.training:
        return f"{rq.TRAINING_MARK}-{parsed.digits}"
    signer = load_signer(data_dir)
    if signer is not None:
        try:
            return codes.issue(signer, codes.DocumentType.RECEIPT, number, service, now=now,
                               national_id=national_id)
        except EdgeError as exc:
            log.warning("receipt %s printed without a signed code: %s", number, exc.detail)
    return number.replace("-", "")


def shift_code(data_dir: Path, shift_id: int, now: datetime, *, training: bool = False) -> str:
    """What a Z-report's QR code holds: a signed EG1 code of type "shift" (number ``Z<id>``) when the van has a
    signing key, else the bare ``Z<id>``. A training shift's report is never signed (``TRAINING-Z<id>``)."""
    number = f"Z{int(shift_id)}"
    if training:
        return f"{rq.TRAINING_MARK}-{number}"
    signer = load_signer(data_dir)
    if signer is not None:
        try:
            return codes.issue(signer, codes.DocumentType.SHIFT, number, "SHIFT", now=now)
        except EdgeError as exc:
            log.warning("shift report %s printed without a signed code: %s", number, exc.detail)
    return number
