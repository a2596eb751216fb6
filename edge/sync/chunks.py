"""Scanned documents cut into chunks for the ``doc`` stream, and put back together, SHA-256 checked, at the hub.

Each chunk names its document, its place (``index`` of ``count``), the whole document's size and
SHA-256, and carries its own data with that data's SHA-256. The hub keeps what it has per (van,
doc_id) and says how far it got (``DocAck.highest_contiguous``), so after a cut the van resumes from the
next chunk instead of starting over.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ulid import ULID

from edge.sync.protocol import (
    CHUNK_SIZE,
    MAX_DOCUMENT_BYTES,
    SCHEMA_VERSION,
    DocAck,
    Envelope,
    ProtocolError,
    validate_body,
)
from edge.sync.schema import request_number, ulid


def chunk_document(doc_id: str, request_number: str, data: bytes, chunk_size: int = CHUNK_SIZE) -> list[dict]:
    """The ``doc.chunk`` bodies of one document, in order."""
    return list(_bodies(doc_id, request_number, data, chunk_size, start=0))


def chunk_msg_id(doc_msg_id: str, index: int) -> str:
    """The message id of chunk ``index`` of the document queued as ``doc_msg_id``.

    Derived, not random: a chunk sent again after a cut carries the same id, so the hub sees a repeat.
    It keeps the document's timestamp part, so the ids still sort by when the document was queued.
    """
    ulid(doc_msg_id, "doc_msg_id")
    tail = hashlib.sha256(f"{doc_msg_id}/{index}".encode("ascii")).digest()[:10]
    return str(ULID.from_bytes(ULID.from_str(doc_msg_id).bytes[:6] + tail))


def chunk_envelopes(row: Any, van: str, data: bytes, *, start: int = 0, chunk_size: int = CHUNK_SIZE
                    ) -> Iterator[Envelope]:  # fmt: skip
    """The envelopes for a document's outbox row, from chunk ``start`` on (the hub's highest_contiguous + 1).

    ``row`` is a ``doc`` outbox row whose body holds at least ``doc_id``, ``request_number`` and the
    ``sha256`` recorded when the document was scanned; ``data`` is the file as read now. Every chunk
    shares the row's seq and created_at. A file that no longer matches its recorded hash is refused
    here ("hash-mismatch"), before any of it is sent.
    """
    if row.stream != "doc":
        raise ProtocolError("wrong-stream", f"outbox row {row.msg_id} is on {row.stream}, not doc")
    if missing := sorted({"doc_id", "request_number", "sha256"} - set(row.body)):
        raise ProtocolError("missing-field", f"outbox row {row.msg_id} lacks {', '.join(missing)}")
    if hashlib.sha256(data).hexdigest() != row.body["sha256"]:
        raise ProtocolError("hash-mismatch", f"the file of document {row.body['doc_id']} changed since it was queued")
    bodies = _bodies(row.body["doc_id"], row.body["request_number"], data, chunk_size, start=start)
    return (
        Envelope(chunk_msg_id(row.msg_id, body["index"]), van, "doc", row.seq, SCHEMA_VERSION, row.created_at,
                 "doc.chunk", body)
        for body in bodies
    )  # fmt: skip


def _bodies(doc_id: Any, number: Any, data: bytes, chunk_size: int, *, start: int) -> Iterator[dict]:
    # Checked now, not on the first next(): a bad call fails where it is made.
    ulid(doc_id, "doc_id")
    request_number(number, "request_number")
    if not isinstance(data, bytes) or not data:
        raise ProtocolError("bad-value", "a document is some bytes, at least one")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ProtocolError("too-large", f"{len(data)} bytes, at most {MAX_DOCUMENT_BYTES}")
    if not 1 <= chunk_size <= CHUNK_SIZE:
        raise ProtocolError("bad-value", f"chunk_size must be 1–{CHUNK_SIZE}, is {chunk_size}")
    return _cut(doc_id, number, data, chunk_size, start)


def _cut(doc_id: str, number: str, data: bytes, chunk_size: int, start: int) -> Iterator[dict]:
    count = -(-len(data) // chunk_size)
    digest = hashlib.sha256(data).hexdigest()
    for index in range(max(start, 0), count):
        piece = data[index * chunk_size : (index + 1) * chunk_size]
        yield {
            "doc_id": doc_id, "request_number": number, "index": index, "count": count, "size": len(data),
            "sha256": digest, "data": piece, "chunk_sha256": hashlib.sha256(piece).hexdigest(),
        }  # fmt: skip


class Reassembly:
    """One document arriving at the hub from ``van``: chunks in any order, repeats harmless.

    Every chunk is validated like any ``doc.chunk`` body (its own hash included) and must agree with
    the first one on the document's size, count and hash ("chunk-mismatch" otherwise). Instances of
    the hub that share the work keep the chunks in their database and rebuild this from them.
    """

    def __init__(self, van: str, doc_id: str):
        self.van = van
        self.doc_id = doc_id
        self._head: tuple | None = None  # (request_number, count, size, sha256) as the first chunk said
        self._chunks: dict[int, bytes] = {}
        self._bytes = 0
        self._contiguous = -1
        self._verified: bool | None = None

    def add(self, body: dict) -> bool:
        """Keep one chunk; returns False when it was already here (a repeat changes nothing)."""
        validate_body("doc", "doc.chunk", body, self.van)
        if body["doc_id"] != self.doc_id:
            raise ProtocolError("chunk-mismatch", f"a chunk of {body['doc_id']} given to {self.doc_id}")
        head = (body["request_number"], body["count"], body["size"], body["sha256"])
        if self._head is not None and head != self._head:
            raise ProtocolError("chunk-mismatch", f"chunk {body['index']} disagrees with chunks before it")
        index, data = body["index"], bytes(body["data"])
        if index in self._chunks:
            if self._chunks[index] != data:
                raise ProtocolError("chunk-mismatch", f"chunk {index} of {self.doc_id} came twice with different data")
            return False
        if self._bytes + len(data) > head[2]:
            raise ProtocolError("chunk-mismatch", f"chunks of {self.doc_id} add up to more than {head[2]} bytes")
        self._head = head
        self._chunks[index] = data
        self._bytes += len(data)
        while self._contiguous + 1 in self._chunks:
            self._contiguous += 1
        return True

    def highest_contiguous(self) -> int:
        """The last index i such that chunks 0…i are all here; -1 while chunk 0 is missing."""
        return self._contiguous

    def complete(self) -> bool:
        return self._head is not None and len(self._chunks) == self._head[1]

    def result(self) -> bytes:
        """The whole document, once every chunk is here and the bytes match the document's SHA-256."""
        if not self.complete():
            have = len(self._chunks)
            raise ProtocolError("incomplete", f"{self.doc_id}: {have} of {self._head[1] if self._head else '?'} chunks")
        data = b"".join(self._chunks[i] for i in range(self._head[1]))
        self._verified = len(data) == self._head[2] and hashlib.sha256(data).hexdigest() == self._head[3]
        if not self._verified:
            raise ProtocolError("hash-mismatch", f"document {self.doc_id} does not match its SHA-256")
        return data

    def progress(self) -> DocAck:
        """What to tell the van: how far the hub got, and whether the document is done (or must be resent)."""
        if self.complete():
            if self._verified is None:
                try:
                    self.result()
                except ProtocolError:
                    pass
            return DocAck(self.doc_id, self._contiguous, "complete" if self._verified else "hash-mismatch")
        return DocAck(self.doc_id, self._contiguous, "partial")


