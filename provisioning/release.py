"""Software releases for the vans and the hub: a role's locked dependencies as a wheelhouse, the project's wheel, a
manifest.

A release is a folder a van (or the governorate hub: ``role="hub"``) installs from with no network
(docs/dependencies.md)::

    release.json          what the release holds: every file's SHA-256, the lock's SHA-256, the Python it is for
    requirements.txt      the role's packages exactly as uv.lock pins them, with their hashes
    wheels/               one wheel per package of requirements.txt, and the project's own wheel
    systemd/              the role's unit files (the van's edge*, the hub's governorate*)
    tuf/                  when signed (vans only): its TUF metadata (provisioning/tuf_repo.py, docs/updates.md)
    system/               scripts/install-system-packages and the role's list of Debian packages

Its identity is a SHA-256 over what it installs (every file's SHA-256, the lock's, the Python version):
the project's wheel is built reproducibly (SOURCE_DATE_EPOCH), so building again from the same tree and
lock gives the same identity, and any change to either gives a new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from provisioning.checks import ProvisioningError

FORMAT = "mtc-van-release"
# Each role's release: its manifest's format, and where the project keeps the role's unit files (folder, prefix).
FORMATS = {"van": FORMAT, "hub": "mtc-hub-release"}
UNITS = {"van": ("systemd", "edge"), "hub": ("governorate/systemd", "governorate")}
MANIFEST = "release.json"
REQUIREMENTS = "requirements.txt"
WHEELS = "wheels"
TUF_DIR = "tuf"  # the release's TUF metadata, when signed (provisioning/tuf_repo.py)
ROLE = "van"
PROJECT = "mtc-edge"


class ReleaseError(ProvisioningError):
    pass


@dataclass(frozen=True)
class Release:
    """A release folder whose files all match its manifest (see :func:`read`)."""

    folder: Path
    manifest: dict
    digest: str  # the release's identity (see identity())

    @property
    def requirements(self) -> Path:
        return self.folder / REQUIREMENTS

    @property
    def wheels(self) -> Path:
        return self.folder / WHEELS

    @property
    def project_wheel(self) -> Path:
        return self.folder / self.manifest["project_wheel"]

    @property
    def python(self) -> str:
        return self.manifest["python"]

    @property
    def role(self) -> str:
        return self.manifest.get("role", ROLE)

    def pins(self) -> dict[str, str]:
        return requirement_pins(self.requirements.read_text(), self.python)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def normalise(name: str) -> str:
    """A distribution's name as PEP 503 compares them (``Flask_Babel`` == ``flask-babel``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def requirement_pins(text: str, python: str | None = None) -> dict[str, str]:
    """{name: version} of a hashed requirements file as ``uv export`` writes it, for the Python ``python``
    (``3.11``; default: the one running): a package locked twice under markers counts once, as it applies."""
    from packaging.markers import Marker  # the van's and the provisioning machine's installs carry it

    env = {"python_version": python, "python_full_version": f"{python}.0"} if python else None
    pins = {}
    for line in text.splitlines():
        m = _PIN.match(line.strip())
        if m and (not m.group(3) or Marker(m.group(3)).evaluate(env)):
            pins[normalise(m.group(1))] = m.group(2)
    return pins


def python_tag(python: str | None = None) -> str:
    """``3.11`` for the interpreter given (default: the one running)."""
    if python is None:
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


# --------------------------------------------------------------------------------------------------
# Building (on the governorate's provisioning machine)
# --------------------------------------------------------------------------------------------------


