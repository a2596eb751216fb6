"""Verify a release with python-tuf's ngclient before anything of it is installed.

The van trusts one thing from the start: the governorate's root metadata (``anchor``, installed with the
van; docs/updates.md). From it ngclient walks the root chain (key rotations), then checks timestamp →
snapshot → targets — signatures by the keys root names, versions never lower than the van has seen
(rollback), expiry (freeze) — and each file's length and SHA-256 against targets.json. What it has trusted
is kept in ``trusted_dir`` so the next update cannot go back behind it.

The verified files are copied into ``dest`` (a new folder, renamed into place when complete), which is then
what the installer reads: nothing is ever installed from the transport's folder itself.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tuf.api import exceptions
from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig

from edge.store.files import fsync_dir
from edge.update.errors import UpdateError
from edge.update.fetch import METADATA_URL, TARGETS_URL, FolderFetcher

MANIFEST = "release.json"
FORMAT = "mtc-van-release"
MAX_MANIFEST_BYTES = 1 << 20


@dataclass(frozen=True)
class Verified:
    """A release whose every file ngclient checked, copied into ``folder``."""

    folder: Path
    version: str
    identity: str  # the release's identity as the governorate signed it (targets' custom field)
    manifest: dict
    targets_version: int

    @property
    def requirements(self) -> Path:
        return self.folder / self.manifest["requirements"]

    @property
    def project_wheel(self) -> Path:
        return self.folder / self.manifest["project_wheel"]

    @property
    def wheels(self) -> Path:
        return self.project_wheel.parent


def _refused(exc: Exception) -> UpdateError:
    """ngclient's exception as a message a person reads; the van keeps the version it runs."""
    keep = "The van keeps running its current version."
    keep_ar = "تبقى العربة على إصدارها الحالي."
    if isinstance(exc, exceptions.UnsignedMetadataError):
        return UpdateError(f"التحديث غير موقّع بمفاتيح المحافظة الموثوقة فرُفض. {keep_ar}",
                           f"The update is not signed by the governorate's trusted keys: refused. {keep}",
                           detail=str(exc), code="update-untrusted")
    if isinstance(exc, exceptions.BadVersionNumberError):
        return UpdateError(f"عُرض على العربة تحديث أقدم مما رأته من قبل فرُفض (هجوم إرجاع). {keep_ar}",
                           f"The update is older than one this van has already seen (rollback): refused. {keep}",
                           detail=str(exc), code="update-rollback")
    if isinstance(exc, exceptions.ExpiredMetadataError):
        return UpdateError(f"بيانات التحديث منتهية الصلاحية (مجمّدة) فرُفضت. {keep_ar}",
                           f"The update's metadata has expired (a frozen or stale offer): refused. {keep}",
                           detail=str(exc), code="update-frozen")
    if isinstance(exc, exceptions.LengthOrHashMismatchError | exceptions.DownloadLengthMismatchError):
        return UpdateError(f"أحد ملفات التحديث لا يطابق بصمته الموقعة (تم العبث به أو تلف). {keep_ar}",
                           f"A file of the update differs from its signed length or SHA-256 (tampered or "
                           f"damaged): refused. {keep}", detail=str(exc), code="update-tampered")
    if isinstance(exc, exceptions.DownloadError):
        return UpdateError(f"ملف من ملفات التحديث غير موجود. {keep_ar}",
                           f"A file of the update is missing: {exc}. {keep}", detail=str(exc), code="update-missing")
    return UpdateError(f"التحديث غير صالح فرُفض. {keep_ar}", f"The update is malformed: {exc}. {keep}",
                       detail=f"{type(exc).__name__}: {exc}", code="update-bad")


def _safe_relative(rel: object) -> str:
    if not isinstance(rel, str) or not rel:
        raise UpdateError("ملف التحديث يذكر مسارًا غير صالح.", f"The release names a bad path: {rel!r}.",
                          code="update-bad")
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or "\\" in rel or p.parts[0] == "tuf":
        raise UpdateError("ملف التحديث يذكر مسارًا خارج مجلده.", f"The release names a path outside it: {rel!r}.",
                          code="update-bad")
    return rel


