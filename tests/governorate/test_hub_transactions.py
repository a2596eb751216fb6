"""The hub's transaction helper (common/transaction.py, shared with the van) on SQLite and PostgreSQL: a nested
call is a savepoint, so a failure inside it undoes only its own work, and ingest's message-by-message retry
keeps every good message of a batch with one it fails on."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import cbor2
import pytest
from ulid import ULID

from edge.sync import protocol as p
from governorate import admission, ingest, quarantine
from tests.support import gov_postgres
from tests.support.gov_support import BACKENDS, birth, hub_copy, hub_template, offline_hub, tel, van_requests
from tests.support.sync_harness import GOV


@pytest.fixture(scope="module", params=BACKENDS)
def template(request, tmp_path_factory):
    with hub_template(request.param, tmp_path_factory.mktemp("tx-template"), lambda _s: None) as made:
        yield made


@pytest.fixture
def store(tmp_path, template):
    with hub_copy(template, tmp_path) as s:
        yield s


def _vans(store) -> list[str]:
    return [row[0] for row in store._read("SELECT van FROM vans ORDER BY van")]


def _add(conn, van: str) -> None:
    conn.execute("INSERT INTO vans (van) VALUES (?)", [van])


def test_a_failed_nested_transaction_undoes_only_its_own_work(store):
    with store.transaction() as conn:
        _add(conn, "V001")
        with pytest.raises(RuntimeError), store.transaction():
            _add(conn, "V002")
            raise RuntimeError("inner fails")
        _add(conn, "V003")
    assert _vans(store) == ["V001", "V003"]


def test_a_failed_database_statement_in_a_nested_transaction_leaves_the_outer_one_usable(store):
    # On PostgreSQL an error aborts the whole transaction until the savepoint is rolled back.
    with store.transaction() as conn:
        _add(conn, "V001")
        with pytest.raises(Exception, match="(?i)unique|duplicate"), store.transaction():
            _add(conn, "V001")
        _add(conn, "V002")
    assert _vans(store) == ["V001", "V002"]


def test_nested_work_commits_with_the_outer_transaction_and_rolls_back_with_it(store):
    with store.transaction() as conn:
        with store.transaction():
            with store.transaction():
                _add(conn, "V001")
        _add(conn, "V002")
    assert _vans(store) == ["V001", "V002"]
    with pytest.raises(RuntimeError), store.transaction() as conn:
        with store.transaction():
            _add(conn, "V003")
        raise RuntimeError("outer fails")
    assert _vans(store) == ["V001", "V002"]
    assert not store.conn.in_transaction


def test_ingest_keeps_the_good_messages_of_a_batch_it_fails_on_once(store, tmp_path, monkeypatch):
    hub = offline_hub(store)
    numbers, messages = van_requests(tmp_path / "V008", "V008", 2)
    poisoned = next(cbor2.loads(m)["msg_id"] for _, m in messages if cbor2.loads(m)["kind"] == "request.submitted")
    request_row = ingest._request_row

    def failing(env, text, at):  # a fault injected into one message, as an unforeseen bug would be
        if env.msg_id == poisoned:  # on both paths: the batch's (which fails whole) and message by message
            raise ArithmeticError("injected")
        return request_row(env, text, at)

    monkeypatch.setattr(ingest, "_request_row", failing)
    hub._process(messages)
    assert len([n for n in numbers if store.request(n)]) == 1
    (entry,) = quarantine.listing(store)
    assert entry["reason"] == "hub-error"
    assert store._read("SELECT count(*) FROM messages WHERE msg_id = ?", [poisoned])[0][0] == 0
    assert store.count() == len(messages) - 1


# --- the batch's few statements, and their fallback message by message ------------------------------------


class _Acks:
    """What the hub publishes to the vans, recorded (the offline hub has no broker)."""

    def __init__(self, hub):
        self.sent: list[dict] = []
        hub.client.publish = lambda topic, payload, qos=0: self.sent.append(cbor2.loads(payload))

    def acked(self) -> list[str]:
        return sorted(i for m in self.sent if m["kind"] == "ack" for i in m["body"]["msg_ids"])

    def rejected(self) -> dict[str, str]:
        return {r["msg_id"]: r["reason"] for m in self.sent if m["kind"] == "ack" for r in m["body"]["rejected"]}


def _ids(messages) -> list[str]:
    return [cbor2.loads(payload)["msg_id"] for _, payload in messages]


def _submitted(messages, number: str):
    return next(m for m in messages if cbor2.loads(m[1])["kind"] == "request.submitted"
                and cbor2.loads(m[1])["body"]["number"] == number)


def _state(van: str, number: str, state: str, seq: int) -> tuple[str, bytes]:
    now = datetime.now(UTC).isoformat()
    env = p.Envelope(str(ULID()), van, "tx", seq, p.SCHEMA_VERSION, now, "request.state",
                     {"number": number, "state": state, "reason": "Withdrawn by the citizen.", "at": now})
    return p.up_topic(GOV, van, "tx"), p.encode(env)


def _again(message, **body_changes) -> tuple[str, bytes]:
    """The same request under a new message id (a van restored from a backup), with ``body_changes``."""
    topic, payload = message
    fields = cbor2.loads(payload)
    fields["body"].update(body_changes)
    fields["msg_id"] = str(ULID())
    return topic, p.encode(p.Envelope(**fields))


def _refuse_one_request(store, number: str) -> None:
    """A database that refuses one request's row (as a full disk, a constraint or a driver fault would)."""
    if store.dialect == "sqlite":
        store.conn.execute(f"CREATE TRIGGER refuse_one BEFORE INSERT ON requests WHEN NEW.number = '{number}' "
                           "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END")
    else:
        store.conn.execute("CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                           f"IF NEW.number = '{number}' THEN RAISE EXCEPTION 'refused by the database'; END IF; "
                           "RETURN NEW; END $$")
        store.conn.execute("CREATE TRIGGER refuse_one BEFORE INSERT ON requests FOR EACH ROW "
                           "EXECUTE FUNCTION refuse_one()")


