"""The staff web app over HTTPS: the nginx site `provision hub install` writes for ``web.public_url``, served by real
nginx in front of the real web app (waitress on loopback), and what the install and the ``governorate web`` command
check about it."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from flask import jsonify, request

from governorate import settings as settings_mod
from governorate import staff
from governorate.store import HubStore
from governorate.web import create_app, server_options
from provisioning import pki, web_proxy
from tests.support.browser_support import free_port, serve

NAME = "hub.gov21.test"
PASSWORD = "correct horse battery"
CLIENT = "127.0.0.2"  # the staff member's address, as nginx sees it

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx (the hub's system packages) missing")


def tls_pair(folder: Path, *names: str) -> tuple[Path, Path]:
    """A CA (its certificate as ca.pem) and a server certificate for ``names`` in ``folder`` (cert.pem, key.pem)."""
    now = datetime.now(UTC)
    ca = pki.make_ca("21", now=now)
    leaf = pki.make_tls_cert(ca, names[0], now=now, days=30, server=True, addresses=names)
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.certificate.public_bytes(pem))
    (folder / "cert.pem").write_bytes(leaf.certificate.public_bytes(pem))
    (folder / "key.pem").write_bytes(leaf.key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
    return folder / "cert.pem", folder / "ca.pem"


class Named(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1, as a browser that resolved ``host`` there: SNI and the certificate's check use the name.
    It comes from 127.0.0.2, another address than nginx's own towards the app, so that the two can be told apart."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=(CLIENT, 0))
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _wait_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"nginx exited {proc.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx is not listening on {port}")


@pytest.fixture
def proxied(tmp_path):
    """The real web app on loopback (waitress with ``server_options``; one test page shows what the app believes of
    each request), real nginx in front of it with the site the install writes: yields (https port, http port, CA)."""
    store = HubStore(str(tmp_path / "hub.db"))
    staff.add(store, "amal", "Amal Admin", "admin", "21", PASSWORD)
    https_port, http_port = free_port(), free_port()
    public = f"https://{NAME}:{https_port}"
    app = create_app({"DB_PATH": store.path, "STORE": store, "SECRET_KEY": b"k" * 32, "GOVERNORATE": "21",
                      "PUBLIC_URL": public})

    @app.route("/_seen")
    def _seen():
        return jsonify(remote=request.remote_addr, scheme=request.scheme, host=request.host,
                       url=request.url_root)

    prefix = tmp_path / "nginx"
    prefix.mkdir()
    tls_pair(prefix / "tls", NAME)
    with serve(app, **server_options(app.config, "127.0.0.1")) as url:
        web_port = int(url.rsplit(":", 1)[1])
        site = web_proxy.site(public, "127.0.0.1", web_port, tls_dir=str(prefix / "tls"), http_port=http_port,
                              ipv6=web_proxy.has_ipv6())  # as the install writes it on this machine
        (prefix / "site.conf").write_bytes(site)
        user = "root" if os.geteuid() == 0 else None  # workers write the proxy's temp files under the prefix
        (prefix / "nginx.conf").write_text(web_proxy.main_conf(prefix, prefix / "site.conf", user=user))
        proc = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_port(https_port, proc, prefix / "error.log")
            yield https_port, http_port, prefix / "tls"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    store.close()


def _https(port: int, ca: Path, method: str, path: str, headers: dict | None = None, body: str | None = None):
    conn = Named(NAME, port, context=ssl.create_default_context(cafile=str(ca)), timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read().decode()
    finally:
        conn.close()


def test_the_web_app_is_served_over_https_and_trusts_only_what_its_proxy_says(proxied):
    https_port, http_port, tls = proxied
    ca = tls / "ca.pem"
    response, body = _https(https_port, ca, "GET", "/healthz")
    assert response.status == 200 and '"ok": true' in body.replace('"ok":true', '"ok": true')
    assert response.getheader("Strict-Transport-Security") == f"max-age={web_proxy.HSTS_S}"
    assert response.getheader("Server") == "nginx"  # no version shown
    # A client claiming another address, scheme or host is not believed: nginx sets those headers itself.
    response, body = _https(https_port, ca, "GET", "/_seen", {
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example",
        "Host": "evil.example"})
    seen = json.loads(body)
    assert seen == {"remote": CLIENT, "scheme": "https", "host": f"{NAME}:{https_port}",
                    "url": f"https://{NAME}:{https_port}/"}
    # Plain HTTP only redirects, to the same page over HTTPS.
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    conn.request("GET", "/login?next=/fleet", headers={"Host": NAME})
    redirect = conn.getresponse()
    assert redirect.status == 301
    assert redirect.getheader("Location") == f"https://{NAME}:{https_port}/login?next=/fleet"
    conn.close()


def test_a_sign_in_through_the_proxy_gets_a_cookie_sent_over_https_only(proxied):
    https_port, _, tls = proxied
    ca = tls / "ca.pem"
    response, page = _https(https_port, ca, "GET", "/login")
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urlencode({"username": "amal", "password": PASSWORD, "csrf_token": token})
    response, _ = _https(https_port, ca, "POST", "/login", {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, form)
    assert response.status == 302, response.status
    set_cookie = response.getheader("Set-Cookie")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie


def test_a_body_over_the_apps_limit_gets_the_apps_own_answer_not_nginxs(proxied):
    https_port, _, tls = proxied
    ca = tls / "ca.pem"
    response, body = _https(https_port, ca, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"},
                            "x=" + "a" * (2 * 1024 * 1024 + 10))
    assert response.status == 413 and "The file is too large." in body and "nginx" not in body


def test_the_site_is_what_nginx_accepts_and_certificates_are_checked_for_the_name(tmp_path):
    cert, _ = tls_pair(tmp_path / "tls", NAME, "*.gov21.test", "10.0.0.5")
    pem, key = cert.read_bytes(), (tmp_path / "tls" / "key.pem").read_bytes()
    for name in (NAME, "staff.gov21.test", "10.0.0.5", "HUB.GOV21.TEST"):
        assert web_proxy.covers(pem, name), name
    for name in ("gov21.test", "a.b.gov21.test", "hub.gov01.test", "10.0.0.6"):
        assert not web_proxy.covers(pem, name), name
    site = web_proxy.site(f"https://{NAME}", "127.0.0.1", 8090)
    assert web_proxy.check(site, pem, key) is None
    text = site.decode()
    assert "listen 80;" in text and "listen 443 ssl http2;" in text and f"return 301 https://{NAME}$request_uri" in text
    assert "listen 80" not in web_proxy.site(f"https://{NAME}:8443").decode()  # no redirect beside another port
    problem = web_proxy.check(site.replace(b"ssl_protocols", b"ssl_protocolz"), pem, key)
    assert problem and "ssl_protocolz" in problem


@pytest.mark.parametrize("value, says", [
    ("http://hub.gov21.test", "must be the https:// address"),
    ("https://", "must be the https:// address"),
    ("https://hub.gov21.test/staff", "no path"),
    ("https://amal:pw@hub.gov21.test", "no path, query or user"),
    ("https://hub.gov21.test:80", "port 80"),
    ("https://hub.gov21.test:99999", "is not a URL"),
])
def test_a_public_url_that_is_not_an_https_address_is_refused(value, says):
    with pytest.raises(settings_mod.HubConfigError) as refused:
        settings_mod.loads(f'[web]\npublic_url = "{value}"\n')
    assert says in refused.value.problem


def test_behind_the_proxy_the_web_app_listens_on_loopback_only(tmp_path):
    with pytest.raises(settings_mod.HubConfigError) as refused:
        settings_mod.loads(f'[web]\npublic_url = "https://{NAME}"\nhost = "0.0.0.0"\n')
    assert refused.value.key == "web.host" and "127.0.0.1 only" in refused.value.problem
    assert settings_mod.loads(f'[web]\npublic_url = "https://{NAME}"\nhost = "127.0.0.1"\n')["public_url"]
    # The same from the command line or the environment, at the command's start.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNORATE_")}
    out = subprocess.run([sys.executable, "-m", "governorate.cli", "web", "--db", str(tmp_path / "hub.db"), "--host",
                          "0.0.0.0", "--print-settings"], capture_output=True, text=True, timeout=60,
                         env={**env, "GOVERNORATE_PUBLIC_URL": f"https://{NAME}"})
    assert out.returncode != 0 and "127.0.0.1 only" in out.stderr and "Traceback" not in out.stderr
    shown = subprocess.run([sys.executable, "-m", "governorate.cli", "web", "--db", str(tmp_path / "hub.db"),
                            "--public-url", f"https://{NAME}", "--print-settings"], capture_output=True, text=True,
                           timeout=60, env=env)
    assert shown.returncode == 0, shown.stderr
    assert f'"PUBLIC_URL": "https://{NAME}"' in shown.stdout


def test_the_install_asks_nginx_whether_it_serves_the_site_with_its_own_certificate(proxied, tmp_path):
    https_port, http_port, tls = proxied
    public = f"https://{NAME}:{https_port}"
    cert = (tls / "cert.pem").read_bytes()
    assert web_proxy.answers(public, cert, timeout_s=5) is None
    other, _ = tls_pair(tmp_path / "other", NAME)  # what a port held by another site or program serves
    assert "serves another certificate" in web_proxy.answers(public, other.read_bytes(), timeout_s=1)
    assert "ConnectionRefusedError" in web_proxy.answers(f"https://{NAME}:{free_port()}", cert, timeout_s=1)


def test_a_name_in_arabic_script_is_served_and_certified_in_its_xn_form(tmp_path):
    public = "https://مركز.مصر"
    assert settings_mod.public_url_problem(public) is None
    name, port = web_proxy.public_address(public)
    assert name == "مركز.مصر".encode("idna").decode() and name.startswith("xn--") and port == 443
    cert, _ = tls_pair(tmp_path / "tls", name)
    assert web_proxy.covers(cert.read_bytes(), name)
    text = web_proxy.site(public).decode()
    assert f"server_name {name};" in text and f"return 301 https://{name}$request_uri;" in text
    assert "مصر" not in text.split("\n", 2)[2]  # only the comment quotes the setting as written