def verify(source: Path | None, *, anchor: Path, trusted_dir: Path, dest: Path,
           fetcher: FetcherInterface | None = None) -> Verified:
    """Check the release offered in ``source`` (or by ``fetcher``) and copy its verified files into ``dest``.

    ``dest`` must not exist; it appears complete or not at all. Raises :class:`UpdateError` on anything
    refused, with ``trusted_dir`` holding only metadata that did verify."""
    fetcher = fetcher or FolderFetcher(source)
    dest = Path(dest)
    try:
        bootstrap = Path(anchor).read_bytes()
    except OSError as exc:
        raise UpdateError("لا توجد على العربة شهادة الجذر الموثوقة للتحديثات؛ لا يمكن التحقق من أي تحديث.",
                          f"This van has no trusted root for updates ({anchor}); no update can be verified.",
                          detail=str(exc), code="update-no-anchor") from None
    Path(trusted_dir).mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    try:
        updater = Updater(str(trusted_dir), METADATA_URL, str(partial), TARGETS_URL, fetcher,
                          UpdaterConfig(prefix_targets_with_hash=False), bootstrap=bootstrap)
        updater.refresh()
        info = updater.get_targetinfo(MANIFEST)
        if info is None:
            raise UpdateError("التحديث الموقّع لا يحتوي ملف release.json.", "The signed update lists no release.json.",
                              code="update-bad")
        if info.length > MAX_MANIFEST_BYTES:
            raise UpdateError("ملف release.json كبير على نحو غير معقول.", "release.json is unreasonably large.",
                              code="update-bad")
        partial.mkdir(parents=True)
        updater.download_target(info, str(partial / MANIFEST))
        manifest = json.loads((partial / MANIFEST).read_bytes())
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
                or not isinstance(manifest.get("files"), dict):
            raise UpdateError("ملف release.json ليس إصدارًا لبرنامج العربة.", "release.json is not a van release.",
                              code="update-bad")
        for required in ("requirements", "project_wheel", "version"):
            if not isinstance(manifest.get(required), str):
                raise UpdateError("ملف release.json ناقص.", f"release.json lacks {required}.", code="update-bad")
        for rel in [manifest["requirements"], manifest["project_wheel"]]:
            if rel not in manifest["files"]:
                raise UpdateError("ملف release.json ناقص.", f"release.json does not list {rel}.", code="update-bad")
        for rel, digest in manifest["files"].items():
            rel = _safe_relative(rel)
            target = updater.get_targetinfo(rel)
            if target is None:
                raise UpdateError("ملف في الإصدار غير مذكور في البيانات الموقعة.",
                                  f"{rel} is in release.json but not signed in targets.json.", code="update-tampered")
            if target.hashes.get("sha256") != digest:
                raise UpdateError("بصمة ملف في release.json تخالف البيانات الموقعة.",
                                  f"{rel}: release.json's SHA-256 differs from the signed one.", code="update-tampered")
            (partial / rel).parent.mkdir(parents=True, exist_ok=True)
            updater.download_target(target, str(partial / rel))
        custom = info.unrecognized_fields.get("custom") or {}
        identity = custom.get("identity") if isinstance(custom, dict) else None
        if not isinstance(identity, str) or not identity.isalnum():
            raise UpdateError("الإصدار الموقع بلا هوية.", "The signed release carries no identity.", code="update-bad")
        targets_version = updater._trusted_set["targets"].version  # noqa: SLF001 - no public accessor
    except UpdateError:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    except (exceptions.RepositoryError, exceptions.DownloadError, ValueError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise _refused(exc) from None
    _fsync_tree(partial)
    if dest.exists():  # an earlier copy (perhaps of another release): this verified one replaces it
        shutil.rmtree(dest)
    os.replace(partial, dest)
    fsync_dir(dest.parent)
    return Verified(dest, manifest["version"], identity, manifest, targets_version)


def _fsync_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for d in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        fsync_dir(d)

