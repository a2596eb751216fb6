"""The hub's transaction helper (common/transaction.py, shared with the van) on SQLite and PostgreSQL: a nested
call is a savepoint, so a failure inside it undoes only its own work, and ingest's message-by-message retry
keeps every good message of a batch with one it fails on."""

from __future__ import annotations

import cbor2
import pytest

from governorate import quarantine
from tests.support.gov_support import BACKENDS, hub_copy, hub_template, offline_hub, van_requests


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
    project = hub._project

    def failing(conn, env, at):
        if env.msg_id == poisoned:
            raise ArithmeticError("injected")
        project(conn, env, at)

    monkeypatch.setattr(hub, "_project", failing)
    hub._process(messages)
    assert len([n for n in numbers if store.request(n)]) == 1
    (entry,) = quarantine.listing(store)
    assert entry["reason"] == "hub-error"
    assert store._read("SELECT count(*) FROM messages WHERE msg_id = ?", [poisoned])[0][0] == 0
    assert store.count() == len(messages) - 1
