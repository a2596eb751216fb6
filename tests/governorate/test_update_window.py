"""The link-aware window of a release sent to a van over MQTT (governorate/updates.py, window_for / next_rate): each
van's chunks in flight are sized from the delivery rate its tel.update reports show, kept in update_offers.rate
(m014). Fast: the link is simulated (a rate, a delay each way, the van's report debounce), no broker."""

from __future__ import annotations

import heapq
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.sync import protocol as p
from edge.sync.agent import UPDATE_REPORT_EVERY_S
from edge.sync.schema import CHUNK_SIZE
from governorate import migrations
from governorate.store import HubStore
from governorate.updates import LOOP_S, MIN_WINDOW, QUEUE_S, RATE_MAX, WINDOW, Updates, next_rate, window_for
from tests.support import gov_postgres
from tests.support.sync_harness import VAN
from tests.update.support import signed_release

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def mbit(rate_mbit: float) -> int:
    return round(rate_mbit * 1e6 / 8)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    from provisioning import tuf_repo

    base = tmp_path_factory.mktemp("window")
    folder = base / "rel"
    (folder / "system").mkdir(parents=True)
    (folder / "system" / "padding.bin").write_bytes(os.urandom(12_000_000))  # ~185 chunks
    tuf_repo.make_keys(base / "keys")
    signed_release(folder, "1.1.0", base / "keys")
    return folder


