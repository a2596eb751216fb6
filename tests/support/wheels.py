"""Tiny real wheels for install tests (the van's and the hub's releases): offline, in seconds."""

from __future__ import annotations

from pathlib import Path


def tiny_wheel(folder: Path, dist: str, version: str, script: str | None = None, exit_code: int = 0) -> Path:
    """A real wheel of a tiny package (with the console script ``script`` if asked — ``edge``, ``governorate`` —
    printing the version and exiting with ``exit_code``): pip installs it offline in seconds."""
    import base64
    import hashlib
    import zipfile

    module = dist.replace("-", "_")
    name = f"{module}-{version}"
    files = {f"{module}/__init__.py": f"VERSION = {version!r}\ndef main():\n    print(VERSION)\n"
                                      f"    raise SystemExit({exit_code})\n",
             f"{name}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
             f"{name}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                        "Tag: py3-none-any\n"}
    if script:
        files[f"{name}.dist-info/entry_points.txt"] = f"[console_scripts]\n{script} = {module}:main\n"
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{name}.dist-info/RECORD,,")
    wheel = folder / f"{name}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr(f"{name}.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel
