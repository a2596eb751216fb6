"""A signed release cut into chunks for the downlink, and put back together on the van, resumably.

The ``update-chunk`` downlink (edge/sync/schema.py, schema 4), per file of the release folder (``tuf/`` metadata
included)::

    {"bundle": ID, "seq": s, "total": chunks in the bundle, "files": files in the bundle, "path": "wheels/x.whl",
     "index": i, "count": n, "size": bytes, "sha256": whole file, "data": bytes, "chunk_sha256": this chunk's}

``bundle`` names one offer (the hub's choice; 1–64 letters or digits); ``seq`` numbers every chunk of the bundle
from 0, file by file in path order, so the van can say in a few ranges what it holds (:meth:`Receiver.progress`)
and the hub sends only what is missing. Nothing here is trusted for what it *is*: the assembled folder goes to
:func:`edge.update.verify.verify`, which trusts only signed metadata. What is checked here is what keeps the van
safe and the transfer resumable: the wire schema (types, ranges, a plain path inside the bundle, each chunk
against its own hash), chunks of one file and of one bundle agreeing with each other, a whole file against its
hash, the bundle's size within limits and the disk never filled by an update (the transactions need it more). A
chunk that fails is refused with its reason and nothing of it is stored; the chunks already here stay (they
survive a restart: each is a file), so a cut link resumes from what is held.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from edge.sync.chunks import ReleaseCut
from edge.sync.schema import (
    CHUNK_SIZE,
    UPDATE_MAX_FILE_BYTES,
    UPDATE_MAX_FILES,
    UPDATE_MAX_RANGES,
    ProtocolError,
    is_bundle_name,
    update_path,
    validate_down_body,
)
from edge.update.errors import UpdateError
from edge.update.state import fsync_dir

MAX_FILE_BYTES = UPDATE_MAX_FILE_BYTES
MAX_FILES = UPDATE_MAX_FILES
MAX_BUNDLE_BYTES = 1024 * 1024 * 1024  # a van release is ≈ 115 MB today
# Free space an update never takes: the outbox, the documents and the database need it more.
DISK_RESERVE_BYTES = 512 * 1024 * 1024


def cut(folder: Path, bundle: str, chunk_size: int = CHUNK_SIZE) -> Iterator[dict]:
    """The chunk bodies of every file of the release in ``folder`` (the hub's side), file by file, in order."""
    return ReleaseCut(folder, bundle, chunk_size).bodies()


def _bad(reason: str) -> UpdateError:
    return UpdateError("جزء مرفوض من ملفات التحديث؛ لم يُحفظ منه شيء.", f"An update chunk was refused: {reason}.",
                       detail=reason, code="update-chunk")


def check_path(rel: object) -> str:
    try:
        update_path(rel, "path")
    except ProtocolError as exc:
        raise _bad(exc.detail) from None
    return rel


def check_body(body: object, chunk_size: int = CHUNK_SIZE) -> dict:
    """``body`` as a chunk: the wire schema (edge/sync/schema.py) and its share of the file for ``chunk_size``;
    else UpdateError("update-chunk")."""
    try:
        validate_down_body("update-chunk", body, "V001")  # the van is not part of a chunk
    except ProtocolError as exc:
        raise _bad(exc.detail) from None
    size, count, index = body["size"], body["count"], body["index"]
    if count != max(1, -(-size // chunk_size)):
        raise _bad(f"index {index} of {count} for {size} bytes")
    last = index == count - 1
    if len(body["data"]) != (size - chunk_size * index if last else chunk_size):
        raise _bad(f"chunk {index} of {body['path']} has {len(body['data'])} bytes, not its share of {size}")
    return body


class Receiver:
    """The van's side: chunks of one bundle, in any order, repeats harmless, across restarts.

    ``staging/<bundle>/chunks/<file key>/<index>`` holds each chunk (written beside, renamed); ``head`` of a
    file (its size, count, hash) is what its first chunk said and every later one must agree. When every
    chunk of every announced file is here, :meth:`assemble` writes ``staging/<bundle>/files/`` — the
    folder :class:`edge.update.fetch.FolderFetcher` serves to the verifier."""

    def __init__(self, staging: Path, bundle: str, chunk_size: int = CHUNK_SIZE, *,
                 disk_reserve: int = DISK_RESERVE_BYTES, max_bytes: int = MAX_BUNDLE_BYTES):
        if not is_bundle_name(bundle):
            raise _bad("bundle is not 1–64 letters or digits")
        self.root = Path(staging) / bundle
        self.bundle = bundle
        self.chunk_size = chunk_size
        self.disk_reserve = disk_reserve
        self.max_bytes = max_bytes
        (self.root / "chunks").mkdir(parents=True, exist_ok=True)

    def _dir(self, rel: str) -> Path:
        return self.root / "chunks" / hashlib.sha256(rel.encode()).hexdigest()[:32]

    def _head(self, d: Path) -> tuple | None:
        """(path, size, count, sha256, files, first seq, total) as the file's first chunk said."""
        try:
            rel, size, count, digest, files, first, total = (d / "head").read_text().split("\n")[:7]
            return rel, int(size), int(count), digest, int(files), int(first), int(total)
        except (OSError, ValueError):
            return None

    def add(self, body: object) -> bool:
        """Keep one chunk; False when it was here already. UpdateError (nothing stored) when refused: code
        "update-chunk" for a chunk at fault, "update-disk" when keeping it would leave too little free space."""
        return self.keep(check_body(body, self.chunk_size))

    def keep(self, b: dict) -> bool:
        """:meth:`add` for a body :func:`check_body` has passed already."""
        if b["bundle"] != self.bundle:
            raise _bad(f"a chunk of bundle {b['bundle']} given to {self.bundle}")
        d = self._dir(b["path"])
        first = b["seq"] - b["index"]
        head = (b["path"], b["size"], b["count"], b["sha256"], b["files"], first, b["total"])
        known = self._head(d)
        if known is None:
            announced = self._announced()
            if announced and {(h[4], h[6]) for h in announced} != {(b["files"], b["total"])}:
                raise _bad(f"chunk {b['index']} of {b['path']} disagrees on the bundle's files or chunks")
            if len(announced) >= b["files"]:
                raise _bad(f"more files than the {b['files']} the bundle announced")
            if first + b["count"] > b["total"] or any(first < h[5] + h[2] and h[5] < first + b["count"]
                                                      for h in announced):
                raise _bad(f"chunks {first}–{first + b['count'] - 1} of {b['path']} overlap another file's or "
                           f"pass the bundle's {b['total']}")
            if sum(h[1] for h in announced) + b["size"] > self.max_bytes:
                raise _bad(f"the bundle would pass {self.max_bytes} bytes")
        elif known != head:
            raise _bad(f"chunk {b['index']} of {b['path']} disagrees with the chunks before it")
        chunk = d / str(b["index"])
        data = bytes(b["data"])
        if chunk.exists():
            if chunk.read_bytes() != data:
                raise _bad(f"chunk {b['index']} of {b['path']} came twice with different data")
            return False
        free = shutil.disk_usage(self.root).free
        if free - len(data) - 4096 < self.disk_reserve:
            raise UpdateError("لا توجد مساحة كافية على القرص لاستلام التحديث؛ العمل مستمر والتحديث مؤجل.",
                              f"Not enough free disk to receive the update ({free // 2**20} MiB free, "
                              f"{self.disk_reserve // 2**20} MiB kept for the van's work); it waits.",
                              detail=f"not enough free disk: {free // 2**20} MiB free, "
                                     f"{self.disk_reserve // 2**20} MiB kept for the van's work", code="update-disk")
        if known is None:
            d.mkdir(exist_ok=True)
            _write(d / "head", "\n".join(map(str, head)).encode())
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

    def held(self) -> list[int]:
        """The seqs of every chunk held, ascending."""
        out = []
        for d in (self.root / "chunks").iterdir():
            head = self._head(d) if d.is_dir() else None
            if head is not None:
                out.extend(head[5] + int(c.name) for c in d.iterdir()
                           if c.name.isascii() and c.name.isdigit() and int(c.name) < head[2])
        return sorted(out)

    def total(self) -> int | None:
        """The bundle's number of chunks, once one has arrived."""
        announced = self._announced()
        return announced[0][6] if announced else None

    def progress(self, max_ranges: int = UPDATE_MAX_RANGES) -> dict:
        """{"total", "held", "have": [[first, last], …] (the first ``max_ranges``), "complete"}: what the van
        tells the hub (``tel.update``) so it sends only what is missing."""
        held = self.held()
        ranges: list[list[int]] = []
        for s in held:
            if ranges and ranges[-1][1] == s - 1:
                ranges[-1][1] = s
            else:
                ranges.append([s, s])
        total = self.total() or 0
        return {"total": total, "held": len(held), "have": ranges[:max_ranges],
                "complete": bool(total) and len(held) == total and not self.unannounced()}

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
        # The files are a second copy of the chunks: the van's own work keeps its reserve through this one too.
        need = sum(h[1] for h in self._announced())
        free = shutil.disk_usage(self.root).free
        if free - need < self.disk_reserve:
            raise UpdateError("لا توجد مساحة كافية على القرص لتجميع التحديث؛ العمل مستمر والتحديث مؤجل.",
                              f"Not enough free disk to put the update together ({free // 2**20} MiB free, "
                              f"{need // 2**20} MiB needed, {self.disk_reserve // 2**20} MiB kept for the van's "
                              "work); it waits.", detail=f"not enough free disk to put the update together: "
                              f"{free // 2**20} MiB free, {need // 2**20} MiB needed, "
                              f"{self.disk_reserve // 2**20} MiB kept for the van's work", code="update-disk")
        for d in sorted((self.root / "chunks").iterdir()):
            head = self._head(d) if d.is_dir() else None
            if head is None:
                continue
            rel, size, count, digest = head[:4]
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