def test_a_batch_with_a_message_the_database_refuses_keeps_and_acks_every_other_exactly_once(
        store, tmp_path, caplog):
    hub = offline_hub(store)
    acks = _Acks(hub)
    numbers8, messages8 = van_requests(tmp_path / "V008", "V008", 2)
    numbers9, messages9 = van_requests(tmp_path / "V009", "V009", 2)
    snapshot = tel("V008", {"outbox_pending": 3})
    batch = [*messages8, snapshot, *messages9]
    poisoned = cbor2.loads(_submitted(messages9, numbers9[1])[1])["msg_id"]
    _refuse_one_request(store, numbers9[1])
    hub._process(batch)
    # The batch's statements failed as a whole; it was then applied message by message.
    assert "applying it message by message" in caplog.text
    good = sorted(set(_ids(messages8 + messages9)) - {poisoned})
    assert acks.acked() == good  # each good one acked, once
    assert acks.rejected() == {poisoned: "hub-error"}
    (entry,) = quarantine.listing(store)
    assert entry["van"] == "V009" and entry["msg_key"] == poisoned and entry["reason"] == "hub-error"
    assert "refused by the database" in entry["detail"]
    assert store.count() == len(good)  # stored once; the refused one left nothing behind
    assert store._read("SELECT count(*) FROM messages WHERE msg_id = ?", [poisoned])[0][0] == 0
    assert [n for n in numbers8 + numbers9 if store.request(n)] == [*numbers8, numbers9[0]]
    assert store.van("V008")["telemetry"] == {"outbox_pending": 3}
    # The vans send again what they had no ack for, and everything once more: nothing is stored twice.
    acks.sent.clear()
    hub._process(batch)
    assert acks.acked() == good and store.count() == len(good)


def _contents(store) -> dict[str, list]:
    """What the ingest wrote, without the times of arrival (two runs differ in those only)."""
    queries = {
        "messages": "SELECT van, msg_id, stream, seq, kind, body, created_at FROM messages",
        "requests": "SELECT number, van, service_code, state, body, submitted_at FROM requests",
        "parked": "SELECT van, msg_id, number, seq, body FROM parked_states",
        "conflicts": "SELECT van, number, msg_id, detail FROM request_conflicts",
        "vans": "SELECT van, online, session, telemetry, telemetry_at, last_seen IS NOT NULL FROM vans",
        "history": 'SELECT van, at, "values" FROM telemetry_history',
        "quarantine": "SELECT van, msg_key, stream, kind, reason, detail FROM quarantine",
    }
    return {name: sorted(store._read(sql)) for name, sql in queries.items()}