def find_uv() -> str:
    """The uv binary: $UV, the project's .tools/uv (scripts/bootstrap-uv), or uv on PATH."""
    candidates = [os.environ.get("UV"), str(Path(__file__).resolve().parent.parent / ".tools/uv/bin/uv"),
                  shutil.which("uv")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    raise ReleaseError(
        "uv is not installed here: run scripts/bootstrap-uv in the source tree (or set UV to its path).",
        "الأداة uv غير مثبتة: شغّل scripts/bootstrap-uv في مجلد المصدر أو حدد مسارها في المتغير UV.",
        code="provisioning-uv",
    )


def run_tool(cmd: list[str], what: str, *, cwd: Path | None = None, env: dict | None = None,
             error: type[ProvisioningError] = ReleaseError, code: str = "provisioning-release") -> str:
    """Run ``cmd``; its output, or ``error`` naming ``what`` failed with the last lines it printed."""
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise error(f"{cmd[0]} is not installed on this machine.", f"الأمر {cmd[0]} غير مثبت.",
                    code="provisioning-command") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:]) or f"exit status {done.returncode}"
        raise error(f"{what} failed:\n{tail}", f"فشلت خطوة: {what}.", detail=done.stderr, code=code)
    return done.stdout


def pip_env() -> dict[str, str]:
    """This environment without any pip settings: only the command line decides where pip looks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def build(out: Path, *, project: Path, platforms: tuple[str, ...] = (), uv: str | None = None,
          now: datetime | None = None, role: str = ROLE) -> Release:
    """Make ``role``'s release (the van's, or the hub's) in ``out`` from ``project``'s uv.lock (network needed once,
    for the wheels).

    ``out`` may hold an earlier release: wheels already there are not fetched again (pip checks
    each against the lock's hash either way).
    """
    if role not in FORMATS:
        raise ReleaseError(f"No such role: {role} (van or hub).", f"لا يوجد دور باسم {role}.",
                           code="provisioning-release")
    project = Path(project).resolve()
    out = Path(out)
    lock = project / "uv.lock"
    if not lock.is_file():
        raise ReleaseError(f"{project} has no uv.lock: a release is made from a source tree with its lock.",
                           f"لا يوجد ملف uv.lock في {project}.", code="provisioning-release")
    uv = uv or find_uv()
    out.mkdir(parents=True, exist_ok=True)
    wheels = out / WHEELS
    wheels.mkdir(exist_ok=True)
    # The role's packages as the lock pins them; --locked: refuse a lock that is out of date.
    requirements = run_tool([uv, "export", "--locked", "--extra", role, "--no-emit-project", "--no-header",
                          "--format", "requirements.txt"], "uv export (is uv.lock up to date? make lock)",
                         cwd=project, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
    (out / REQUIREMENTS).write_text(requirements)
    pins = requirement_pins(requirements)
    # The project's own wheel, built from the tree (package data included).
    with tempfile.TemporaryDirectory() as tmp:
        # A fixed timestamp in the zip: the same tree gives the same wheel, byte for byte.
        run_tool([uv, "build", "--wheel", "--out-dir", tmp, str(project)], "building the project's wheel",
              cwd=project, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "SOURCE_DATE_EPOCH": "315532800"})
        built = sorted(Path(tmp).glob("*.whl"))
        for old in wheels.glob("mtc_edge-*.whl"):
            old.unlink()
        project_wheel = wheels / built[0].name
        shutil.copyfile(built[0], project_wheel)
    # Every wheel, checked against the lock's hashes by pip itself (--require-hashes).
    platform_args = [a for p in platforms for a in ("--platform", p)]
    if platforms:
        platform_args += ["--implementation", "cp", "--python-version", python_tag()]
    run_tool([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
           "--only-binary=:all:", "--dest", str(wheels), "-r", str(out / REQUIREMENTS), *platform_args],
          f"downloading the {role}'s wheels", env=pip_env())
    # Only what this release needs (an earlier release in the same folder may have left others).
    wanted = {normalise(n) for n in pins}
    for whl in wheels.glob("*.whl"):
        if whl != project_wheel and normalise(whl.name.split("-")[0]) not in wanted:
            whl.unlink()
    units, prefix = UNITS[role]
    _copy_tree_files(project / units, out / "systemd", lambda p: p.name.startswith(prefix))
    (out / "system").mkdir(exist_ok=True)
    shutil.copy2(project / "scripts" / "install-system-packages", out / "system" / "install-system-packages")
    shutil.copy2(project / "scripts" / "system-packages" / f"{role}.txt", out / "system" / f"{role}.txt")
    return seal(out, project_wheel=project_wheel, lock_sha256=_sha256(lock), platforms=platforms, now=now, role=role)


def seal(out: Path, *, project_wheel: Path, lock_sha256: str, platforms: tuple[str, ...] = (),
         now: datetime | None = None, role: str = ROLE) -> Release:
    """Write ``out``'s manifest over the files it holds (requirements, wheels, units) and read it back."""
    # tuf/ is the release's signature (provisioning/tuf_repo.py), written after the manifest: not listed.
    stale = out / TUF_DIR
    if stale.is_dir():
        shutil.rmtree(stale)
    files = {str(p.relative_to(out)): _sha256(p) for p in sorted(out.rglob("*"))
             if p.is_file() and p.name != MANIFEST}
    manifest = {
        "format": FORMATS[role],
        "role": role,
        "version": _wheel_version(project_wheel.name),
        "created_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": python_tag(),
        "platforms": list(platforms) or ["this machine's"],
        "lock_sha256": lock_sha256,
        "requirements": REQUIREMENTS,
        "project_wheel": str(project_wheel.relative_to(out)),
        "packages": dict(sorted(requirement_pins((out / REQUIREMENTS).read_text(), python_tag()).items())),
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return read(out, role)


def _wheel_version(name: str) -> str:
    return name.split("-")[1]


def _copy_tree_files(src: Path, dst: Path, keep) -> None:
    dst.mkdir(exist_ok=True)
    for p in sorted(src.iterdir()):
        if p.is_file() and keep(p):
            shutil.copy2(p, dst / p.name)


# --------------------------------------------------------------------------------------------------
# Reading (on the van, before anything is installed)
# --------------------------------------------------------------------------------------------------


def read(folder: Path, role: str = ROLE) -> Release:
    """``role``'s release in ``folder``, after checking every file against its manifest; else ReleaseError."""
    folder = Path(folder)
    try:
        raw = (folder / MANIFEST).read_bytes()
        manifest = json.loads(raw)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("no release manifest")
        if manifest.get("format") != FORMATS[role]:
            other = next((r for r, f in FORMATS.items() if f == manifest.get("format")), None)
            raise ValueError(f"it is the {other}'s release" if other else "not a release")
    except (OSError, ValueError) as exc:
        what = "van" if role == "van" else "governorate hub"
        option = "" if role == "van" else " --role hub"
        raise ReleaseError(
            f"{folder} is not a {what} software release ({exc}). Give the folder made by "
            f"“provision release build{option}”.",
            f"المجلد {folder} ليس إصدارًا لبرنامج {'العربة' if role == 'van' else 'مركز المحافظة'}. "
            f"استخدم المجلد الناتج عن «provision release build{option}».",
            code="provisioning-release",
        ) from None
    problems = []
    for rel, digest in manifest["files"].items():
        path = folder / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"{rel}: path outside the release")
        elif not path.is_file():
            problems.append(f"{rel}: missing")
        elif _sha256(path) != digest:
            problems.append(f"{rel}: damaged (SHA-256 differs)")
    for required in (manifest.get("requirements"), manifest.get("project_wheel")):
        if required not in manifest["files"]:
            problems.append(f"{required}: not listed in the manifest")
    if problems:
        raise ReleaseError(
            f"The release in {folder} is damaged; nothing was installed: " + "; ".join(problems[:5])
            + ("" if len(problems) <= 5 else f" (+{len(problems) - 5} more)") + ". Copy it again.",
            f"الإصدار في {folder} تالف ولم يُثبَّت شيء. انسخه مرة أخرى.",
            detail="\n".join(problems), code="provisioning-release-damaged",
        )
    return Release(folder, manifest, identity(manifest))


def identity(manifest: dict) -> str:
    """What makes two releases the same to a van: the files it installs, the lock, the Python."""
    what = {k: manifest.get(k) for k in ("files", "lock_sha256", "python", "platforms", "project_wheel")}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()
