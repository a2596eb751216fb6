"""The staff web app over HTTPS: the nginx site `provision hub install` writes when the settings give
``web.public_url`` (docs/governorate.md, "The web app over HTTPS").

The web app itself (waitress) speaks plain HTTP on loopback; nginx, in front of it, holds the certificate, answers on
the public address and passes each request on with headers it sets itself — the client's address, the scheme, the
public name — never the client's own X-Forwarded-* (waitress believes them from the proxy's address only:
``governorate.web.server_options``).
Plain HTTP on port 80 only redirects to HTTPS; the browser is told to use HTTPS only from then on (HSTS).

:func:`check` runs ``nginx -t`` on the site alone, in a throw-away prefix, before the install writes anything; the
tests serve through real nginx the same way (:func:`main_conf`).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

SITE = "/etc/nginx/conf.d/governorate.conf"  # Debian's nginx.conf includes conf.d/*.conf inside http {}
TLS = "/etc/governorate/web"  # the site's certificate (full chain) and key; nginx reads them as root
TLS_FILES = {"cert.pem": (0o644, "root"), "key.pem": (0o600, "root")}
HSTS_S = 365 * 86400  # browsers remember to use HTTPS only for a year
# The web app refuses a body over 2 MiB itself (MAX_CONTENT_LENGTH) with a page in both languages; nginx lets a little
# more through so that the app's answer, not nginx's English one, is what staff see.
MAX_BODY = "3m"
# Mozilla's "intermediate" configuration (TLS 1.2 and 1.3; browsers of the last several years, old Android included).
CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
           "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
           "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384")


def public_address(public_url: str) -> tuple[str, int]:
    """The host name staff open, as DNS, certificates and nginx write it (a name in Arabic script in its xn-- form),
    and the port (``web.public_url``, checked by governorate.settings)."""
    parts = urlsplit(public_url)
    name = parts.hostname or ""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        name = name.encode("idna").decode("ascii")
    return name, parts.port or 443


def _upstream(host: str, port: int) -> str:
    """Where the web app listens (web.host: 127.0.0.1, ::1 or localhost, which governorate.settings enforces)."""
    return f"[::1]:{port}" if host == "::1" else f"127.0.0.1:{port}"


def has_ipv6() -> bool:
    """Whether this machine has IPv6 (a kernel booted with ipv6.disable=1 has none; nginx would not start)."""
    return Path("/proc/net/if_inet6").exists()


def site(public_url: str, web_host: str = "127.0.0.1", web_port: int = 8090, *, tls_dir: str = TLS,
         http_port: int | None = None, ipv6: bool = True) -> bytes:
    """The nginx site for ``public_url``: HTTPS on its port, passing to the web app at ``web_host:web_port``, and a
    plain-HTTP server on ``http_port`` that only redirects there (None: port 80 when the public port is 443, else
    none)."""
    name, port = public_address(public_url)
    host_name = f"[{name}]" if ":" in name else name  # an IPv6 address, as a URL writes it
    shown = host_name if port == 443 else f"{host_name}:{port}"  # the Host the app sees, as staff typed it

    def listen(p: int, extra: str = "") -> str:
        lines = [f"    listen {p}{extra};"]
        if ipv6:
            lines.append(f"    listen [::]:{p}{extra};")
        return "\n".join(lines)

    if http_port is None and port == 443:
        http_port = 80
    redirect = ""
    if http_port is not None:
        redirect = f"""server {{
{listen(http_port)}
    server_name {name};
    server_tokens off;
    return 301 https://{shown}$request_uri;
}}

"""
    text = f"""# Written by `provision hub install` from web.public_url = {public_url} (docs/governorate.md,