def test_the_batch_writes_exactly_what_message_by_message_writes(store, template, tmp_path, monkeypatch):
    numbers8, messages8 = van_requests(tmp_path / "V008", "V008", 3)
    numbers9, messages9 = van_requests(tmp_path / "V009", "V009", 2)
    numbers10, messages10 = van_requests(tmp_path / "V010", "V010", 1)
    first8 = _submitted(messages8, numbers8[0])
    batches = [
        # requests of two vans, a message twice, telemetry, a birth, a refused snapshot, and a state change
        # for a request still on its way (it waits)
        [birth("V008"), *messages8, messages8[0], tel("V008", {"outbox_pending": 1}), *messages9,
         tel("V009", {"gps.lat": 1e9}), _state("V010", numbers10[0], "ready", 7)],
        # the request that was waited for, replays, a number sent again with other content and one with the
        # same content under a new id, a state change: every request once (the batch's own statements)
        [*messages10, *messages9, _again(first8, service_code="BLD-REN"),
         _again(_submitted(messages9, numbers9[0])), _state("V008", numbers8[1], "rejected", 9),
         tel("V008", {"outbox_pending": 2})],
        # one request named twice (the order matters: message by message inside the batch)
        [_state("V008", numbers8[2], "under_review", 10), _state("V008", numbers8[2], "ready", 11),
         _again(_submitted(messages8, numbers8[2]), service_code="BLD-REN")],
    ]
    (tmp_path / "one-by-one").mkdir()
    with hub_copy(template, tmp_path / "one-by-one") as other:
        results = []
        for target, batch_path in ((store, True), (other, False)):
            hub = offline_hub(target)
            acks = _Acks(hub)
            if not batch_path:  # the batch's statements fail at once: _process applies it message by message
                monkeypatch.setattr(hub, "_ingest_batch", lambda *a: (_ for _ in ()).throw(RuntimeError("off")))
            for batch in batches:
                hub._process(batch)
            results.append((_contents(target), acks.acked(), acks.rejected()))
    assert results[0] == results[1]
    # and that is what the protocol says:
    written, acked, rejected = results[0]
    records = [m for batch in batches for m in batch if "/up/tx" in m[0] or "/up/audit" in m[0]]
    assert acked == sorted(_ids(records))  # every one acked, replays again, each once per batch it came in
    assert sorted(row[1] for row in written["messages"]) == sorted(set(_ids(records)))  # stored once
    assert rejected == {} and len(written["quarantine"]) == 1  # the refused snapshot (no notice for telemetry)
    assert written["parked"] == []  # the state change waited for its request, and was applied
    states = {row[0]: row[3] for row in written["requests"]}
    assert (states[numbers10[0]], states[numbers8[1]], states[numbers8[2]]) == ("ready", "rejected", "ready")
    assert [(van, number) for van, number, *_ in written["conflicts"]] == sorted(
        [("V008", numbers8[0]), ("V008", numbers8[2])])
    assert written["vans"][0][:5] == ("V008", 1, 1, '{"outbox_pending": 2}', written["vans"][0][4])


def test_a_message_the_hub_cannot_even_read_is_refused_alone(store, tmp_path, monkeypatch, caplog):
    # The batch is decoded and checked before its transaction: a fault there (an unforeseen bug in the
    # checks) must not fail the whole batch for ever, only that message.
    hub = offline_hub(store)
    acks = _Acks(hub)
    numbers, messages = van_requests(tmp_path / "V008", "V008", 2)
    poisoned = cbor2.loads(_submitted(messages, numbers[0])[1])["msg_id"]
    check = admission.check

    def failing(stream, kind, created_at, body, now):
        if body.get("number") == numbers[0] and kind == "request.submitted":
            raise ArithmeticError("injected")
        return check(stream, kind, created_at, body, now)

    monkeypatch.setattr(admission, "check", failing)
    hub._process(messages)
    assert "could not be read" in caplog.text
    assert acks.acked() == sorted(set(_ids(messages)) - {poisoned})
    assert acks.rejected() == {poisoned: "hub-error"}
    assert [n for n in numbers if store.request(n)] == [numbers[1]]
    assert store.count() == len(messages) - 1


@contextlib.contextmanager
def _two_hubs(name: str):
    """Two hub processes' stores (two connections) on one new database of a PostgreSQL cluster of the test's own."""
    from governorate.store import HubStore

    cluster = gov_postgres.Cluster().start()
    try:
        url = cluster.create_database(name)
        a, b = HubStore(url), HubStore(url)
        try:
            yield a, b
        finally:
            a.close()
            b.close()
    finally:
        cluster.stop()


@pytest.mark.skipif(not gov_postgres.available(), reason="no PostgreSQL")
def test_removing_a_van_while_its_first_refused_message_is_stored_retires_it(tmp_path, monkeypatch):
    # Review L1: _refuse wrote the quarantine row before the van's row, so `vans remove` (which locks the van's row
    # first) saw a van with no history, removed it, and the refusal then added it back as heard from.
    import threading
    from collections import defaultdict

    from governorate import fleet

    with _two_hubs("race") as (a, b):
        fleet.register(a, ["V050"])
        hub = offline_hub(b)
        out = {}
        outcomes = defaultdict(lambda: ingest._Outcome([], [], {}, []))
        t = threading.Thread(target=lambda: out.setdefault("r", fleet.remove(a, ["V050"])))
        put = quarantine.put

        def put_then_remove(conn, **row):  # `vans remove` runs while the refusal is being stored
            put(conn, **row)
            t.start()
            t.join(1)

        monkeypatch.setattr(quarantine, "put", put_then_remove)
        with b.transaction() as conn:
            hub._refuse(conn, "V050", "01J", "tx", None, "schema", "x", b"\x00", datetime.now(UTC).isoformat(),
                        outcomes)
            assert t.is_alive()  # waits for the van's row
        t.join(10)
        assert (out["r"].removed, out["r"].retired) == ([], ["V050"]), out
        assert a._read("SELECT count(*) FROM quarantine WHERE van = 'V050'")[0][0] == 1


@pytest.mark.skipif(not gov_postgres.available(), reason="no PostgreSQL")
def test_a_command_sent_while_the_van_is_being_retired_is_refused(tmp_path, monkeypatch):
    # Review L2: backoffice.command checked the van before its transaction: a van retired meanwhile was sent it.
    import threading

    from governorate import backoffice, fleet

    with _two_hubs("race") as (a, b):
        hub = offline_hub(b)
        hub._process([birth("V007", 1), tel("V007", {"device.printer": "ok"})])
        retiring, go_on = threading.Event(), threading.Event()
        audit = fleet.audit

        def audit_then_wait(conn, *args):  # the retirement written, not committed yet
            audit(conn, *args)
            retiring.set()
            go_on.wait(10)

        monkeypatch.setattr(fleet, "audit", audit_then_wait)
        t = threading.Thread(target=fleet.remove, args=(a, ["V007"]))
        t.start()
        assert retiring.wait(10)
        threading.Timer(1, go_on.set).start()
        with pytest.raises(backoffice.OfficeError) as refused:
            backoffice.command(b, hub, "V007", "rebirth", {}, "amal")
        t.join(10)
        assert "retired" in refused.value.message_en
        assert b._read("SELECT count(*) FROM downlinks WHERE van = 'V007' AND kind = 'command'")[0][0] == 0