# --------------------------------------------------------------------------------------------------
# A software release cut into ``update-chunk`` bodies (schema 4): the hub sends them, the van's updater
# (edge.update.transfer) checks and keeps them. One definition of the cut, so both ends agree on every seq.
# --------------------------------------------------------------------------------------------------


class FolderChanged(Exception):
    """A file of the release folder changed (size or time) after it was listed: the cut is stale, make a new one."""


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino  # a file renamed over it (an atomic rewrite) is another inode


class ReleaseCut:
    """Every file of a release folder (its ``tuf/`` metadata included) in path order, cut into chunks numbered
    ``seq`` 0 … ``total`` − 1 across the bundle; a chunk is read from disk when asked for, each file hashed once.

    The folder may be rewritten while the cut is in use (``provision release timestamp`` re-signs
    ``tuf/timestamp.json`` every day): every file's size and modification time are kept from the listing, and a
    chunk read from a file that no longer has them raises :class:`FolderChanged` instead of going out under the old
    file's hash; :meth:`changed` tells before."""

    def __init__(self, folder: Path, bundle: str, chunk_size: int = CHUNK_SIZE):
        self.folder = Path(folder)
        self.bundle = bundle
        self.chunk_size = chunk_size
        self._stamps = self._listing()
        self.files = [(rel, self.folder / rel, stamp[0]) for rel, stamp in self._stamps.items()]
        self.firsts: list[int] = []
        total = 0
        for _, _, size in self.files:
            self.firsts.append(total)
            total += max(1, -(-size // chunk_size))
        self.total = total
        self._hashes: dict[str, str] = {}

    def _listing(self) -> dict[str, tuple[int, int, int]]:
        paths = sorted((q for q in self.folder.rglob("*") if q.is_file()),
                       key=lambda q: q.relative_to(self.folder).as_posix())
        return {q.relative_to(self.folder).as_posix(): _stamp(q) for q in paths}

    def changed(self) -> bool:
        """True when a file was added, removed or rewritten since the listing."""
        try:
            return self._listing() != self._stamps
        except OSError:
            return True

    def _open(self, rel: str, path: Path):
        f = open(path, "rb")  # noqa: SIM115 - the caller closes it
        st = os.fstat(f.fileno())
        if (st.st_size, st.st_mtime_ns, st.st_ino) != self._stamps[rel]:
            f.close()
            raise FolderChanged(rel)
        return f

    def _sha256(self, rel: str, path: Path) -> str:
        if rel not in self._hashes:
            h = hashlib.sha256()
            with self._open(rel, path) as f:
                while block := f.read(1 << 20):
                    h.update(block)
            if _stamp(path) != self._stamps[rel]:  # rewritten while hashed
                raise FolderChanged(rel)
            self._hashes[rel] = h.hexdigest()
        return self._hashes[rel]

    def heads(self) -> list[list]:
        """Each file as its chunks describe it: ``[path, size, sha256, first seq, chunks]``, in seq order (what a van
        fetching the chunks itself needs to make the same bodies); :class:`FolderChanged` as :meth:`body`."""
        return [[rel, size, self._sha256(rel, path), first, max(1, -(-size // self.chunk_size))]
                for (rel, path, size), first in zip(self.files, self.firsts, strict=True)]

    def body(self, seq: int) -> dict:
        """The ``update-chunk`` body of chunk ``seq``; :class:`FolderChanged` when its file was rewritten since the
        listing (or since it was hashed)."""
        i = bisect.bisect_right(self.firsts, seq) - 1
        rel, path, size = self.files[i]
        index = seq - self.firsts[i]
        digest = self._sha256(rel, path)
        with self._open(rel, path) as f:
            f.seek(index * self.chunk_size)
            data = f.read(self.chunk_size)
        return {"bundle": self.bundle, "seq": seq, "total": self.total, "files": len(self.files), "path": rel,
                "index": index, "count": max(1, -(-size // self.chunk_size)), "size": size,
                "sha256": digest, "data": data, "chunk_sha256": hashlib.sha256(data).hexdigest()}

    def bodies(self) -> Iterator[dict]:
        return (self.body(seq) for seq in range(self.total))
