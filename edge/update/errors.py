"""The update's error: what a technician or the hub's fleet screen reads, in Arabic and English."""

from __future__ import annotations

from edge.core.errors import EdgeError


class UpdateError(EdgeError):
    """An update that was refused or failed; the van keeps running the version it had.

    Codes: ``update-untrusted`` (a signature the van's root does not trust), ``update-rollback`` (older
    metadata than the van has seen), ``update-frozen`` (expired metadata), ``update-tampered`` (a file whose
    length or SHA-256 differs from the signed one), ``update-missing`` (a file or metadata not there),
    ``update-bad`` (malformed), ``update-install`` (installing failed), ``update-unhealthy`` (the new
    version failed its health check and was rolled back)."""

    code = "update"
