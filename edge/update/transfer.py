"""A signed release cut into chunks for the downlink, and put back together on the van, resumably.

The shape of ``doc.chunk`` (edge/sync/chunks.py), per file of the release folder (``tuf/`` metadata included)::

    {"bundle": ID, "files": how many files the bundle has, "path": "wheels/x.whl", "index": i, "count": n,
     "size": bytes, "sha256": whole file, "data": bytes, "chunk_sha256": this chunk's}

``bundle`` names one offer (the hub's choice; 26 letters or digits). Nothing here is trusted for what it
*is*: the assembled folder goes to :func:`edge.update.verify.verify`, which trusts only signed metadata. What
is checked here is what keeps the van safe and the transfer resumable: types and ranges, paths that stay inside
the bundle, each chunk against its own hash, chunks of one file agreeing with each other, a whole file
against its hash, sizes within limits. A chunk that fails is refused with its reason and nothing of it is
stored; the chunks already here stay (they survive a restart: each is a file), so a cut link resumes from
:meth:`Receiver.missing`.

Not wired to MQTT yet: the downlink kind (``update.chunk``) belongs in edge/sync/schema.py (docs/updates.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from edge.update.errors import UpdateError
from edge.update.state import fsync_dir

CHUNK_SIZE = 64 * 1024  # as a document's chunk (edge/sync/schema.py): one chunk ≈ 66 KB on the wire
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_FILES = 2000
_BUNDLE = re.compile(r"[0-9A-Za-z]{1,64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PART = re.compile(r"[0-9A-Za-z._+-]{1,200}")


def cut(folder: Path, bundle: str, chunk_size: int = CHUNK_SIZE) -> Iterator[dict]:
    """The chunk bodies of every file of the release in ``folder`` (the hub's side), file by file, in order."""
    folder = Path(folder)
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in paths:
        data = path.read_bytes()
        rel = path.relative_to(folder).as_posix()
        digest = hashlib.sha256(data).hexdigest()
        count = max(1, -(-len(data) // chunk_size))
        for index in range(count):
            piece = data[index * chunk_size:(index + 1) * chunk_size]
            yield {"bundle": bundle, "files": len(paths), "path": rel, "index": index, "count": count,
                   "size": len(data), "sha256": digest, "data": piece,
                   "chunk_sha256": hashlib.sha256(piece).hexdigest()}


def _bad(reason: str) -> UpdateError:
    return UpdateError("جزء مرفوض من ملفات التحديث؛ لم يُحفظ منه شيء.", f"An update chunk was refused: {reason}.",
                       detail=reason, code="update-chunk")


def check_path(rel: object) -> str:
    if not isinstance(rel, str):
        raise _bad("path is not text")
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or rel != p.as_posix() or not all(_PART.fullmatch(x) for x in p.parts) \
            or any(x in (".", "..") or x.startswith(".") for x in p.parts) or len(p.parts) > 6:
        raise _bad(f"path {rel!r} is not a plain relative path inside the bundle")
    return rel


def check_body(body: object, chunk_size: int = CHUNK_SIZE) -> dict:
    """``body`` as a chunk, every field type- and range-checked; else UpdateError("update-chunk")."""
    if not isinstance(body, dict):
        raise _bad("not an object")
    want = {"bundle", "files", "path", "index", "count", "size", "sha256", "data", "chunk_sha256"}
    if set(body) != want:
        raise _bad(f"fields {sorted(set(body) ^ want)} missing or unknown")
    if not isinstance(body["bundle"], str) or not _BUNDLE.fullmatch(body["bundle"]):
        raise _bad("bundle is not 1–64 letters or digits")
    check_path(body["path"])
    for key in ("files", "index", "count", "size"):
        if type(body[key]) is not int or body[key] < 0:
            raise _bad(f"{key} is not a whole number ≥ 0")
    size, count, index = body["size"], body["count"], body["index"]
    if not 1 <= body["files"] <= MAX_FILES:
        raise _bad(f"files {body['files']} is not 1–{MAX_FILES}")
    if size > MAX_FILE_BYTES:
        raise _bad(f"size {size} is over {MAX_FILE_BYTES}")
    if count != max(1, -(-size // chunk_size)) or index >= count:
        raise _bad(f"index {index} of {count} for {size} bytes")
    if not isinstance(body["data"], bytes | bytearray):
        raise _bad("data is not bytes")
    last = index == count - 1
    if len(body["data"]) != (size - chunk_size * index if last else chunk_size):
        raise _bad(f"chunk {index} of {body['path']} has {len(body['data'])} bytes, not its share of {size}")
    for key in ("sha256", "chunk_sha256"):
        if not isinstance(body[key], str) or not _HEX64.fullmatch(body[key]):
            raise _bad(f"{key} is not a SHA-256 in hex")
    if hashlib.sha256(body["data"]).hexdigest() != body["chunk_sha256"]:
        raise _bad(f"chunk {index} of {body['path']} does not match its own SHA-256")
    return body


class Receiver:
    """The van's side: chunks of one bundle, in any order, repeats harmless, across restarts.

    ``staging/<bundle>/chunks/<file key>/<index>`` holds each chunk (written beside, renamed); ``head`` of a
    file (its size, count, hash) is what its first chunk said and every later one must agree. When every
    chunk of every announced file is here, :meth:`assemble` writes ``staging/<bundle>/files/`` — the
    folder :class:`edge.update.fetch.FolderFetcher` serves to the verifier."""

    def __init__(self, staging: Path, bundle: str, chunk_size: int = CHUNK_SIZE):
        if not _BUNDLE.fullmatch(bundle):
            raise _bad("bundle is not 1–64 letters or digits")
        self.root = Path(staging) / bundle
        self.bundle = bundle
        self.chunk_size = chunk_size
        (self.root / "chunks").mkdir(parents=True, exist_ok=True)

    def _dir(self, rel: str) -> Path:
        return self.root / "chunks" / hashlib.sha256(rel.encode()).hexdigest()[:32]

    def _head(self, d: Path) -> tuple | None:
        try:
            rel, size, count, digest, files = (d / "head").read_text().split("\n")[:5]
            return rel, int(size), int(count), digest, int(files)
        except (OSError, ValueError):
            return None

    def add(self, body: object) -> bool:
        """Keep one chunk; False when it was here already. UpdateError (nothing stored) when refused."""
        b = check_body(body, self.chunk_size)
        if b["bundle"] != self.bundle:
            raise _bad(f"a chunk of bundle {b['bundle']} given to {self.bundle}")
        d = self._dir(b["path"])
        head = (b["path"], b["size"], b["count"], b["sha256"], b["files"])
        known = self._head(d)
        if known is None:
            announced = self._announced()
            if announced and {h[4] for h in announced} != {b["files"]}:
                raise _bad(f"chunk {b['index']} of {b['path']} disagrees on the bundle's number of files")
            if len(announced) >= b["files"]:
                raise _bad(f"more files than the {b['files']} the bundle announced")
            d.mkdir(exist_ok=True)
            _write(d / "head", "\n".join(map(str, head)).encode())
        elif known != head:
            raise _bad(f"chunk {b['index']} of {b['path']} disagrees with the chunks before it")
        chunk = d / str(b["index"])
        data = bytes(b["data"])
        if chunk.exists():
            if chunk.read_bytes() != data:
                raise _bad(f"chunk {b['index']} of {b['path']} came twice with different data")
            return False
        _write(chunk, data)
        return True

    def _announced(self) -> list[tuple]:
        return [h for d in sorted((self.root / "chunks").iterdir()) if d.is_dir() and (h := self._head(d))]

    def unannounced(self) -> int:
        """How many files of the bundle have sent no chunk yet (the hub sends those again whole)."""
        announced = self._announced()
        return announced[0][4] - len(announced) if announced else 1

    def missing(self) -> dict[str, list[int]]:
        """{path: indexes still missing} of every file announced so far (what to ask the hub for again)."""
        out = {}
        for d in sorted((self.root / "chunks").iterdir()):
            head = self._head(d) if d.is_dir() else None
            if head is None:
                continue
            gone = [i for i in range(head[2]) if not (d / str(i)).exists()]
            if gone:
                out[head[0]] = gone
        return out

    def assemble(self) -> Path:
        """Every announced file, whole and matching its SHA-256, in ``files/`` (renamed into place when all
        are); UpdateError when one is incomplete or does not match (its chunks are dropped to be sent again)."""
        missing, unannounced = self.missing(), self.unannounced()
        if missing or unannounced:
            raise UpdateError("لم تصل كل أجزاء التحديث بعد.",
                              f"Chunks still missing for {len(missing) + unannounced} file(s).",
                              detail=str({k: v[:5] for k, v in missing.items()}), code="update-incomplete")
        out = self.root / "files"
        if out.is_dir():
            return out
        partial = self.root / ".files.partial"
        if partial.exists():
            shutil.rmtree(partial)
        for d in sorted((self.root / "chunks").iterdir()):
            head = self._head(d) if d.is_dir() else None
            if head is None:
                continue
            rel, size, count, digest, _files = head
            target = partial / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            with open(target, "wb") as f:
                for i in range(count):
                    piece = (d / str(i)).read_bytes()
                    h.update(piece)
                    f.write(piece)
                f.flush()
                os.fsync(f.fileno())
            if h.hexdigest() != digest or target.stat().st_size != size:
                shutil.rmtree(d)
                shutil.rmtree(partial)
                raise _bad(f"{rel} does not match its SHA-256 once put together: asked again")
        partial.mkdir(exist_ok=True)
        os.replace(partial, out)
        fsync_dir(self.root)
        return out


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.new")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
