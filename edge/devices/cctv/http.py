"""An IP camera over HTTP(S): an MJPEG stream or a snapshot URL, with Basic or Digest credentials from the URL."""

from __future__ import annotations

import time
import urllib.request

import cv2
import numpy as np

import edge.devices.cctv.checks as checks
from edge.devices.cctv.base import ThreadedSource
from edge.devices.urls import credentials


def _http_opener(url: str) -> tuple[str, urllib.request.OpenerDirector]:
    """The URL without its user:password, and an opener that answers the camera's Basic or Digest
    challenge with them (IP cameras use both; urllib does neither from a URL by itself)."""
    bare, user, password = credentials(url)
    if not user:
        return url, urllib.request.build_opener()
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, bare, user, password)
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(passwords),
                                         urllib.request.HTTPDigestAuthHandler(passwords))
    return bare, opener


class HttpSource(ThreadedSource):
    """An MJPEG stream (multipart/x-mixed-replace) or a snapshot URL (one JPEG per request).

    JPEGs are kept encoded and decoded only when sampled, at a reduced scale (libjpeg's DCT
    scaling): the checks need 320 px, so a 1280 px camera costs a quarter of a full decode.
    """

    def __init__(self, url: str, timeout_s: float = 5.0, snapshot_every_s: float = 1.0):
        self._jpeg = b""
        self._full_width = 0
        self.snapshot_every_s = snapshot_every_s
        self._fetch_url, self._opener = _http_opener(url)
        super().__init__(url, timeout_s)

    def _publish(self, jpeg: bytes) -> None:
        with self._lock:
            self._jpeg = jpeg
            self._seq += 1
            self._at = time.monotonic()
        self.last_error = ""

    def _read_until_stopped(self) -> None:
        with self._opener.open(self._fetch_url, timeout=self.timeout_s) as resp:
            ctype = resp.headers.get("Content-Type", "")
            if ctype.startswith("multipart/"):
                self._read_stream(resp, ctype)
                return
            self._publish(resp.read())
        # A snapshot URL: ask again at the sampling pace.
        while not self._stop.wait(self.snapshot_every_s):
            with self._opener.open(self._fetch_url, timeout=self.timeout_s) as resp:
                self._publish(resp.read())

    def _read_stream(self, resp, ctype: str) -> None:
        boundary = b""
        for part in ctype.split(";"):
            key, _, value = part.strip().partition("=")
            if key.lower() == "boundary":
                boundary = value.strip('"').encode()
        if not boundary:
            raise OSError(f"multipart stream without a boundary: {ctype}")
        marker = b"--" + boundary.removeprefix(b"--")
        while not self._stop.is_set():
            line = resp.readline()
            if not line:
                raise OSError("the camera closed the stream")
            if not line.startswith(marker):
                continue
            length = None
            while True:  # the part's headers
                header = resp.readline()
                if not header:
                    raise OSError("the camera closed the stream")
                if header in (b"\r\n", b"\n"):
                    break
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is not None:
                body = resp.read(length)
                if len(body) < length:
                    raise OSError("the camera closed the stream")
            else:
                # No length: the JPEG ends where its end-of-image marker is.
                chunks = []
                while not (chunks and chunks[-1].rstrip(b"\r\n").endswith(b"\xff\xd9")):
                    chunk = resp.readline()
                    if not chunk:
                        raise OSError("the camera closed the stream")
                    chunks.append(chunk)
                body = b"".join(chunks).rstrip(b"\r\n")
            self._publish(body)

    def _decode(self) -> np.ndarray | None:
        with self._lock:
            jpeg = self._jpeg
        buf = np.frombuffer(jpeg, np.uint8)
        flag = cv2.IMREAD_COLOR
        for factor, reduced in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                                (2, cv2.IMREAD_REDUCED_COLOR_2)):
            if self._full_width and self._full_width // factor >= checks.SHARP_WIDTH:
                flag = reduced
                break
        image = cv2.imdecode(buf, flag)
        if image is None:
            self.last_error = "the camera sent a picture that cannot be decoded"
            return None
        if flag == cv2.IMREAD_COLOR:
            self._full_width = image.shape[1]
        return image
