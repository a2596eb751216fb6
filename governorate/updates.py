"""Software releases sent to the vans over MQTT (issue 20): the hub's end of the ``update-chunk`` downlink.

Staff (or the rollout) **offer** a signed release folder (``provision release build --keys``) to a van; the hub
cuts it into the chunks of docs/protocol.md (file by file in path order, ``seq`` 0 … total − 1, the same cut as
``edge.update.transfer.cut``) and sends them a window at a time. The van answers with ``tel.update``: how many
chunks it holds and which (ranges of seqs), ``complete`` when every file is whole, ``refused`` with the reason
when a chunk was refused. The hub sends only what the van does not hold:

- a **window** of chunks is in flight (sent, not yet reported held); each report lets the next ones go. It is
  sized per van from its measured delivery rate (:func:`window_for`): what its link delivers over a report's loop
  and ``QUEUE_S`` more, ``MIN_WINDOW`` chunks at first and at least, ``WINDOW`` at most — on a slow link the
  van's own acks do not wait behind a MiB of software;
- a window with no report for ``STALL_S`` is **sent again** from the first chunk the van lacks (a link that
  dropped what was in flight; the van keeps every chunk it got, so nothing is sent twice that arrived);
- **lowest priority**: nothing is sent to a van that is offline or whose outbox is not empty (its last
  ``tel.snapshot``): a citizen's request and its scans always go first, and the acks they wait for are not held
  up behind megabytes of software;
- a van that restarts or reconnects says what it holds (``tel.update`` after every connect), and the hub goes on
  from there: a transfer survives power cuts on either side (the offer and the van's last report are in the
  hub's database, the chunks on the van's disk).

Nothing here makes a release trusted: the van installs it only after python-tuf verified it against the
governorate's root (edge/update/verify.py). The hub checks the folder only enough to offer it: a signed release
(``tuf/targets.json`` naming its identity), whose bundle name is the identity's first 16 hex digits (the id the van
installs it under).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.core.errors import EdgeError
from edge.sync import protocol as p
from edge.sync.chunks import FolderChanged, ReleaseCut
from edge.sync.schema import CHUNK_SIZE, UPDATE_MAX_CHUNKS, UPDATE_MAX_FILES
from governorate.store import HubStore, now_iso

log = logging.getLogger("governorate.updates")

WINDOW = 16  # chunks in flight to one van at most (1 MiB): Updates(window=…)
MIN_WINDOW = 4  # … at least, and at first, before the van's reports show its link's rate (256 KiB)
# A van's window is its link's rate × (its control loop + QUEUE_S), in chunks (window_for). The loop: a report
# comes UPDATE_REPORT_EVERY_S (0.25 s, edge.sync.agent) after the first chunk since the last one arrived, and the
# next window goes when it reaches the hub: 0.25 s + a round trip + a chunk's time on the link. It is measured (the
# time between reports), at least LOOP_S (0.25 s + 100 ms). QUEUE_S: what may wait in the link's queue ahead of the
# van's own acks. A window shows a rate of at most window ÷ loop, so each measurement asks for window × (loop +
# QUEUE_S) ÷ loop: it grows while the link has room, and cannot spiral down, whatever the round trip.
LOOP_S = 0.35
QUEUE_S = 0.5
RATE_GAIN = 0.25  # each report moves the smoothed bytes gained and seconds between reports a quarter of the way
SAMPLE_MIN_S = 0.1  # a measurement over less than this (reports in one ingest batch) waits for the next report
SAMPLE_MAX_S = 2.0  # longer spanned a pause (outbox busy, stall, reconnect) or a very slow link: see next_rate
RATE_MAX = 12_500_000  # bytes a second (100 Mbit/s): no van's LTE delivers more; a measurement above is held to it
STALL_S = 30.0  # a window with no report for this long is sent again
BACKOFF_MAX_S = 3600.0  # … doubling while the van says nothing at all, up to this
PUMP_EVERY_S = 5.0  # how often the ingest worker looks for offers to start or windows to send again
ACTIVE = ("offered", "receiving")
STATES = {
    "offered": ("عُرض، لم تبدأ العربة الاستلام بعد", "offered, the van has not started receiving"),
    "receiving": ("العربة تستلم", "the van is receiving"),
    "complete": ("استلمته العربة كاملًا", "received whole by the van"),
    "refused": ("رفضت العربة جزءًا منه", "the van refused a chunk"),
    "withdrawn": ("سُحب العرض", "withdrawn"),
}


class OfferError(EdgeError):
    code = "update-offer"

    def __init__(self, en: str, ar: str, detail: str = ""):
        super().__init__(ar, en, detail=detail or en)


class Bundle:
    """A signed release folder, cut into seq-numbered chunks read from disk one at a time (edge.sync.chunks.ReleaseCut,
    the cut the van expects)."""

    def __init__(self, folder: Path, chunk_size: int = CHUNK_SIZE):
        self.folder = Path(folder)
        if not (self.folder / "release.json").is_file():
            raise OfferError(f"{folder} is not a release folder (no release.json).",
                             "المجلد ليس إصدارًا (لا يوجد release.json).")
        try:
            targets = json.loads((self.folder / "tuf" / "targets.json").read_text())
            identity = targets["signed"]["targets"]["release.json"]["custom"]["identity"]
            self.version = str(json.loads((self.folder / "release.json").read_text())["version"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OfferError(f"{folder} is not a signed release (provision release build --keys).",
                             "المجلد ليس إصدارًا موقّعًا؛ لا يُرسل إلى العربات إلا إصدار موقّع.", str(exc)) from None
        if not (isinstance(identity, str) and len(identity) >= 16 and identity.isalnum()):
            raise OfferError("The signed release names no identity.", "الإصدار الموقّع بلا هوية.")
        self.name = identity[:16]
        self._cut = ReleaseCut(self.folder, self.name, chunk_size)
        self.total = self._cut.total
        if not 1 <= len(self._cut.files) <= UPDATE_MAX_FILES or self.total > UPDATE_MAX_CHUNKS:
            raise OfferError(f"The release has {len(self._cut.files)} files in {self.total} chunks: too big to send.",
                             "الإصدار أكبر من أن يُرسل إلى العربات.")

    def chunk(self, seq: int) -> p.UpdateChunk:
        """Chunk ``seq``; :class:`FolderChanged` when its file was rewritten since this bundle was read."""
        return p.UpdateChunk(**self._cut.body(seq))

    def changed(self) -> bool:
        return self._cut.changed()

    def heads(self) -> list[list]:
        return self._cut.heads()

    @property
    def chunk_size(self) -> int:
        return self._cut.chunk_size


def missing(have: list[list[int]], total: int, start: int = 0):
    """The seqs from ``start`` not inside the ranges ``have``, ascending."""
    seq = start
    for a, b in have:
        while seq < min(a, total):
            yield seq
            seq += 1
        seq = max(seq, b + 1)
    while seq < total:
        yield seq
        seq += 1


def _parse(at: str | None) -> datetime | None:
    return datetime.fromisoformat(at) if at else None


def next_rate(rate: int, loop_ms: int, held_before: int, at_before: str | None, held: int, at: str,
              chunk_size: int = CHUNK_SIZE) -> tuple[int, int, bool]:
    """A van's link after a report saying it holds ``held`` chunks at ``at`` (the hub's time of arrival), the
    measurement having started at ``held_before`` chunks at ``at_before``: (its delivery rate in bytes a second, the
    time between its reports in ms — 0: not known yet — and whether the next measurement starts at this report).

    Both are smoothed: the bytes gained and the seconds taken each move ``RATE_GAIN`` of the way to this
    measurement's, and the rate is their ratio. A report that cannot be measured yet leaves the start where it was,
    so its chunks count in the next measurement: reports bunched up on the way (one ingest batch gives them one time
    of arrival; a van's reports piled up behind a slow hub) are one measurement, never a burst; a duplicate or a
    report without progress moves nothing. A report that makes no sense for it (held going down: a van that
    restarted, a report out of order; time going back; a time of another form) changes nothing and starts anew.
    Over more than ``SAMPLE_MAX_S`` the reports spanned a pause (nothing was sent: the van's outbox, a stall, a
    reconnect) or a link slower than a chunk in that time: the rate may rise to what arrived, and fall by at most
    ``RATE_GAIN`` a report (so a very slow link is found within a few reports, and a pause costs little); the loop
    is not measured. The rate is at most ``RATE_MAX``."""
    try:
        before, now = _parse(at_before), _parse(at)
        seconds = (now - before).total_seconds() if before is not None and now is not None else -1.0
    except (TypeError, ValueError):  # a time of another form (naive beside aware): nothing measured
        return rate, loop_ms, True
    if seconds < 0 or held < held_before:
        return rate, loop_ms, True
    gained = (held - held_before) * chunk_size
    if gained == 0 or seconds < SAMPLE_MIN_S:
        return rate, loop_ms, False
    if seconds > SAMPLE_MAX_S:
        return min(RATE_MAX, max(round(gained / seconds), round(rate * (1 - RATE_GAIN)))), loop_ms, True
    if rate <= 0 or loop_ms <= 0:  # the first: as it is
        return min(RATE_MAX, round(gained / seconds)), round(seconds * 1000), True
    loop = loop_ms / 1000
    smoothed_bytes = rate * loop + RATE_GAIN * (gained - rate * loop)
    smoothed_s = loop + RATE_GAIN * (seconds - loop)
    return min(RATE_MAX, max(1, round(smoothed_bytes / smoothed_s))), max(1, round(smoothed_s * 1000)), True


def window_for(rate: int, loop_ms: int = 0, maximum: int = WINDOW, minimum: int = MIN_WINDOW,
               chunk_size: int = CHUNK_SIZE) -> int:
    """Chunks in flight to a van whose link delivers ``rate`` bytes a second with ``loop_ms`` between its reports
    (0: not known): its rate over the loop (at least ``LOOP_S``) and ``QUEUE_S`` more, between ``minimum`` and
    ``maximum``."""
    floor = max(1, min(minimum, maximum))
    if rate <= 0:
        return floor
    seconds = max(LOOP_S, min(loop_ms / 1000, SAMPLE_MAX_S)) + QUEUE_S
    return max(floor, min(maximum, math.ceil(rate * seconds / chunk_size)))


class Updates:
    """Offers, reports and the windows sent; ``publish(van, kind, payload)`` puts a downlink on the broker (None:
    this one only offers and reads, as the command line and the web pages do; the ingest workers send)."""

    def __init__(self, store: HubStore, publish: Callable[[str, str, bytes], None] | None = None, *,
                 window: int = WINDOW, min_window: int | None = None, stall_s: float = STALL_S):
        self.store = store
        self.publish = publish
        self.window = window  # the most in flight; each van's own is sized from its link (window_for)
        self.min_window = MIN_WINDOW if min_window is None else min_window  # (= window: a fixed window)
        self.stall = timedelta(seconds=stall_s)
        self._bundles: dict[str, Bundle] = {}
        self._checked: dict[str, float] = {}

    def bundle(self, folder: str, fresh: bool = False) -> Bundle:
        """The release in ``folder``, read again when a file of it changed since (a daily ``provision release
        timestamp`` rewrites ``tuf/timestamp.json`` while the release is offered): a chunk never goes out with the
        hash of the file as it was."""
        cached, now = self._bundles.get(folder), time.monotonic()
        # Looked at once a second at most (a stat of each file), not for each of fifty vans every pump; at once
        # when ``fresh`` (staff offering a folder they may just have rebuilt).
        if cached is None or fresh or now - self._checked.get(folder, 0.0) >= 1.0:
            if cached is None or cached.changed():
                self._bundles[folder] = Bundle(Path(folder))
            self._checked[folder] = now
        return self._bundles[folder]

    def forget(self, folder: str) -> None:
        """Read ``folder`` again at the next use (a file of it changed under a reader)."""
        self._bundles.pop(folder, None)

    # --- staff ------------------------------------------------------------------------------------------------

    def offer(self, van: str, folder: Path, expect: str | None = None) -> dict:
        """Offer the signed release in ``folder`` to ``van`` (replacing an earlier offer); its first window goes at
        the next :meth:`pump` when the van is online and drained. ``expect``: the release the folder must hold (the
        rollout's), refused otherwise. A van whose software is too old to take a release over the link is refused."""
        if not p.is_van_id(van):
            raise OfferError(f"{van!r} is not a van id (V001–V999).", "رقم العربة غير صحيح.")
        speaks = self.store._read("SELECT schema, retired_at FROM vans WHERE van = ?", [van])
        if speaks and speaks[0][1] is not None:
            raise OfferError(f"{van} is retired (governorate vans remove): no release is offered to it; "
                             "governorate vans add brings it back.",
                             f"الوحدة {van} خارج الخدمة: لا يُعرض عليها إصدار (governorate vans add يعيدها).")
        if speaks and speaks[0][0] is not None and speaks[0][0] < 4:
            raise OfferError(f"{van} runs software too old to take a release over the link (protocol "
                             f"{speaks[0][0]}); install it by hand (provision van install).",
                             "برمجيات العربة أقدم من أن تستقبل تحديثًا عبر الاتصال؛ يثبته فني.")
        folder = str(Path(folder).resolve())
        b = self.bundle(folder, fresh=True)
        if expect is not None and b.name != expect:
            raise OfferError(f"The folder {folder} holds release {b.name}, not {expect}: it was rebuilt. Start the "
                             "rollout again with it.", "مجلد الإصدار تغيّر منذ بدء النشر؛ ابدأ النشر من جديد.")
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM update_offers WHERE van = ?", [van])
            conn.execute("INSERT INTO update_offers (van, bundle, folder, version, total, state, offered_at) "
                         "VALUES (?, ?, ?, ?, ?, 'offered', ?)", [van, b.name, folder, b.version, b.total, now_iso()])
        log.info("release %s (%s, %d chunks) offered to %s", b.version, b.name, b.total, van)
        return self.offer_of(van)

    def withdraw(self, van: str) -> bool:
        with self.store.transaction() as conn:
            cur = conn.execute("UPDATE update_offers SET state = 'withdrawn' WHERE van = ? AND state IN (?, ?)",
                               [van, *ACTIVE])
            return cur.rowcount > 0

    def offer_of(self, van: str) -> dict | None:
        rows = self.store._read(f"SELECT {', '.join(_COLUMNS)} FROM update_offers WHERE van = ?", [van])
        return _row(rows[0]) if rows else None

    def offers(self) -> list[dict]:
        return [_row(r) for r in self.store._read(f"SELECT {', '.join(_COLUMNS)} FROM update_offers ORDER BY van")]

    # --- the van's reports (inside the ingest's transaction) -------------------------------------------------

    @staticmethod
    def report(conn, van: str, body: dict, received_at: str) -> bool:
        """Keep a van's ``tel.update`` when it is about the bundle offered to it; True when it was. The chunks it
        gained since its last report, over the time between, update the estimate of its link's rate (next_rate)."""
        state = body["state"] if body["state"] in ("complete", "refused") else "receiving"
        where = "WHERE van = ? AND bundle = ? AND total = ? AND state IN ('offered', 'receiving')"
        key = [van, body["bundle"], body["total"] or 0]
        # The row first, locked: on PostgreSQL a second worker's report of this van waits here until this one is
        # committed, so each is measured against the one before it (SQLite's transaction holds the database already).
        conn.execute(f"UPDATE update_offers SET held = held {where}", key)
        before = conn.execute(f"SELECT sample_held, sample_at, rate, loop_ms FROM update_offers {where}",
                              key).fetchone()
        rate, loop_ms, anew = (next_rate(before[2], before[3], before[0], before[1], body["held"], received_at)
                               if before else (0, 0, True))
        sample_held, sample_at = (body["held"], received_at) if anew else (before[0], before[1])
        cur = conn.execute(
            "UPDATE update_offers SET state = ?, progress_at = CASE WHEN ? > held THEN ? ELSE progress_at END, "
            f"held = ?, have = ?, error = ?, reported_at = ?, rate = ?, loop_ms = ?, sample_held = ?, sample_at = ? "
            f"{where}",
            [state, body["held"], received_at, body["held"], json.dumps(body["have"]), body["error"], received_at,
             rate, loop_ms, sample_held, sample_at, *key])
        if cur.rowcount == 0 and body["total"] == 0:  # a refusal before any chunk was kept: total unknown
            cur = conn.execute("UPDATE update_offers SET error = ?, reported_at = ? WHERE van = ? AND bundle = ? "
                               "AND state IN ('offered', 'receiving')", [body["error"], received_at, van,
                                                                         body["bundle"]])
        return cur.rowcount > 0

    # --- sending ---------------------------------------------------------------------------------------------

    def _drained(self, van: str) -> bool:
        rows = self.store._read("SELECT online, telemetry FROM vans WHERE van = ?", [van])
        if not rows or not rows[0][0] or not rows[0][1]:
            return False
        values = json.loads(rows[0][1])
        if values.get("update.transport") == "https":
            return False  # it fetches the chunks itself from the release server (governorate.release_server)
        return values.get("outbox_pending") == 0

    def pump(self, van: str, now: datetime | None = None) -> int:
        """Send ``van`` the next chunks it lacks, if it may have them now; returns how many were sent."""
        now = now or datetime.now(UTC)
        offer = self.offer_of(van)
        if self.publish is None or offer is None or offer["state"] not in ACTIVE or not self._drained(van):
            return 0
        try:
            b = self.bundle(offer["folder"])
        except OfferError as exc:
            log.error("offer to %s cannot be sent: %s", van, exc.detail)
            return 0
        if b.name != offer["bundle"] or b.total != offer["total"]:
            log.error("release folder %s changed since it was offered to %s; offer it again", offer["folder"], van)
            return 0
        have, total = offer["have"], offer["total"]
        first = next(missing(have, total), None)
        if first is None:
            return 0  # the van holds every chunk; its report says complete (or will)
        highest = have[-1][1] if have else -1  # chunks of one topic arrive in order (QoS 1, one connection)
        sent_at, reported_at = _parse(offer["sent_at"]), _parse(offer["reported_at"])
        moved_at = max(x for x in (sent_at, _parse(offer["progress_at"])) if x is not None) if sent_at else None
        cursor = max(offer["cursor"], first)
        rate, loop_ms = offer["rate"], offer["loop_ms"]
        window = window_for(rate, loop_ms, self.window, self.min_window, b.chunk_size)
        if moved_at is not None and now - moved_at > self._stall(offer, sent_at, reported_at, window):
            # Nothing sent for a while and the van holds no more than before (the link dropped the window, or the van
            # refused it: a full disk): a window again from the first chunk it lacks — the smallest: what the link
            # delivered before says little of what it does now (the rate is measured anew).
            log.info("update to %s: no progress for %s; sending again from chunk %d", van, now - moved_at, first)
            cursor, rate, loop_ms = first, 0, 0
            window = window_for(rate, loop_ms, self.window, self.min_window, b.chunk_size)
        chosen: list[int] = []
        if reported_at is not None and sent_at is not None and reported_at > sent_at:
            # A report after the last window that still lacks a chunk below one it holds: that chunk was lost (a
            # restart mid-window, a refusal); it goes again at once, before anything new.
            chosen = [seq for seq in missing(have, min(highest, cursor)) if seq < highest][:window]
        in_flight = sum(1 for _ in missing(have, cursor, highest + 1))  # sent, beyond what the van holds
        budget = window - in_flight - len(chosen)
        for seq in missing(have, total, cursor):
            if budget <= 0:
                break
            chosen.append(seq)
            budget -= 1
        seqs = sorted(set(chosen))
        if not seqs:
            return 0
        try:  # read before the window is claimed: a folder rewritten under it claims nothing
            chunks = [b.chunk(seq) for seq in seqs]
        except (FolderChanged, OSError) as exc:
            log.warning("release folder %s changed while sending to %s (%s); read again", offer["folder"], van, exc)
            self.forget(offer["folder"])
            return 0
        # Claimed before publishing, against what was read (the window was sized from it: no report came between):
        # two ingest workers never send the same window.
        with self.store.transaction() as conn:
            cur = conn.execute(
                "UPDATE update_offers SET cursor = ?, chunks_sent = chunks_sent + ?, sent_at = ?, rate = ?, "
                "loop_ms = ? WHERE van = ? AND bundle = ? AND cursor = ? AND coalesce(sent_at, '') = ? "
                "AND coalesce(reported_at, '') = ?",
                [max(cursor, seqs[-1] + 1), len(seqs), now.isoformat(), rate, loop_ms, van, b.name, offer["cursor"],
                 offer["sent_at"] or "",
                 offer["reported_at"] or ""])
            if cur.rowcount == 0:
                return 0
        for chunk in chunks:
            self.publish(van, "update-chunk", p.encode_down(chunk, van=van))
        return len(seqs)

    def _stall(self, offer: dict, sent_at: datetime | None, reported_at: datetime | None,
               window: int) -> timedelta:
        """How long a window may go without progress before it is sent again: ``stall_s`` — longer while the van says
        nothing (an agent that cannot take updates, a link that takes nothing in), up to ``BACKOFF_MAX_S``: an hour's
        MiB, not 120 MiB an hour, over a van's paid LTE. A report resets it: a van that comes back (it reports after
        every connect) goes on within ``stall_s``.

        - heard since the last window: ``stall_s``;
        - heard before, silent since: as long as it has been silent at the last window (30 s, 30 s, 60 s, 120 s …:
          doubling from the last report, whatever happened earlier in the transfer);
        - never heard: doubled for each ``window`` sent beyond the first (it holds nothing of them)."""
        if reported_at is not None and sent_at is not None and reported_at >= sent_at:
            return self.stall
        if reported_at is not None and sent_at is not None:
            seconds = (sent_at - reported_at).total_seconds()
            return timedelta(seconds=min(max(seconds, self.stall.total_seconds()), BACKOFF_MAX_S))
        wasted = max(0, (offer["chunks_sent"] - offer["held"]) // max(1, window) - 1)
        seconds = self.stall.total_seconds() * 2 ** min(wasted, 20)
        return timedelta(seconds=min(max(seconds, self.stall.total_seconds()), BACKOFF_MAX_S))

    def pump_all(self, now: datetime | None = None) -> int:
        vans = [r[0] for r in self.store._read("SELECT van FROM update_offers WHERE state IN (?, ?)", list(ACTIVE))]
        return sum(self.pump(van, now) for van in vans)


_COLUMNS = ("van", "bundle", "folder", "version", "total", "state", "held", "have", "error", "cursor", "chunks_sent",
            "offered_at", "sent_at", "reported_at", "progress_at", "rate",
            "loop_ms")


def _row(r: tuple) -> dict:
    keys = _COLUMNS
    out = dict(zip(keys, r, strict=True))
    out["have"] = json.loads(out["have"] or "[]")
    return out
