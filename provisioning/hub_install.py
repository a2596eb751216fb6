"""Install the governorate hub on its server: user, folders, settings, the hub's identity, its software, its units.

``provision hub install --release FOLDER --settings hub.toml --tls CA/hub`` (docs/governorate.md, "Install a hub")
is what the hub's page used to describe as steps done by hand. Like the van's install (provisioning/install.py) each
step reports ``created``, ``updated`` or ``unchanged``, so running it again changes nothing, and everything is
checked before anything is written: a settings file the hub would refuse, a key that is not the certificate's, a
release that is damaged or another role's — one message in English and Arabic, nothing installed.

The software goes where the van's does, one virtualenv per release: ``/opt/governorate/versions/<id>/venv``, made
offline from the release's locked wheels, switched to by renaming ``/opt/governorate/current`` only once its
``governorate --version`` answers with the release's version; the units start ``current/venv/bin/governorate``. Two
versions are kept: the running one and the one before it (a rollback is ``ln -sfn versions/<id> current`` and a
restart, docs/governorate.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from edge.update.install import make_venv
from edge.update.state import fsync_dir
from governorate import settings as settings_mod
from provisioning import release as release_mod
from provisioning import web_proxy
from provisioning.laying import Entry, InstallError, Laying, check_pair, read_folder

USER = "governorate"
ETC = "/etc/governorate"
SETTINGS = f"{ETC}/hub.toml"
TLS = f"{ETC}/hub"  # the hub's MQTT identity: the CA folder's hub/ (docs/provisioning.md)
RELEASES_TLS = f"{ETC}/releases"  # the release server's own certificate (governorate-releases.service)
DATA = "/var/lib/governorate"  # the only folder the units may write (ProtectSystem=strict)
SOFTWARE = "/opt/governorate"
CURRENT = f"{SOFTWARE}/current"
MANIFEST_PATH = f"{ETC}/install-manifest.json"
UNIT_DIR = "/etc/systemd/system"
INSTALLED = "installed.json"

# The hub's MQTT identity as `provision governorate init` writes it in the CA folder's hub/: name -> mode, group.
TLS_FILES = {"ca.pem": (0o644, "root"), "hub-cert.pem": (0o644, "root"), "hub-key.pem": (0o640, USER)}
RELEASES_FILES = {"cert.pem": (0o644, "root"), "key.pem": (0o640, USER)}
DIRECTORIES = [
    (ETC, 0o750, "root", USER),
    (TLS, 0o750, "root", USER),
    (DATA, 0o750, USER, USER),
    (SOFTWARE, 0o755, "root", "root"),
    (f"{SOFTWARE}/versions", 0o755, "root", "root"),
]
# Started on every hub; governorate-notify.service when the settings name a sender, governorate-releases.service
# when the release server has its certificate.
ALWAYS = ("governorate-ingest.service", "governorate-web.service", "governorate-summary.timer")
NOTIFY = "governorate-notify.service"
RELEASES = "governorate-releases.service"
NGINX = "nginx.service"  # the TLS proxy in front of the web app, when the settings give web.public_url
RELEASES_PORT = 8443  # governorate-releases.service listens there


DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


RESERVED_DATABASES = ("postgres", "template0", "template1")


def local_database(url: str) -> str | None:
    """The database a ``postgresql://`` URL names on this machine's server, reached over its default Unix socket
    as the hub's own user (peer authentication: no password anywhere) — the one the install makes. Only the plain
    form counts: ``postgresql:///NAME`` or ``postgresql://governorate@/NAME``, nothing else in it (a host, a port,
    a query, a service: how libpq would read those is not second-guessed here). None for any other: the
    administrator's to make."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or parts.query or parts.fragment:
        return None
    if parts.netloc not in ("", f"{USER}@"):
        return None
    name = parts.path[1:] if parts.path.startswith("/") else ""
    return name or USER


def psql(sql: str) -> str:
    """``sql`` run by the server's superuser (``postgres``, over the local socket): its rows, unaligned."""
    return release_mod.run_tool(["runuser", "-u", "postgres", "--", "psql", "-XAtq", "-v", "ON_ERROR_STOP=1",
                                 "-d", "postgres", "-c", sql], "psql as the postgres user", cwd=Path("/"),
                                error=InstallError, code="provisioning-database")


def _refuse(en: str, ar: str, code: str = "provisioning-hub") -> InstallError:
    return InstallError(en, ar, code=code)


