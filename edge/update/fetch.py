"""Where a release's TUF metadata and files come from: the transport seam of the update.

python-tuf's ngclient asks a *fetcher* for URLs. The van names everything with the scheme ``release:``
— ``release:/tuf/timestamp.json``, ``release:/wheels/x.whl`` — and a fetcher maps that path to bytes:

- :class:`FolderFetcher` reads a local folder: a release copied on a USB stick, or the folder the MQTT
  downlink assembles a bundle into chunk by chunk (edge.sync.chunks; each chunk SHA-256 checked, resumable);
- an HTTPS transport is ngclient's own ``Urllib3Fetcher`` with ``https://hub/…/`` base URLs instead.

Whatever the transport, nothing it delivers is trusted: ngclient checks every byte against signed metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from tuf.api import exceptions
from tuf.ngclient import FetcherInterface

SCHEME = "release"
METADATA_URL = f"{SCHEME}:/tuf/"
TARGETS_URL = f"{SCHEME}:/"
BLOCK = 1 << 16


class FolderFetcher(FetcherInterface):
    """Serves ``release:/PATH`` from ``folder``/PATH; a path leaving the folder is refused like a 404."""

    def __init__(self, folder: Path):
        self.folder = Path(folder).resolve()

    def path_of(self, url: str) -> Path:
        # Not a URL library's parse: these are names ngclient joins itself (base + role or target path,
        # never percent-encoded for a release's files), and only the device URLs have a parser (edge/devices/urls.py).
        scheme, sep, path = url.partition(":")
        rel = PurePosixPath(path.lstrip("/"))
        if scheme != SCHEME or not sep or ".." in rel.parts or not rel.parts or "\0" in path:
            raise exceptions.DownloadHTTPError(f"{url}: not a release path", 404)
        path = (self.folder / rel).resolve()
        if not path.is_relative_to(self.folder):
            raise exceptions.DownloadHTTPError(f"{url}: outside the release", 404)
        return path

    def _fetch(self, url: str) -> Iterator[bytes]:
        path = self.path_of(url)
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by the generator
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise exceptions.DownloadHTTPError(f"{url}: not in the release", 404) from None
        return _chunks(f)


def _chunks(f) -> Iterator[bytes]:
    with f:
        while block := f.read(BLOCK):
            yield block