def _ranges(held: set[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for seq in sorted(held):
        if out and out[-1][1] == seq - 1:
            out[-1][1] = seq
        else:
            out.append([seq, seq])
    return out


def _report(offer: dict, held: set[int]) -> dict:
    return {"bundle": offer["bundle"], "at": T0.isoformat(), "state": "receiving", "total": offer["total"],
            "held": len(held), "have": _ranges(held), "error": None}


def _hub(tmp_path: Path, release: Path, sent: list[int], **kw) -> tuple[HubStore, Updates, dict]:
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda v, kind, payload: sent.append(p.decode_down(payload, van=v, kind=kind).message.seq),
                      **kw)
    offer = updates.offer(VAN, release)
    with store.transaction() as conn:
        conn.execute("INSERT INTO vans (van, last_seen, online, telemetry) VALUES (?, ?, 1, ?)",
                     [VAN, T0.isoformat(), '{"outbox_pending": 0}'])
    return store, updates, offer


def _report_to(store: HubStore, offer: dict, held: set[int], seconds: float) -> None:
    with store.transaction() as conn:
        assert Updates.report(conn, VAN, _report(offer, held), at(seconds))


# --- the rule ---------------------------------------------------------------------------------------------------


def test_the_window_is_the_rate_times_the_loop_and_the_queue_between_the_least_and_the_most():
    assert LOOP_S >= UPDATE_REPORT_EVERY_S + 0.05 and QUEUE_S > 0
    assert window_for(0) == MIN_WINDOW == 4  # not known yet: small
    assert window_for(mbit(20)) == WINDOW == 16  # 2.1 MB over the loop and the queue: capped at 1 MiB
    assert window_for(mbit(5)) == 9  # 625 kB/s × 0.85 s = 8.1 chunks
    assert window_for(mbit(5), loop_ms=900) == 14  # a long loop (a far round trip) needs more in flight
    assert window_for(mbit(5), loop_ms=100) == 9  # … a short one no less than LOOP_S's
    assert window_for(mbit(5), loop_ms=60_000) == window_for(mbit(5), loop_ms=2_000)  # bounded
    assert window_for(mbit(2)) == MIN_WINDOW  # 3.2 chunks
    assert window_for(1) == MIN_WINDOW and window_for(10**12) == WINDOW
    assert window_for(mbit(20), maximum=64) == 33  # the maximum is Updates(window=…)
    assert window_for(mbit(20), maximum=2) == 2 and window_for(0, maximum=2) == 2  # a maximum below MIN_WINDOW
    assert window_for(0, maximum=16, minimum=16) == 16  # min = max: a fixed window
    for rate in range(0, mbit(40), 7919):
        assert MIN_WINDOW <= window_for(rate) <= WINDOW
        assert window_for(rate) >= rate * (LOOP_S + QUEUE_S) / CHUNK_SIZE or window_for(rate) == WINDOW


def test_a_rate_is_measured_from_the_chunks_gained_between_two_reports():
    assert next_rate(0, 0, 0, None, 4, at(0)) == (0, 0, True)  # no report before: the measurement starts here
    first = next_rate(0, 0, 0, at(0), 10, at(0.5))
    assert first == (10 * CHUNK_SIZE * 2, 500, True)  # the first measurement is the estimate
    # Then the bytes and the seconds each move a quarter of the way: 10 chunks in 1 s after 10 in 0.5 s.
    rate, loop_ms, anew = next_rate(*first[:2], 10, at(0.5), 20, at(1.5))
    assert loop_ms == 625 and rate == round(10 * CHUNK_SIZE / 0.625) and anew
    # Two reports bunched up on the way (the first delayed behind the van's own messages): the second waits, and
    # counts with the next one from where the measurement started — not as a burst of 4 chunks in 10 ms.
    rate2, loop2, _ = next_rate(rate, loop_ms, 20, at(1.5), 24, at(2.4))
    assert next_rate(rate2, loop2, 24, at(2.4), 28, at(2.41)) == (rate2, loop2, False)
    rate3, _, anew = next_rate(rate2, loop2, 24, at(2.4), 32, at(3.2))
    assert anew and rate3 < 2 * rate


@pytest.mark.parametrize("case", ["held went down (a van that restarted)", "time went back",
                                  "a time of another form", "no time"])
def test_a_nonsense_report_leaves_the_rate_as_it_was_and_measures_anew_from_it(case):
    held_before, before, held, now = {
        "held went down (a van that restarted)": (40, at(1), 30, at(1.3)),
        "time went back": (40, at(1), 50, at(0.7)),
        "a time of another form": (40, "2026-12-06T08:00:01", 50, at(1.3)),
        "no time": (40, at(1), 50, ""),
    }[case]
    assert next_rate(mbit(5), 300, held_before, before, held, now) == (mbit(5), 300, True)
    assert next_rate(0, 0, held_before, before, held, now) == (0, 0, True)  # nor makes one from nothing


def test_a_report_without_progress_or_over_no_time_waits_for_the_next():
    assert next_rate(mbit(5), 300, 40, at(1), 40, at(1.3)) == (mbit(5), 300, False)  # a duplicate, or no progress
    assert next_rate(0, 0, 40, at(1), 50, at(1)) == (0, 0, False)  # the same instant (one ingest batch)
    assert next_rate(0, 0, 40, at(1), 50, at(1.05)) == (0, 0, False)


def test_a_long_measurement_raises_the_rate_to_what_arrived_and_lowers_it_a_quarter_at_most():
    # 30 s since the measurement started: the hub sent nothing for a while (the van's outbox, a stall, a reconnect)
    # — or the link is slower than a chunk in SAMPLE_MAX_S. It may lower the rate a quarter, and nothing of the loop.
    assert next_rate(mbit(5), 300, 40, at(0), 44, at(30)) == (round(mbit(5) * 0.75), 300, True)
    assert next_rate(0, 0, 40, at(0), 44, at(30)) == (round(4 * CHUNK_SIZE / 30), 0, True)
    assert next_rate(mbit(5), 300, 0, at(0), 400, at(2.5)) == (round(400 * CHUNK_SIZE / 2.5), 300, True)


def test_the_rate_is_bounded_whatever_the_reports_say():
    assert next_rate(0, 0, 0, at(0), 100_000, at(0.1))[0] == RATE_MAX  # 6.5 GB in 0.1 s: not a van's LTE
    assert next_rate(RATE_MAX, 100, 0, at(0), 100_000, at(0.2))[0] == RATE_MAX
    assert next_rate(mbit(5), 300, 0, at(0), 100_000, at(3))[0] == RATE_MAX
    # Alternating reports of nothing and everything, bunched in batches: before, the rate grew past 2³¹ (a
    # PostgreSQL INTEGER) in ~50 reports.
    rate, loop_ms, start = mbit(5), 300, (0, at(0))
    for i in range(200):
        held = 0 if i % 2 else 185
        rate, loop_ms, anew = next_rate(rate, loop_ms, *start, held, at(0.5 + (i // 20)))
        start = (held, at(0.5 + (i // 20))) if anew else start
        assert 0 <= rate <= RATE_MAX and loop_ms >= 100 * (loop_ms > 0), (i, rate, loop_ms)


# --- over a simulated link --------------------------------------------------------------------------------------


def _simulate(updates: Updates, store: HubStore, offer: dict, sent: list[int], rate_mbit: float | Callable,
              delay_s: float = 0.04, seconds: float = 30.0, times: list[float] | None = None
              ) -> tuple[list[int], set[int]]:
    """The hub and a van across a link of ``rate_mbit`` down, ``delay_s`` each way, for ``seconds``: chunks queue on
    the link and arrive in order, the van reports UPDATE_REPORT_EVERY_S after the first chunk since its last report,
    the hub takes the report and sends at once (as the ingest worker does), and every PUMP_EVERY_S besides. Returns
    the window the hub sized after each report (and its time, in ``times``), and the chunks the van holds.
    ``rate_mbit`` may be a function of the time (a van driving out of a cell's reach)."""
    rate_at = rate_mbit if callable(rate_mbit) else (lambda t: rate_mbit)
    events: list[tuple[float, int, str, object]] = []  # (time, order, what, a chunk's seq or a report)
    order = iter(range(10**9))
    link_free = 0.0
    held: set[int] = set()
    report_due: float | None = None
    windows: list[int] = []

    def pump(now: float) -> None:
        nonlocal link_free
        updates.pump(VAN, now=T0 + timedelta(seconds=now))
        for seq in sent:
            link_free = max(link_free, now) + CHUNK_SIZE * 8 / (rate_at(max(link_free, now)) * 1e6)
            heapq.heappush(events, (link_free + delay_s, next(order), "chunk", seq))
        sent.clear()

    pump(0.0)
    for tick in range(1, int(seconds / 5) + 1):
        heapq.heappush(events, (tick * 5.0, next(order), "pump", 0))
    while events:
        now, _, what, item = heapq.heappop(events)
        if now > seconds:
            break
        if what == "chunk":
            held.add(item)
            if report_due is None:
                report_due = now + UPDATE_REPORT_EVERY_S
                heapq.heappush(events, (report_due, next(order), "report", None))
        elif what == "report":
            report_due = None
            heapq.heappush(events, (now + delay_s, next(order), "report at the hub", _report(offer, held)))
        elif what == "report at the hub":
            with store.transaction() as conn:
                Updates.report(conn, VAN, item, at(now))
            link = updates.offer_of(VAN)
            windows.append(window_for(link["rate"], link["loop_ms"], updates.window, updates.min_window))
            if times is not None:
                times.append(now)
            pump(now)
        elif what == "pump":
            pump(now)
    return windows, held



@pytest.mark.parametrize("rate_mbit, lowest, highest", [(20, WINDOW, WINDOW), (5, 7, 10), (2, MIN_WINDOW, 5),
                                                        (0.5, MIN_WINDOW, MIN_WINDOW)])
def test_the_window_grows_on_a_fast_link_and_stays_small_on_a_slow_one(tmp_path, release, rate_mbit, lowest,
                                                                      highest):
    sent: list[int] = []
    store, updates, offer = _hub(tmp_path, release, sent)
    windows, held = _simulate(updates, store, offer, sent, rate_mbit, seconds=20.0)
    assert windows and all(MIN_WINDOW <= w <= WINDOW for w in windows), windows
    settled = windows[len(windows) // 2:]
    assert lowest <= min(settled) and max(settled) <= highest, (rate_mbit, windows)
    if rate_mbit == 20:
        assert windows.index(WINDOW) <= 4, windows  # from 4 to 16 in a few reports (about a second)
    # The link is kept busy all the same: the window does not throttle the transfer below the link's rate.
    delivered = len(held) * CHUNK_SIZE * 8 / 20.0 / (rate_mbit * 1e6)
    assert delivered >= (0.6 if rate_mbit == 20 else 0.85) or len(held) == offer["total"], (rate_mbit, delivered)


def test_a_slow_control_loop_still_lets_the_window_grow(tmp_path, release):
    # A round trip of 0.4 s (a congested rural cell) on a 5 Mbit/s link: a window of 4 takes a loop of 0.75 s and
    # shows 2.8 Mbit/s, which with LOOP_S alone would ask for a window of 5 — about where it stays. The loop is
    # measured: the window grows until the link is full.
    sent: list[int] = []
    store, updates, offer = _hub(tmp_path, release, sent)
    windows, held = _simulate(updates, store, offer, sent, 5, delay_s=0.2, seconds=20.0)
    assert windows[0] == MIN_WINDOW and windows[-1] >= 8, windows
    assert len(held) * CHUNK_SIZE * 8 / 20.0 >= 0.8 * 5e6, len(held)


@pytest.mark.parametrize("slow_mbit", [0.2, 0.25, 0.4])
def test_a_link_that_slows_below_a_chunk_in_two_seconds_gets_the_smallest_window(tmp_path, release, slow_mbit):
    # 20 Mbit/s, then the van drives to a cell's edge: a chunk takes 2.6 s at 0.2 Mbit/s, so its reports come more
    # than SAMPLE_MAX_S apart. Before, such reports could only raise the rate, and the window stayed at 16 (1 MiB:
    # 42 s of queue ahead of the van's own acks) for the rest of the transfer.
    sent: list[int] = []
    store, updates, offer = _hub(tmp_path, release, sent)
    times: list[float] = []
    windows, _ = _simulate(updates, store, offer, sent, lambda t: 20 if t < 3 else slow_mbit, seconds=150.0,
                           times=times)
    assert WINDOW in windows[:20], windows
    late = [w for w, t in zip(windows, times, strict=True) if t > 75]
    assert late and set(late) == {MIN_WINDOW}, (slow_mbit, list(zip(times, windows, strict=True)))


def test_reports_bunched_in_one_ingest_batch_are_one_measurement(tmp_path, release):
    # An ingest batch gives every message one time of arrival. Twenty reports of one more chunk each in one batch
    # were twenty measurements over no time: the rate ran away and the loop fell to 1 ms.
    sent: list[int] = []
    store, updates, offer = _hub(tmp_path, release, sent)
    _report_to(store, offer, set(range(2)), 0.3)
    _report_to(store, offer, set(range(6)), 0.8)  # 4 chunks in 0.5 s: the first measurement
    measured = (updates.offer_of(VAN)["rate"], updates.offer_of(VAN)["loop_ms"])
    assert measured == (4 * CHUNK_SIZE * 2, 500)
    with store.transaction() as conn:  # one batch, at 1.3 s: the first report of it is a measurement (1 chunk in
        for n in range(7, 27):         # 0.5 s), the other nineteen wait
            assert Updates.report(conn, VAN, _report(offer, set(range(n))), at(1.3))
    once = next_rate(*measured, 6, at(0.8), 7, at(1.3))[:2]
    assert (updates.offer_of(VAN)["rate"], updates.offer_of(VAN)["loop_ms"]) == once
    _report_to(store, offer, set(range(26)), 1.35)  # a duplicate (QoS 1 sent again) moves nothing either
    assert (updates.offer_of(VAN)["rate"], updates.offer_of(VAN)["loop_ms"]) == once
    # The next report counts the batch's chunks: 23 chunks from 1.3 s to 1.8 s, smoothed a quarter of the way.
    _report_to(store, offer, set(range(30)), 1.8)
    rate, loop_ms, _ = next_rate(*once, 7, at(1.3), 30, at(1.8))
    assert (updates.offer_of(VAN)["rate"], updates.offer_of(VAN)["loop_ms"]) == (rate, loop_ms)
    assert rate < 4 * measured[0] and loop_ms == 500


def test_a_fixed_window_is_min_equal_to_max(tmp_path, release):
    sent: list[int] = []
    store, updates, offer = _hub(tmp_path, release, sent, window=16, min_window=16)
    windows, _ = _simulate(updates, store, offer, sent, 2, seconds=10.0)
    assert set(windows) == {16}


# --- stalls, workers, migrations ---------------------------------------------------------------------------------


def test_a_stalled_window_goes_again_from_the_first_missing_chunk_in_the_smallest_window(tmp_path, release):
    sent: list[int] = []
    store, updates, offer = _hub(tmp_path, release, sent)
    assert updates.pump(VAN, now=T0) == MIN_WINDOW and sent == [0, 1, 2, 3]
    _report_to(store, offer, {0, 1}, 0.3)
    _report_to(store, offer, set(range(4)), 0.55)  # 2 chunks in 0.25 s: 524 kB/s, a window of 7
    assert (updates.offer_of(VAN)["rate"], updates.offer_of(VAN)["loop_ms"]) == (2 * CHUNK_SIZE * 4, 250)
    sent.clear()
    assert updates.pump(VAN, now=T0 + timedelta(seconds=0.6)) == 7 and sent == list(range(4, 11))
    # The link drops the window: nothing heard for longer than the stall time.
    sent.clear()
    assert updates.pump(VAN, now=T0 + timedelta(seconds=30.5)) == 0
    assert updates.pump(VAN, now=T0 + timedelta(seconds=31)) == MIN_WINDOW and sent == [4, 5, 6, 7]
    assert (updates.offer_of(VAN)["rate"], updates.offer_of(VAN)["loop_ms"]) == (0, 0)  # measured anew from here
    # The van holds them now: the rate is measured from the report before (a pause: it may only raise it) and the
    # transfer goes on from there.
    _report_to(store, offer, set(range(8)), 32.0)
    assert 0 < updates.offer_of(VAN)["rate"] < mbit(1)
    sent.clear()
    assert updates.pump(VAN, now=T0 + timedelta(seconds=32.1)) == MIN_WINDOW and sent == [8, 9, 10, 11]


def test_two_workers_never_send_the_same_window_whatever_its_size(tmp_path, release):
    sent_a: list[int] = []
    sent_b: list[int] = []
    store, a, offer = _hub(tmp_path, release, sent_a)
    b = Updates(HubStore(tmp_path / "hub.db"),
                lambda v, kind, payload: sent_b.append(p.decode_down(payload, van=v, kind=kind).message.seq))
    assert a.pump(VAN, now=T0) == MIN_WINDOW
    _report_to(store, offer, {0, 1}, 0.3)
    _report_to(store, offer, set(range(4)), 0.55)
    # Both workers read the offer (and its rate) before either sends: only one of them claims the next window.
    stale = a.offer_of(VAN)
    assert b.pump(VAN, now=T0 + timedelta(seconds=0.6)) == 7 and sent_b == list(range(4, 11))
    a.offer_of = lambda van: stale
    assert a.pump(VAN, now=T0 + timedelta(seconds=0.6)) == 0 and sent_a == [0, 1, 2, 3]
    b.store.close()


def test_a_worker_that_read_the_offer_before_a_report_sends_nothing_and_keeps_the_measurement(tmp_path, release):
    # The claim is also against the last report: a worker that sized its window from the offer as it was before a
    # report neither sends nor writes its stale rate over the one the report measured.
    sent: list[int] = []
    store, a, offer = _hub(tmp_path, release, sent)
    assert a.pump(VAN, now=T0) == MIN_WINDOW
    _report_to(store, offer, {0, 1}, 0.3)
    stale = a.offer_of(VAN)
    _report_to(store, offer, set(range(4)), 0.55)
    measured = (a.offer_of(VAN)["rate"], a.offer_of(VAN)["loop_ms"])
    assert measured == (2 * CHUNK_SIZE * 4, 250)
    a.offer_of = lambda van: stale
    assert a.pump(VAN, now=T0 + timedelta(seconds=0.6)) == 0 and sent == [0, 1, 2, 3]
    del a.offer_of
    assert (a.offer_of(VAN)["rate"], a.offer_of(VAN)["loop_ms"]) == measured


@pytest.mark.skipif(not gov_postgres.available(), reason="PostgreSQL server binaries or psycopg missing")
def test_two_workers_taking_reports_of_one_van_on_postgresql_measure_each_against_the_one_before(release):
    # On PostgreSQL two ingest workers may each take one of a van's reports at once. Each waits for the other's row
    # (a report reads what it measures from only once it holds the row): the later report is measured against the
    # earlier one, and holds what it says.
    cluster = gov_postgres.Cluster().start()
    try:
        url = cluster.create_database("window")
        sent: list[int] = []
        a = HubStore(url)
        updates = Updates(a, lambda v, kind, payload: sent.append(1))
        offer = updates.offer(VAN, release)
        with a.transaction() as conn:
            conn.execute("INSERT INTO vans (van, last_seen, online, telemetry) VALUES (?, ?, 1, ?)",
                         [VAN, T0.isoformat(), '{"outbox_pending": 0}'])
        _report_to(a, offer, {0, 1}, 0.3)
        b = HubStore(url)
        second = threading.Event()
        done = threading.Event()

        def later() -> None:
            second.set()
            with b.transaction() as conn:
                Updates.report(conn, VAN, _report(offer, set(range(8))), at(0.8))
            done.set()

        with a.transaction() as conn:
            Updates.report(conn, VAN, _report(offer, set(range(4))), at(0.55))
            worker = threading.Thread(target=later)
            worker.start()
            second.wait(5)
            time.sleep(0.5)  # the other worker is at the row now, and waits for it
            assert not done.is_set()
        worker.join(10)
        assert done.is_set()
        row = updates.offer_of(VAN)
        first = next_rate(0, 0, 2, at(0.3), 4, at(0.55))
        assert row["held"] == 8 and (row["rate"], row["loop_ms"]) == next_rate(*first[:2], 4, at(0.55), 8,
                                                                               at(0.8))[:2]
        b.close()
        a.close()
    finally:
        cluster.stop()


def test_an_offer_made_before_m014_starts_small(tmp_path, release, monkeypatch):
    before = [m for m in migrations.MIGRATIONS if m.name < "m014"]
    monkeypatch.setattr(migrations, "MIGRATIONS", before)
    monkeypatch.setattr(migrations, "LATEST", before[-1].version)
    old = HubStore(tmp_path / "hub.db")
    with old.transaction() as conn:
        conn.execute("INSERT INTO update_offers (van, bundle, folder, total, state, offered_at) VALUES (?, ?, ?, ?, "
                     "'offered', ?)", [VAN, "0" * 16, str(release), 10, T0.isoformat()])
    old.close()
    monkeypatch.undo()
    new = HubStore(tmp_path / "hub.db")
    try:
        assert {"m014_update_rate", "m015_update_sample"} <= set(new.migrated)
        assert (Updates(new).offer_of(VAN)["rate"], Updates(new).offer_of(VAN)["loop_ms"]) == (0, 0)
    finally:
        new.close()