# "The web app over HTTPS"). The next install writes it again: change the settings, not this file.
{redirect}server {{
{listen(port, " ssl http2")}
    server_name {name};
    server_tokens off;

    ssl_certificate {tls_dir}/cert.pem;
    ssl_certificate_key {tls_dir}/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers {CIPHERS};
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:governorate:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;

    add_header Strict-Transport-Security "max-age={HSTS_S}" always;
    client_max_body_size {MAX_BODY};
    gzip off;  # pages carry the CSRF token: no compression over TLS (BREACH), whatever nginx.conf says

    location / {{
        proxy_pass http://{_upstream(web_host, web_port)};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        # Set here, never passed on from the client: waitress believes these from the proxy's address.
        proxy_set_header Host {shown};
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto https;
        proxy_set_header X-Forwarded-Host "";
        proxy_set_header X-Forwarded-Port "";
        proxy_set_header X-Forwarded-Prefix "";
        proxy_read_timeout 120s;
    }}
}}
"""
    return text.encode()


def covers(cert_pem: bytes, host: str) -> bool:
    """Whether the certificate names ``host`` (its subjectAltName: a DNS name, one-label wildcard, or an address)."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return address in names.get_values_for_type(x509.IPAddress)
    host = host.lower().rstrip(".")
    for dns in names.get_values_for_type(x509.DNSName):
        dns = dns.lower().rstrip(".")
        if dns == host:
            return True
        if dns.startswith("*.") and "." in host and host.split(".", 1)[1] == dns[2:]:
            return True
    return False


def answers(public_url: str, cert_pem: bytes, timeout_s: float = 15.0, *, address: str = "127.0.0.1") -> str | None:
    """Whether nginx on this machine serves the site now: on the public port, under the public name, with this
    certificate, and the web app's /healthz behind it answering 200. None when it does, else what it saw last.
    (``nginx -t`` cannot tell: a port another program holds fails only when nginx loads the site, in its log.)"""
    name, port = public_address(public_url)
    want = x509.load_pem_x509_certificate(cert_pem)
    context = ssl.create_default_context()
    context.check_hostname = False  # the certificate served is compared with ours, byte for byte, instead
    context.verify_mode = ssl.CERT_NONE
    end, last = time.monotonic() + timeout_s, "no answer"
    while True:
        try:
            with socket.create_connection((address, port), timeout=5) as raw, \
                    context.wrap_socket(raw, server_hostname=name) as tls:
                served = tls.getpeercert(binary_form=True)
                if served != want.public_bytes(serialization.Encoding.DER):
                    last = f"port {port} serves another certificate (another program or site holds it)"
                else:
                    host = name if port == 443 else f"{name}:{port}"
                    tls.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                    status = tls.recv(64).split(b" ", 2)[1:2]
                    if status == [b"200"]:
                        return None
                    last = f"/healthz answered {status[0].decode(errors='replace') if status else 'nothing'}"
        except (OSError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > end:
            return last
        time.sleep(0.5)


def main_conf(prefix: Path, site_path: Path, *, user: str | None = None) -> str:
    """An nginx.conf of its own under ``prefix`` that serves ``site_path`` alone (the check, and the tests)."""
    temp = "\n".join(f"    {kind}_temp_path {prefix}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                          "uwsgi", "scgi"))
    return f"""{f"user {user};" if user else ""}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp}
    include {site_path};
}}
"""


def check(site_text: bytes, cert_pem: bytes, key_pem: bytes, nginx: str = "nginx") -> str | None:
    """``nginx -t`` on the site alone, its certificate and key beside it: None when nginx takes it, else what nginx
    said. (Whether its ports are free, or another site claims its name, the machine's own ``nginx -t`` tells.)"""
    with tempfile.TemporaryDirectory(prefix="governorate-nginx-") as tmp:
        prefix = Path(tmp)
        (prefix / "cert.pem").write_bytes(cert_pem)
        key = prefix / "key.pem"
        key.touch(0o600)
        key.write_bytes(key_pem)
        text = site_text.decode().replace(f"{TLS}/", f"{prefix}/")
        (prefix / "site.conf").write_text(text)
        (prefix / "nginx.conf").write_text(main_conf(prefix, prefix / "site.conf"))
        try:
            done = subprocess.run([nginx, "-t", "-q", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                                  capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return "nginx -t did not answer within 60 s"
        if done.returncode != 0:
            return (done.stderr or done.stdout).strip().replace(str(prefix), "…")[-600:]
    return None