@pytest.mark.skipif(not gov_postgres.available(), reason="no PostgreSQL")
def test_vans_add_racing_the_birth_of_a_van_restored_while_retired_leaves_it_its_publications(tmp_path):
    # Review B: `vans add` read the van's row unlocked; the ingest worker's birth (restored while retired) found it
    # still retired and set session_back_at; `vans add` had decided "not restored" and queued nothing: the trust
    # list the van lost was never sent again.
    import threading
    import time

    from governorate import backoffice, fleet
    from tests.governorate.test_hub_presence import _applied, _status

    with _two_hubs("race") as (a, b):
        hub = offline_hub(a)
        hub._process([_status("birth", 57, 0)])
        backoffice.publish_trust_list(a, hub, b"revocation-list-v1", "amal")
        _applied(a, "trust-list")
        hub._process([_status("death", 57, 0)])
        fleet.remove(a, ["V007"])
        worker = offline_hub(b)
        sent: list[str] = []
        worker.client.publish = lambda topic, payload, qos=0: sent.append(topic)
        birth_thread = threading.Thread(target=lambda: worker._process([_status("birth", 40, 30)]))

        def on_back(conn, van):  # the restored van's birth is ingested while `vans add` runs
            queued = backoffice.queue_latest(conn, van)
            birth_thread.start()
            time.sleep(1.5)
            return queued

        fleet.register(a, ["V007"], on_back=on_back)
        birth_thread.join(30)
        waiting = a._read("SELECT count(*) FROM downlinks WHERE kind = 'trust-list' AND applied_at IS NULL")[0][0]
        assert waiting == 1 or any(t.endswith("/down/trust-list") for t in sent), (waiting, sent)


@pytest.mark.skipif(not gov_postgres.available(), reason="no PostgreSQL")
def test_vans_add_of_a_new_and_a_known_van_does_not_deadlock_with_a_batch_of_both(tmp_path):
    # Review: `vans add V002 V001` locked the known V002 first and inserted the new V001 later; a batch with V001's
    # first message and one of V002 inserted V001 and then waited for V002: PostgreSQL found a deadlock and aborted
    # `vans add`. Now one pass in the ingest's order locks or inserts each: the batch waits, neither fails.
    import threading
    import time

    from governorate import backoffice, fleet

    with _two_hubs("dl") as (a, b):
        offline_hub(a)._process([birth("V002", 1)])  # V002 known, in service
        worker = offline_hub(b)
        errors: list[BaseException] = []

        def ingest_both():
            try:
                worker._process([birth("V001", 1), birth("V002", 2)])  # V001's first message, V002's next
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        thread = threading.Thread(target=ingest_both)
        real = a.transaction

        class Proxy:  # starts the batch once `vans add` holds its rows, and lets it run into them
            def __init__(self, conn):
                self.conn = conn

            def execute(self, sql, args=()):
                if sql.startswith("SELECT van, retired_at") and not thread.is_alive():
                    thread.start()
                    time.sleep(1.5)
                return self.conn.execute(sql, args)

            def __getattr__(self, name):
                return getattr(self.conn, name)

        @contextlib.contextmanager
        def transaction():
            with real() as conn:
                yield Proxy(conn)

        a.transaction = transaction
        try:
            done = fleet.register(a, ["V002", "V001"], on_back=backoffice.queue_latest)
        finally:
            thread.join(30)
        assert not errors, errors
        assert (list(done), done.early) == (["V001"], [])
        assert a._read("SELECT van, last_seen IS NOT NULL, retired_at FROM vans ORDER BY van") == [
            ("V001", True, None), ("V002", True, None)]


def test_vans_add_is_retried_when_it_conflicts_with_an_ingest_worker(monkeypatch):
    # As the ingest's batch: a deadlock or serialization failure (PostgreSQL) undoes the whole transaction, which
    # is run again; any other failure is raised at once.
    from governorate import fleet

    class Conflict(Exception):
        sqlstate = "40P01"

    class Store:
        def retryable(self, exc):
            return getattr(exc, "sqlstate", None) in ("40P01", "40001")

    calls = []

    def register_once(store, vans, *_args):
        calls.append(vans)
        if len(calls) < 3:
            raise Conflict("deadlock detected")
        return fleet.Registered(vans, [], [])

    monkeypatch.setattr(fleet, "_register", register_once)
    assert list(fleet.register(Store(), ["V001"])) == ["V001"] and len(calls) == 3
    calls.clear()
    monkeypatch.setattr(fleet, "_register", lambda *_a: (_ for _ in ()).throw(ValueError("disk")))
    with pytest.raises(ValueError):
        fleet.register(Store(), ["V001"])