class HubInstaller(Laying):
    MANIFEST_PATH = MANIFEST_PATH

    def __init__(self, release: release_mod.Release, root: Path | None = None,
                 run: Callable[[list[str]], None] | None = None, python: str = "/usr/bin/python3",
                 query: Callable[[str], str] = psql):
        super().__init__(root, run)
        self.query = query  # SQL as PostgreSQL's superuser (the hub's role and database)
        if release.role != "hub":
            raise _refuse(f"{release.folder} is the {release.role}'s release, not the hub's: build it with "
                          "“provision release build --role hub”.",
                          "هذا الإصدار ليس إصدار مركز المحافظة: أنشئه بالأمر «provision release build --role hub».")
        self.release = release
        self.python = python
        self.proxied = False  # whether this hub's web app is served by nginx (web.public_url)
        self.nginx_pending = False  # the site was removed and nginx not yet reloaded without it
        self.served = web_proxy.answers  # whether nginx serves the site, once reloaded (the tests' is recorded)
        self._site: tuple[str, bytes] | None = None  # public URL and certificate the site serves
        self._site_before: bytes | None = None  # the site file as it was (put back when the machine's nginx -t fails)

    # -- what is checked before anything is written ---------------------------------------------------------

    def _settings(self, text: bytes | None, tls_given: bool) -> tuple[bytes, dict]:
        """The settings file's bytes and values, checked as the hub will read them (and against this layout)."""
        if text is None:
            try:
                text = self.at(SETTINGS).read_bytes()
            except FileNotFoundError:
                raise _refuse("This hub has no settings yet: give --settings FILE (docs/governorate.md lists "
                              "every key).", "لا يوجد ملف إعدادات للمركز: حدد الملف بالخيار --settings.") from None
        laid = {d[0] for d in DIRECTORIES if d[0] != TLS or tls_given}  # this install makes them

        def folder_exists(path: str) -> bool:
            return os.path.normpath(path) in laid or self.at(path).is_dir()

        try:
            values = settings_mod.loads(text.decode("utf-8"), SETTINGS, folder_exists)
        except UnicodeDecodeError:
            raise _refuse("The settings file is not UTF-8 text.", "ملف الإعدادات ليس نصًا بترميز UTF-8.") from None
        except settings_mod.HubConfigError as exc:
            if exc.key == "tls_dir" and not tls_given and TLS in exc.problem:
                raise _refuse(f"The hub's identity is not installed yet: give --tls with the CA folder's hub/ (it "
                              f"goes to {TLS}, the settings' tls_dir).",
                              "هوية المركز غير مثبتة بعد: حدد مجلد hub/ من مجلد سلطة الشهادات بالخيار --tls.") from None
            raise
        db = values.get("db_path", "")
        if db.startswith(("postgresql://", "postgres://")):
            # The units set no $GOVERNORATE_SECRET_KEY: the file is where the web app finds its key.
            if not values.get("secret_key"):
                raise _refuse("With a PostgreSQL database the web app needs web.secret_key in the settings "
                              "(openssl rand -hex 32): it has no folder of its own to keep one in.",
                              "مع قاعدة PostgreSQL يلزم المفتاح web.secret_key في ملف الإعدادات.")
            name = local_database(db)
            if name is not None and (not DATABASE_NAME.fullmatch(name) or name in RESERVED_DATABASES):
                raise _refuse(f"The database name {name!r} is not one the install makes: use lower-case letters, "
                              "digits and _, and not postgres, template0 or template1 (e.g. postgresql:///hub).",
                              "اسم قاعدة البيانات غير مقبول: استخدم حروفًا لاتينية صغيرة وأرقامًا و _ "
                              "وليس postgres أو template0 أو template1.")
        elif "://" in db:  # never shown: it may carry a password
            raise _refuse("The settings' db is a URL the hub does not open: give postgresql://… or the path of a "
                          f"SQLite file inside {DATA}.",
                          "قيمة db في ملف الإعدادات ليست قاعدة يفتحها المركز: "
                          "استخدم postgresql://… أو مسار ملف SQLite.")
        elif not db or not os.path.abspath(db).startswith(DATA + "/"):
            raise _refuse(f"The SQLite database ({db or 'not set'}) must be inside {DATA}: the hub's services may "
                          "write nowhere else. Set db in the settings file.",
                          f"يجب أن تكون قاعدة SQLite داخل {DATA}: لا تكتب خدمات المركز في أي مكان آخر.")
        if values.get("broker", "").startswith("mqtts://") and values.get("tls_dir") != TLS:
            raise _refuse(f"The broker is mqtts:// but tls_dir is {values.get('tls_dir') or 'not set'}: the hub's "
                          f"identity is installed in {TLS}. Set tls_dir = \"{TLS}\".",
                          f"الاتصال بالوسيط مشفّر: اضبط tls_dir على {TLS}.")
        return text, values

    def _web_site(self, values: dict, web_tls: Path | None, serving: bool) -> tuple[bytes | None, dict[str, bytes]]:
        """The nginx site for ``web.public_url`` and its certificate and key (given, else the installed ones), checked
        (the pair, the name, the port, ``nginx -t``); (None, {}) without a public URL. ``serving``: the release
        server runs beside it."""
        public = values.get("public_url")
        given = read_folder(web_tls, web_proxy.TLS_FILES, "the web app's certificate folder")
        if not public:
            if given:
                raise _refuse("--web-tls was given but the settings have no web.public_url: set it to the https:// "
                              "address staff open (docs/governorate.md).",
                              "حددت --web-tls لكن ملف الإعدادات بلا web.public_url: اضبطه على عنوان https:// "
                              "الذي يفتحه الموظفون.")
            return None, {}
        files = given or self._installed(web_proxy.TLS, web_proxy.TLS_FILES)
        if not files:
            raise _refuse(f"web.public_url is {public}: give --web-tls with a folder holding its certificate "
                          "(cert.pem, the full chain) and key (key.pem).",
                          f"العنوان web.public_url هو {public}: حدد بالخيار --web-tls مجلدًا فيه الشهادة cert.pem "
                          "والمفتاح key.pem.")
        check_pair(files["cert.pem"], files["key.pem"], "web app's")
        name, port = web_proxy.public_address(public)
        if not web_proxy.covers(files["cert.pem"], name):
            raise _refuse(f"The web certificate is not for {name} (web.public_url): browsers would refuse it. Give "
                          "one whose subjectAltName names it.",
                          f"شهادة الموقع ليست للاسم {name}: سيرفضها المتصفح. استخدم شهادة تحمل هذا الاسم.")
        taken = {values.get("port", 8090): "the web app's own (web.port)"}
        if serving:
            taken[RELEASES_PORT] = "the release server's (governorate-releases.service)"
        if port in taken:
            raise _refuse(f"web.public_url's port {port} is {taken[port]}: nginx could not listen on it. Leave the "
                          "port out (443).",
                          f"المنفذ {port} في web.public_url مستخدم لخدمة أخرى: احذف المنفذ من العنوان (443).")
        site = web_proxy.site(public, values.get("host", "127.0.0.1"), values.get("port", 8090),
                              ipv6=web_proxy.has_ipv6())
        if self.root is None:
            if shutil.which("nginx") is None:
                raise _refuse("web.public_url needs nginx, which is not installed: install the hub's system packages "
                              "(scripts/install-system-packages hub), then run the install again.",
                              "العنوان web.public_url يحتاج برنامج nginx غير المثبت: ثبّت حزم النظام للمركز ثم أعد "
                              "التثبيت.")
            problem = web_proxy.check(site, files["cert.pem"], files["key.pem"])
            if problem:
                raise _refuse(f"nginx refuses the web app's site: {problem}",
                              "يرفض nginx إعدادات موقع التطبيق؛ التفاصيل بالإنجليزية.")
        return site, files

    def _unproxy(self, previous: dict) -> None:
        """No public URL any more: the site an earlier install wrote goes (nginx reloads); the certificate stays."""
        recorded = any(e["path"] == web_proxy.SITE for e in previous.get("entries", []))
        target = self.at(web_proxy.SITE)
        if recorded and os.path.lexists(target):
            target.unlink()
            self.report.append((web_proxy.SITE, "removed"))
        # Until nginx has been reloaded without it (a run with --no-start, a systemctl that failed), the next run
        # reloads it.
        self.nginx_pending = (web_proxy.SITE, "removed") in self.report or bool(previous.get("nginx_pending"))

    # -- install --------------------------------------------------------------------------------------------

    def _installed(self, folder: str, names: dict[str, tuple[int, str]]) -> dict[str, bytes]:
        """The files ``names`` already installed in ``folder`` (all of them, else none): kept, and recorded again."""
        paths = {n: self.at(f"{folder}/{n}") for n in names}
        if not all(p.is_file() and not p.is_symlink() for p in paths.values()):
            return {}
        return {n: p.read_bytes() for n, p in paths.items()}

    def install(self, *, settings: bytes | None = None, tls: Path | None = None, releases_tls: Path | None = None,
                web_tls: Path | None = None, start: bool = True) -> list[tuple[str, str]]:
        """Check everything, make the release's version, then lay out the files and switch ``current``: a check
        that fails, or a release that does not start, leaves the settings, the identity and the running version as
        they were."""
        identity = read_folder(tls, TLS_FILES, "the hub's identity (the CA folder's hub/)") or \
            self._installed(TLS, TLS_FILES)
        if identity:
            check_pair(identity["hub-cert.pem"], identity["hub-key.pem"], "hub's MQTT")
        served = read_folder(releases_tls, RELEASES_FILES, "the release server's certificate") or \
            self._installed(RELEASES_TLS, RELEASES_FILES)
        if served:
            check_pair(served["cert.pem"], served["key.pem"], "release server's")
            if not identity:
                raise _refuse("The release server checks each van's certificate against the CA in the hub's "
                              "identity: give --tls too.",
                              "خادم الإصدارات يحتاج شهادة سلطة المحافظة من هوية المركز: حدد --tls أيضًا.")
        settings_text, values = self._settings(settings, tls is not None)
        site, web_files = self._web_site(values, web_tls, bool(served))
        units = self._units()
        self.report = []
        entries = [self._user(USER, DATA)]
        for path, mode, owner, group in DIRECTORIES:
            entries.append(self._directory(path, mode, owner, group))
        vid = self._prepare()  # may refuse: nothing but the folders above was touched
        if self.root is None:
            entries.extend(self._database(values.get("db_path", "")))  # may fail: still nothing the hub reads
        entries.append(self._file(SETTINGS, settings_text, 0o640, "root", USER))
        for name, data in identity.items():
            mode, group = TLS_FILES[name]
            entries.append(self._file(f"{TLS}/{name}", data, mode, "root", group))
        if served:
            entries.append(self._directory(RELEASES_TLS, 0o750, "root", USER))
        for name, data in served.items():
            mode, group = RELEASES_FILES[name]
            entries.append(self._file(f"{RELEASES_TLS}/{name}", data, mode, "root", group))
        entries.append(self._switch(vid))
        for name, data in units.items():
            entries.append(self._file(f"{UNIT_DIR}/{name}", data, 0o644, "root", "root"))
        previous = self.installed_manifest() or {}
        self.proxied = site is not None
        if site is not None:
            entries.append(self._directory(web_proxy.TLS, 0o750, "root", "root"))
            for name, data in web_files.items():
                mode, group = web_proxy.TLS_FILES[name]
                entries.append(self._file(f"{web_proxy.TLS}/{name}", data, mode, "root", group))
            target = self.at(web_proxy.SITE)
            self._site_before = target.read_bytes() if target.is_file() and not target.is_symlink() else None
            entries.append(self._file(web_proxy.SITE, site, 0o644, "root", "root"))
            self._site = values["public_url"], web_files["cert.pem"]
        else:
            self._unproxy(previous)
        self.enabled = self.services(values, bool(served))
        state = {"release": self.release.digest, "services": self.enabled, "entries": [asdict(e) for e in entries]}
        self.digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
        # What systemd last started: a run with --no-start, or one whose systemctl failed, leaves it behind, and the
        # next run restarts even if it changes nothing itself.
        self.applied = previous.get("applied")
        self._record = {"format": "mtc-hub-install", "governorate": values.get("gov"),
                        "version": self.release.manifest["version"], **state}
        self._manifest()
        if start and self.root is None:
            self.activate()
        return self.report

    def _manifest(self, report: bool = True) -> None:
        """The install's record, with what systemd was last given (``applied``)."""
        text = json.dumps({**self._record, "applied": self.applied, "nginx_pending": self.nginx_pending}, indent=1,
                          ensure_ascii=False).encode()
        (self._file if report else self._file_unreported)(MANIFEST_PATH, text, 0o644, "root", "root")

    def activate(self) -> None:
        """Run :meth:`commands`, check that nginx serves the site, then record that systemd runs what the manifest
        says. A site the machine's nginx refuses (beside its other sites) is put back as it was before anything
        restarts, so that nginx's next start is not broken by it."""
        for command in self.commands(self.enabled):
            try:
                self.run(command)
            except InstallError:
                if command[0] == "nginx":
                    self._put_back_site()
                raise
        if self._site is not None:
            public, cert = self._site
            problem = self.served(public, cert)
            if problem:
                raise _refuse(f"nginx does not serve {public} ({problem}). The hub's services run; see "
                              "“journalctl -u nginx” and /var/log/nginx/error.log, then run the install again.",
                              f"لا يقدّم nginx الموقع {public}. خدمات المركز تعمل؛ راجع سجل nginx ثم أعد التثبيت.")
        self.applied = self.digest
        self.nginx_pending = False
        self._manifest(report=False)

    def _put_back_site(self) -> None:
        target = self.at(web_proxy.SITE)
        if self._site_before is None:
            target.unlink(missing_ok=True)
        else:
            self._file(web_proxy.SITE, self._site_before, 0o644, "root", "root")

    def _units(self) -> dict[str, bytes]:
        folder = self.release.folder / "systemd"
        files = {p.name: p.read_bytes() for p in sorted(folder.glob("governorate*"))
                 if p.suffix in (".service", ".timer")} if folder.is_dir() else {}
        missing = [u for u in (*ALWAYS, NOTIFY, RELEASES) if u not in files]
        if missing:
            raise _refuse(f"The release has no {', '.join(missing)}: build it again with “provision release build "
                          "--role hub”.", "الإصدار ناقص ملفات systemd: أعد إنشاءه.")
        return files

    def _database(self, url: str) -> list[Entry]:
        """The hub's role and database on this machine's PostgreSQL, when the settings name one there (see
        :func:`local_database`); its tables are the hub's own (``governorate db migrate`` before each service). A
        role that may not log in, or a database another role owns, is refused: the hub could not use them."""
        name = local_database(url)
        if name is None:
            return []
        if not DATABASE_NAME.fullmatch(name) or name in RESERVED_DATABASES:  # (the settings' check, again: SQL)
            raise _refuse(f"The database name {name!r} is not one the install makes.", "اسم قاعدة البيانات غير مقبول.")
        can_login = self.query(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{USER}'").strip()
        if can_login == "f":
            raise _refuse(f"PostgreSQL's role {USER} exists but may not log in: the hub could not connect. "
                          f"ALTER ROLE {USER} LOGIN (as postgres), then run the install again.",
                          f"الدور {USER} في PostgreSQL موجود لكنه لا يستطيع تسجيل الدخول.")
        if not can_login:
            self.query(f"CREATE ROLE {USER} LOGIN")
        self.report.append((f"postgresql role {USER}", "unchanged" if can_login else "created"))
        owner = self.query(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{name}'").strip()
        if owner and owner != USER:
            raise _refuse(f"PostgreSQL's database {name} belongs to {owner}, not to {USER}: the hub could not make its "
                          "tables there. Name another database in the settings, or give this one to "
                          f"{USER} (ALTER DATABASE {name} OWNER TO {USER}).",
                          f"قاعدة البيانات {name} مملوكة للدور {owner} وليس {USER}.")
        if not owner:
            self.query(f"CREATE DATABASE \"{name}\" OWNER {USER} ENCODING 'UTF8' TEMPLATE template0")
        self.report.append((f"postgresql database {name}", "unchanged" if owner else "created"))
        return [Entry(f"postgresql role {USER}", "database", None, USER, USER),
                Entry(f"postgresql database {name}", "database", None, USER, USER)]

    @staticmethod
    def services(values: dict, serving: bool) -> list[str]:
        """The units this hub runs: always the ingest, the web app and the summary's timer; the notifier when the
        settings name a sender; the release server when it has its certificate."""
        wanted = list(ALWAYS)
        if values.get("notifier"):
            wanted.append(NOTIFY)
        if serving:
            wanted.append(RELEASES)
        return wanted

    def commands(self, enabled: list[str]) -> list[list[str]]:
        """systemctl, in order: read the units again when anything changed, stop and disable what this hub no longer
        runs, enable the rest and (re)start it — restart when anything changed (new keys, settings or software
        take effect only in a fresh process), or when systemd has not yet been given what an earlier run laid
        out."""
        changed = self.changed()
        behind = self.applied != self.digest  # (also whenever this run changed something)
        out = []
        if self.proxied:  # the machine's own check (the site beside every other), before anything restarts
            out.append(["nginx", "-t", "-q"])
        if behind:
            out.append(["systemctl", "daemon-reload"])
        dropped = [u for u in (NOTIFY, RELEASES) if u not in enabled]
        if dropped:
            out.append(["systemctl", "disable", "--now", *dropped])
        out.append(["systemctl", "enable", *enabled])
        out.append(["systemctl", "restart" if changed or behind else "start", *enabled])
        if self.proxied:
            out.append(["systemctl", "enable", NGINX])
            out.append(["systemctl", "reload-or-restart" if changed or behind else "start", NGINX])
        elif self.nginx_pending:
            out.append(["systemctl", "try-reload-or-restart", NGINX])
        return out

    # -- the software ---------------------------------------------------------------------------------------

    def _running(self) -> str | None:
        """The version folder ``current`` names (a link by hand may be absolute), if it is one of ours."""
        pointer, versions = self.at(CURRENT), self.at(f"{SOFTWARE}/versions")
        if not pointer.is_symlink():
            return None
        target = Path(os.path.realpath(pointer))
        return target.name if target.parent == Path(os.path.realpath(versions)) else None

    def _prepare(self) -> str:
        """The release's version made ready beside the running one (nothing the hub runs is touched); its id."""
        release = self.release
        vid = release.digest[:16]
        folder = self.at(f"{SOFTWARE}/versions/{vid}")
        if (folder / INSTALLED).is_file():
            return vid
        python = release_mod.python_tag(self.python)
        if python != release.python:
            raise _refuse(f"This release is for Python {release.python}; {self.python} is Python {python}. Build "
                          "the release on a machine with the hub's Python version.",
                          f"هذا الإصدار مخصص لـ Python {release.python} والجهاز عليه Python {python}.",
                          code="provisioning-release-python")
        self._make_version(folder)
        return vid

    def _switch(self, vid: str) -> Entry:
        """``current`` → versions/<vid> by one rename; then only it and the version before it are kept."""
        pointer, versions = self.at(CURRENT), self.at(f"{SOFTWARE}/versions")
        entry = Entry(CURRENT, "version", None, "root", "root", self.release.digest)
        before, existed = self._running(), os.path.lexists(pointer)
        if before == vid and os.readlink(pointer) == f"versions/{vid}":
            self.report.append((CURRENT, "unchanged"))
            return entry
        tmp = pointer.with_name(".current.new")
        tmp.unlink(missing_ok=True)
        os.symlink(f"versions/{vid}", tmp)
        os.replace(tmp, pointer)  # one rename: the units start either the old version or the new one
        fsync_dir(pointer.parent)
        for old in versions.iterdir():
            if old.name not in (vid, before):
                shutil.rmtree(old, ignore_errors=True)
        self.report.append((CURRENT, "updated" if existed else "created"))
        return entry

    def _make_version(self, folder: Path) -> None:
        release = self.release
        if folder.exists():  # what an interrupted install left
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        venv = folder / "venv"

        def step(cmd: list[str], what: str) -> None:
            release_mod.run_tool(cmd, f"{what} (the hub's release)", env=release_mod.pip_env(), error=InstallError)

        try:
            # As a van's version is made (edge.update.install), without a pip of its own: the installer's pip
            # installs into it, and the next release gets a new virtualenv.
            make_venv(self.python, venv, release.requirements, release.wheels, release.project_wheel,
                      seed_pip=False, run=step)
            started, answer = _version(venv)
            if not started or answer.split()[-1:] != [release.manifest["version"]]:  # "governorate, version 0.1.0"
                raise _refuse(f"Version {release.manifest['version']} does not start on this hub (governorate "
                              f"--version: {answer[:300]!r}); the hub keeps what it ran.",
                              f"الإصدار {release.manifest['version']} لا يعمل على هذا الخادم؛ يبقى ما كان يعمل.",
                              code="update-unhealthy")
        except InstallError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        record = {"version": release.manifest["version"], "identity": release.digest,
                  "installed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        (folder / INSTALLED).write_text(json.dumps(record, indent=1) + "\n")


def _version(venv: Path) -> tuple[bool, str]:
    """Whether the version's ``governorate --version`` answered, and what (its last lines when it failed)."""
    try:
        done = subprocess.run([str(venv / "bin" / "governorate"), "--version"], capture_output=True, text=True,
                              timeout=60, env=release_mod.pip_env(), cwd="/")
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if done.returncode != 0:
        return False, f"exit status {done.returncode}: " + " | ".join(
            (done.stderr or done.stdout).strip().splitlines()[-3:])
    return True, done.stdout.strip()
