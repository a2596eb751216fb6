"""A tiny HTTP client with cookies that answers like Flask's test client (status_code, headers, get_data),
so the web tests' helpers can drive a real server over loopback."""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status_code = status
        self.headers = {k: v for k, v in headers.items()}
        self._body = body

    def get_data(self, as_text: bool = False):
        return self._body.decode("utf-8") if as_text else self._body


class HttpClient:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def _open(self, request: urllib.request.Request) -> Response:
        try:
            with self.opener.open(request, timeout=30) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            location = e.headers.get("Location")
            headers = dict(e.headers.items())
            if location and location.startswith(self.base):
                headers["Location"] = location[len(self.base):]
            return Response(e.code, headers, e.read())

    def get(self, path: str) -> Response:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict | None = None) -> Response:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))
