"""The van–hub wire contract: every message survives the trip, and whatever does not match is refused with a reason.

Run as a script (``.venv/bin/python -m tests.sync.test_protocol``) it prints the example messages of
docs/protocol.md; ``test_doc_examples_are_what_the_code_writes`` keeps the two identical.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ulid import ULID

from edge.core import catalogue as catalogue_mod
from edge.core.requests import RequestNumber
from edge.store import clock, inbox, outbox
from edge.store import requests as store_requests
from edge.store import tickets as store_tickets
from edge.store.outbox import OutboxRow
from edge.sync import chunks
from edge.sync import protocol as p
from edge.sync.protocol import ProtocolError
from tests.support.paths import DOCS

DOC = DOCS / "protocol.md"
VAN, GOV = "V007", "01"
NOW = datetime(2026, 11, 21, 9, 15, 2, 123456, tzinfo=UTC)
AT = clock.iso(NOW)
NUMBER = str(RequestNumber(7, date(2026, 11, 21), 1))  # issued by V007
OTHER_VANS_NUMBER = str(RequestNumber(8, date(2026, 11, 21), 1))
SCAN = b"%PDF-1.4 scanned birth certificate, page 1 of 1 (example)"


def uid(n: int, at: datetime = NOW) -> str:
    """A fixed ULID, so examples and expected values do not change from run to run."""
    return str(ULID.from_bytes(int(at.timestamp() * 1000).to_bytes(6, "big") + n.to_bytes(10, "big")))


# --------------------------------------------------------------------------------------------------
# Example messages: one of each, as the van and the hub build them
# --------------------------------------------------------------------------------------------------


def submitted_body(van: str = VAN, number: str = NUMBER) -> dict:
    return {
        "number": number, "van": van, "service_code": "BLD-NEW", "catalogue_version": 1,
        "citizen": {"national_id": "29001010112355", "name": "منى أحمد حسن", "mobile": "01012345678",
                    "birth_date": "1990-01-01", "gender": "female"},
        "fee_piastres": 150000,
        "payment": {"method": "reference", "amount_piastres": 150000, "reference": "FWR8842197"},
        "operator": "operator:3", "submitted_at": AT, "expected_ready_on": "2026-12-21",
    }  # fmt: skip


def ticket_body() -> dict:
    return {
        "number": "A007", "series": "A", "seq": 7, "category": "BLD", "priority": "elderly", "state": "called",
        "issued_at": clock.iso(NOW - timedelta(minutes=12)), "called_at": AT, "counter": 2, "recalls": 0,
        "started_at": None, "finished_at": None, "transferred_to": None, "transferred_from": None,
    }  # fmt: skip


def audit_body() -> dict:
    return {
        "seq": 41, "at": AT, "actor": "operator:3", "action": "request.submit", "subject": NUMBER,
        "details": {"service": "BLD-NEW", "fee_piastres": 150000, "payment": "reference"},
        "prev_hash": hashlib.sha256(b"entry 40").hexdigest(), "hash": hashlib.sha256(b"entry 41").hexdigest(),
    }  # fmt: skip


def envelope(stream: str, kind: str, body: dict, seq: int = 1, n: int = 1) -> p.Envelope:
    return p.Envelope(uid(n), VAN, stream, seq, p.SCHEMA_VERSION, AT, kind, body)


def shift_body() -> dict:
    """A Z-report (issue 19) as edge.store.shifts.message writes it."""
    return {
        "van": VAN, "shift": 17, "operator": "operator:2", "counter": 2, "day": "2026-11-21",
        "opened_at": "2026-11-21T06:01:00+00:00", "closed_at": "2026-11-21T15:02:10+00:00", "closed_by": "operator:2",
        "opening_float_piastres": 50000, "received_from": None, "counted_cash_piastres": 167000,
        "expected_cash_piastres": 170000, "difference_piastres": -3000, "reason": "ورقة نقدية ممزقة",
        "confirmed_by": "operator:1", "handed_to": None,
        "totals": {"requests": 9, "fees": {"cash": 140000, "card": 40000, "reference": 0}, "cancellations": 1,
                   "refunds": {"cash": 20000, "card": 0, "reference": 0}, "refund_count": 1, "reprints": 2,
                   "tickets_served": 14, "no_shows": 3},
    }


def uplink_examples() -> list[p.Envelope]:
    chunk = chunks.chunk_document(uid(99), NUMBER, SCAN, chunk_size=16)[0]
    return [
        envelope("tx", "request.submitted", submitted_body(), seq=1201, n=1),
        envelope("tx", "request.state", {"number": NUMBER, "state": "delivered", "reason": None, "at": AT}, 1202, 2),
        envelope("tx", "ticket.call", ticket_body(), seq=1203, n=3),
        envelope("tx", "shift.closed", shift_body(), seq=1290, n=9),
        envelope("audit", "audit.entry", audit_body(), seq=41, n=4),
        envelope("doc", "doc.chunk", chunk, seq=88, n=5),
        envelope("tel", "tel.snapshot", {"at": AT, "values": {
            "backlog.pending": 12, "backlog.oldest_s": 340, "lte.rsrp_dbm": -97, "lte.operator": "Vodafone EG",
            "disk.free_mb": 48210, "cpu.temp_c": 61.5, "printer.online": True}}, seq=5120, n=6),
        envelope("tel", "tel.update", {"bundle": "8f3a1c09d2e47b65", "at": AT, "state": "receiving", "total": 1806,
                                       "held": 1340, "have": [[0, 1199], [1208, 1347]], "error": None},
                 seq=5121, n=10),
        p.birth(VAN, 57, now=NOW, msg_id=uid(7)),
        p.death(VAN, 57, now=NOW, msg_id=uid(8)),
    ]  # fmt: skip


def downlink_examples() -> list[tuple[p.DownMessage, str]]:
    return [
        (p.Ack((uid(1), uid(2), uid(3)), docs=(p.DocAck(uid(99), 2, "partial"),),
               rejected=(p.Rejected(uid(4), "bad-time"),)), uid(20)),
        (p.RequestStatus(NUMBER, "ready", None, AT), uid(21)),
        (p.Catalog(2, {"version": 2, "published": "2026-12-01", "documents": {}, "categories": [], "services": []}),
         uid(22)),
        (p.TrustList(b"-----BEGIN SIGNED TRUST LIST-----\n(example)\n"), uid(23)),
        (p.Command("upload-logs", {"since": "2026-11-20T00:00:00+00:00", "max_mb": 20}), uid(24)),
        (p.Calendar(2, 'version = 2\n\n[[fixed]]\nday = "01-07"\nname_ar = "عيد الميلاد المجيد"\n'
                       'name_en = "Coptic Christmas"\n\n[[movable]]\ndays = ["2027-03-10", "2027-03-11"]\n'
                       'name_ar = "عيد الفطر"\nname_en = "Eid al-Fitr"\n'), uid(25)),
        (p.UpdateChunk("8f3a1c09d2e47b65", 1805, 1806, 62, "tuf/timestamp.json", 0, 1, 17,
                       hashlib.sha256(b'{"signed": "..."}').hexdigest(), b'{"signed": "..."}',
                       hashlib.sha256(b'{"signed": "..."}').hexdigest()), uid(26)),
        (p.UpdateTarget("5be0a7d3e91c4f20", 3), uid(27)),
    ]  # fmt: skip


def encode_down(message: p.DownMessage, msg_id: str | None = None, van: str = VAN, now: datetime = NOW) -> bytes:
    return p.encode_down(message, van=van, msg_id=msg_id or uid(30), now=now)


def raw(fields: dict) -> bytes:
    """Bytes as a careless or hostile sender would make them: no validation on the way out."""
    return cbor2.dumps(fields)


def fields_of(env: p.Envelope) -> dict:
    return dict(vars(env))


# --------------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------------


def test_topics_name_governorate_van_direction_and_stream():
    assert p.up_topic(GOV, VAN, "tx") == "mtc/v1/01/V007/up/tx"
    assert p.down_topic(GOV, VAN, "request-status") == "mtc/v1/01/V007/down/request-status"
    assert p.hub_subscription("21") == "$share/hub/mtc/v1/21/+/up/#"
    assert p.van_subscription(GOV, VAN) == "mtc/v1/01/V007/down/#"


def test_every_topic_parses_back_to_what_built_it():
    for stream in p.STREAMS:
        assert p.parse_topic(p.up_topic("35", "V999", stream)) == p.Topic("35", "V999", "up", stream)
    for kind in p.DOWN_KINDS:
        topic = p.parse_topic(p.down_topic(GOV, VAN, kind))
        assert topic == p.Topic(GOV, VAN, "down", kind) and str(topic) == p.down_topic(GOV, VAN, kind)


@pytest.mark.parametrize("topic, reason", [
    ("mtc/v2/01/V007/up/tx", "bad-topic"),
    ("mtc/v1/01/V007/sideways/tx", "bad-topic"),
    ("mtc/v1/01/V007/up/tx/extra", "bad-topic"),
    ("mtc/v1/01/V007/up", "bad-topic"),
    ("mtc/v1/1/V007/up/tx", "bad-governorate"),
    ("mtc/v1/05/V007/up/tx", "bad-governorate"),  # two digits, but no such governorate
    ("mtc/v1/88/V007/up/tx", "bad-governorate"),  # "born abroad" is not a place a van belongs to
    ("mtc/v1/01/V000/up/tx", "bad-van-id"),
    ("mtc/v1/01/v007/up/tx", "bad-van-id"),
    ("mtc/v1/01/V0071/up/tx", "bad-van-id"),
    ("mtc/v1/01/+/up/tx", "bad-van-id"),
    ("mtc/v1/01/V007/up/video", "unknown-stream"),
    ("mtc/v1/01/V007/down/reboot", "unknown-kind"),
])  # fmt: skip
def test_topic_that_breaks_the_pattern_is_refused(topic, reason):
    with pytest.raises(ProtocolError) as err:
        p.parse_topic(topic)
    assert err.value.reason == reason


def test_topic_builders_refuse_what_parse_would_refuse():
    for call in (lambda: p.up_topic("01", "V007", "chat"), lambda: p.down_topic("01", "V7", "ack"),
                 lambda: p.hub_subscription("99")):  # fmt: skip
        with pytest.raises(ProtocolError):
            call()


# --------------------------------------------------------------------------------------------------
# Uplink: round trips
# --------------------------------------------------------------------------------------------------


def test_every_example_uplink_message_survives_the_trip():
    for env in uplink_examples():
        payload = p.encode(env)
        assert len(payload) <= p.MAX_MESSAGE_BYTES
        assert p.decode(payload, expected_van=VAN, expected_stream=env.stream) == env


def test_every_row_the_van_writes_to_its_outbox_fits_the_contract(db, catalogue, now):
    # The real business code, not hand-made bodies: what the van queues is what the hub accepts.
    number = store_requests.submit(
        db, van_id=VAN, catalogue=catalogue, service_code=catalogue.services[0].code,
        citizen=_citizen(), payment=_payment(catalogue), operator="operator:3", now=now,
    )  # fmt: skip
    store_requests.change_state(db, str(number), "ready", source="hub", now=now)
    store_requests.change_state(db, str(number), "delivered", source="van", actor="operator:3", now=now)
    a, b = catalogue.categories[0], catalogue.categories[1]
    t = store_tickets.issue(db, catalogue, a.code, "elderly", now=now).ticket
    store_tickets.issue(db, catalogue, a.code, now=now)
    store_tickets.call_next(db, 1, "operator:1", now=now)
    store_tickets.recall(db, t.number, "operator:1", now=now)
    store_tickets.start(db, t.number, "operator:1", now=now)
    store_tickets.finish(db, t.number, "operator:1", now=now)
    store_tickets.call_next(db, 1, "operator:1", now=now)
    store_tickets.transfer(db, catalogue, f"{a.ticket_series}002", b.code, "operator:1", now=now)
    rows = outbox.pending(db)
    assert {"request.submitted", "request.state", "audit.entry", "ticket.issued", "ticket.call",
            "ticket.recall", "ticket.start", "ticket.finish", "ticket.transferred"} <= {r.kind for r in rows}
    for row in rows:
        env = p.from_outbox_row(row, VAN)
        assert (env.msg_id, env.stream, env.seq, env.kind, env.body) == (row.msg_id, row.stream, row.seq, row.kind,
                                                                         row.body)  # fmt: skip
        assert p.decode(p.encode(env), expected_van=VAN, expected_stream=row.stream) == env


def _citizen():
    from edge.core.citizens import Citizen
    from edge.core.national_id import parse

    return Citizen(parse("29001010112355"), "منى أحمد حسن", "01012345678")


def _payment(catalogue):
    from edge.core.requests import Payment

    return Payment("cash", catalogue.services[0].fee_piastres)


def test_outbox_row_the_contract_does_not_know_is_not_sent():
    row = OutboxRow(1, uid(1), "tx", 1, "request.cancelled", {"number": NUMBER}, AT)
    with pytest.raises(ProtocolError) as err:
        p.from_outbox_row(row, VAN)
    assert err.value.reason == "unknown-kind"


def test_protocol_and_outbox_agree_on_the_streams():
    assert p.STREAMS == outbox.STREAMS


def test_enumerations_the_contract_borrows_from_core_are_pinned():
    # The schemas take these values from edge.core, so both ends agree; but a new value there is a new
    # version of the contract (an older hub would refuse it). When this fails, bump SCHEMA_VERSION.
    from edge.core.national_id import Gender
    from edge.core.requests import PaymentMethod, RequestState
    from edge.core.tickets import Priority, TicketState

    assert p.SCHEMA_VERSION == 5
    # A new kind is a new version too (3: shift.closed and the calendar downlink, issue 19; 4: update-chunk down and
    # tel.update up, issue 20; 5: update-target down, the cancel of a deferred release), and a downlink kind is
    # labelled with the version that added it.
    from edge.sync import schema

    assert {stream: sorted(kinds) for stream, kinds in schema.BODIES.items()} == {
        "tx": ["downlink.applied", "request.refunded", "request.state", "request.submitted", "shift.closed",
               "ticket.call", "ticket.finish", "ticket.issued", "ticket.no_show", "ticket.recall", "ticket.start",
               "ticket.transferred"],
        "audit": ["audit.entry"], "doc": ["doc.chunk"], "tel": ["tel.snapshot", "tel.thumbnail", "tel.update"],
        "status": ["status.birth", "status.death"]}
    assert {kind: p.DOWN_KIND_SINCE.get(kind, 1) for kind in p.DOWN_KINDS} == {
        "ack": 1, "request-status": 1, "catalog": 1, "trust-list": 1, "command": 1, "calendar": 3, "update-chunk": 4,
        "update-target": 5}
    assert {e.__name__: [m.value for m in e] for e in (Gender, PaymentMethod, RequestState, Priority, TicketState)} == {
        "Gender": ["male", "female"],
        "PaymentMethod": ["cash", "card", "reference"],
        "RequestState": ["draft", "submitted", "received", "under_review", "ready", "rejected", "delivered",
                         "cancelled"],
        "Priority": ["none", "elderly", "disabled", "pregnant"],
        "TicketState": ["waiting", "called", "serving", "done", "no_show", "transferred"],
    }


# --------------------------------------------------------------------------------------------------
# Uplink: what is refused, and why
# --------------------------------------------------------------------------------------------------

GOOD = fields_of(envelope("tx", "request.submitted", submitted_body()))


def _with(**changes) -> bytes:
    return raw(GOOD | changes)


def _without(name: str) -> bytes:
    return raw({k: v for k, v in GOOD.items() if k != name})


def _body_with(**changes) -> bytes:
    return raw(GOOD | {"body": GOOD["body"] | changes})


def _citizen_without(name: str) -> bytes:
    citizen = {k: v for k, v in GOOD["body"]["citizen"].items() if k != name}
    return raw(GOOD | {"body": GOOD["body"] | {"citizen": citizen}})


REFUSALS = {
    "json instead of cbor": (json.dumps({"msg_id": uid(1)}).encode(), "malformed"),
    "empty payload": (b"", "malformed"),
    "truncated": (raw(GOOD)[:-3], "malformed"),
    "bytes after the message": (raw(GOOD) + b"\x00", "malformed"),
    "a list, not a map": (cbor2.dumps(list(GOOD.values())), "malformed"),
    "a CBOR date tag": (_with(created_at=NOW), "malformed"),
    "a CBOR set tag": (_body_with(fee_piastres={1, 2}), "malformed"),
    "duplicate keys": (b"\xa2" + cbor2.dumps("seq")[0:4] + b"\x01" + cbor2.dumps("seq")[0:4] + b"\x02", "malformed"),
    "indefinite-length map": (b"\xbf" + cbor2.dumps("seq") + b"\x01\xff", "malformed"),
    "oversize": (b"\x00" * (p.MAX_MESSAGE_BYTES + 1), "oversize"),
    "missing seq": (_without("seq"), "missing-field"),
    "extra field": (_with(priority=1), "extra-field"),
    "seq as text": (_with(seq="1"), "bad-type"),
    "seq as bool": (_with(seq=True), "bad-type"),
    "body not a map": (_with(body=[1, 2]), "bad-type"),
    "msg_id not a ULID": (_with(msg_id="not-a-ulid-at-all-0000000X"), "bad-msg-id"),
    "msg_id lower case": (_with(msg_id=uid(1).lower()), "bad-msg-id"),
    "schema from the future": (_with(schema=p.SCHEMA_VERSION + 1, trace="x"), "schema-too-new"),
    "schema zero": (_with(schema=0), "bad-value"),
    "envelope for another van": (_with(van="V008"), "wrong-van"),
    "van id malformed": (_with(van="V7"), "bad-van-id"),
    "stream other than the topic's": (_with(stream="audit"), "wrong-stream"),
    "unknown stream": (_with(stream="video"), "unknown-stream"),
    "seq zero": (_with(seq=0), "bad-seq"),
    "created_at in Cairo time": (_with(created_at="2026-11-21T11:15:02+02:00"), "bad-time"),
    "created_at without zone": (_with(created_at="2026-11-21T09:15:02"), "bad-time"),
    "created_at not a time": (_with(created_at="yesterday"), "bad-time"),
    "unknown kind": (_with(kind="request.cancelled"), "unknown-kind"),
    "kind of another stream": (_with(kind="audit.entry"), "unknown-kind"),
    "request number of another van": (_body_with(number=OTHER_VANS_NUMBER), "wrong-van"),
    "body names another van": (_body_with(van="V008"), "wrong-van"),
    "request number with a typo": (_body_with(number="007-261121-0001-4"), "bad-value"),
    "citizen without name": (_citizen_without("name"), "missing-field"),
    "fee negative": (_body_with(fee_piastres=-1), "bad-value"),
    "expected date not a date": (_body_with(expected_ready_on="2026-02-30"), "bad-time"),
}


@pytest.mark.parametrize("payload, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_uplink_that_does_not_match_is_refused_with_its_reason(payload, reason):
    with pytest.raises(ProtocolError) as err:
        p.decode(payload, expected_van=VAN, expected_stream="tx")
    assert err.value.reason == reason
    assert err.value.code == f"protocol-{reason}" and err.value.detail.startswith(reason)


def test_refusal_is_an_edge_error_that_can_be_shown_and_logged():
    with pytest.raises(ProtocolError) as err:
        p.decode(_with(van="V008"), expected_van=VAN, expected_stream="tx")
    shown = err.value.as_dict()
    assert shown["code"] == "protocol-wrong-van" and shown["ar"] and shown["en"]
    assert "V008" in shown["detail"] and "منى" not in shown["detail"]  # no citizen data in logs


def test_body_refusals_name_the_field_but_not_its_content():
    with pytest.raises(ProtocolError) as err:
        p.decode(raw(GOOD | {"body": GOOD["body"] | {"citizen": GOOD["body"]["citizen"] | {"national_id": "2900"}}}),
                 expected_van=VAN, expected_stream="tx")  # fmt: skip
    assert "body.citizen.national_id" in err.value.detail and "2900" not in err.value.detail


@pytest.mark.parametrize("stream, kind, body, reason", [
    ("tel", "tel.snapshot", {"at": AT, "values": {"cpu.temp_c": float("nan")}}, "bad-value"),
    ("tel", "tel.snapshot", {"at": AT, "values": {"Bad Key": 1}}, "bad-value"),
    ("tel", "tel.snapshot", {"at": AT, "values": {"nested": {"a": 1}}}, "bad-type"),
    ("tel", "tel.snapshot", {"values": {}}, "missing-field"),
    ("status", "status.birth", {"session": 3, "online": False, "schema": 1}, "bad-value"),
    ("status", "status.death", {"session": 0, "online": False, "schema": 1}, "bad-value"),
    ("audit", "audit.entry", audit_body() | {"hash": "ABC"}, "bad-value"),
    ("tx", "ticket.call", ticket_body() | {"state": "lost"}, "bad-value"),
    ("tx", "ticket.call", ticket_body() | {"number": "7A"}, "bad-value"),
])  # fmt: skip
def test_bodies_of_other_streams_are_checked_too(stream, kind, body, reason):
    with pytest.raises(ProtocolError) as err:
        p.decode(raw(fields_of(envelope(stream, kind, body))), expected_van=VAN, expected_stream=stream)
    assert err.value.reason == reason


def test_sender_cannot_encode_what_the_receiver_would_refuse():
    bad = envelope("tx", "request.submitted", submitted_body(number=OTHER_VANS_NUMBER))
    with pytest.raises(ProtocolError) as err:
        p.encode(bad)
    assert err.value.reason == "wrong-van"
    with pytest.raises(ProtocolError) as err:
        p.encode(replace(envelope("tel", "tel.snapshot", {"at": AT, "values": {}}), created_at="now"))
    assert err.value.reason == "bad-time"


def test_missing_topic_check_is_a_deliberate_choice_for_tools_only():
    payload = p.encode(envelope("tx", "request.submitted", submitted_body()))
    assert p.decode(payload, expected_van=None, expected_stream=None).van == VAN
    with pytest.raises(ProtocolError):
        p.decode(payload, expected_van="V008", expected_stream=None)


# --------------------------------------------------------------------------------------------------
# Whatever arrives, decoding fails only with ProtocolError
# --------------------------------------------------------------------------------------------------

_cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**64), max_value=2**64 - 1) | st.floats()
    | st.text(max_size=30) | st.binary(max_size=30),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=12) | st.integers(), inner, max_size=6),
    max_leaves=30,
)  # fmt: skip


def _decoders(payload: bytes) -> None:
    for call in (
        lambda: p.decode(payload, expected_van=VAN, expected_stream="tx"),
        lambda: p.decode(payload, expected_van=None, expected_stream=None),
        lambda: p.decode_down(payload, van=VAN, kind="ack", now=NOW),
        lambda: p.decode_down(payload, van=VAN, kind="command", now=NOW),
    ):
        try:
            call()
        except ProtocolError:
            pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_protocol_error(payload):
    _decoders(payload)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_cbor_values)
def test_arbitrary_cbor_raises_only_protocol_error(value):
    _decoders(cbor2.dumps(value))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_real_messages_raise_only_protocol_error(data):
    env = data.draw(st.sampled_from(uplink_examples()))
    payload = bytearray(p.encode(env))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(payload) - 1))
        payload[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(payload)))
    _decoders(bytes(payload[:cut]))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_real_messages_with_one_field_replaced_raise_only_protocol_error(data):
    fields = fields_of(data.draw(st.sampled_from(uplink_examples())))
    key = data.draw(st.sampled_from(sorted(fields)))
    fields[key] = data.draw(_cbor_values)
    if isinstance(fields["body"], dict) and fields["body"]:
        inner = data.draw(st.sampled_from(sorted(fields["body"], key=str)))
        fields["body"] = fields["body"] | {inner: data.draw(_cbor_values)}
    _decoders(cbor2.dumps(fields))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_downlinks_with_one_field_replaced_raise_only_protocol_error(data):
    message, msg_id = data.draw(st.sampled_from(downlink_examples()))
    fields = cbor2.loads(encode_down(message, msg_id))
    key = data.draw(st.sampled_from(sorted(fields)))
    fields[key] = data.draw(_cbor_values)
    if isinstance(fields["body"], dict) and fields["body"]:
        inner = data.draw(st.sampled_from(sorted(fields["body"], key=str)))
        fields["body"] = fields["body"] | {inner: data.draw(_cbor_values)}
    try:
        p.decode_down(cbor2.dumps(fields), van=VAN, kind=message.kind, now=NOW)
    except ProtocolError:
        pass


# --------------------------------------------------------------------------------------------------
# Downlink
# --------------------------------------------------------------------------------------------------


def test_every_downlink_kind_survives_the_trip():
    for message, msg_id in downlink_examples():
        down = p.decode_down(encode_down(message, msg_id), van=VAN, kind=message.kind, now=NOW)
        assert down == p.Downlink(msg_id, VAN, message.kind, p.down_schema(message), AT, message)


def test_the_whole_catalogue_goes_down_in_one_message(catalogue):
    data = catalogue_mod.to_dict(catalogue)
    payload = encode_down(p.Catalog(catalogue.version, data))
    assert len(payload) < p.MAX_MESSAGE_BYTES // 4
    down = p.decode_down(payload, van=VAN, kind="catalog")
    assert catalogue_mod.from_dict(down.message.data) == catalogue


def test_one_ack_covers_a_full_batch():
    ids = tuple(uid(i) for i in range(p.MAX_ACK_IDS))
    payload = encode_down(p.Ack(ids))
    assert p.decode_down(payload, van=VAN, kind="ack").message.msg_ids == ids
    with pytest.raises(ProtocolError) as err:
        encode_down(p.Ack((*ids, uid(p.MAX_ACK_IDS))))
    assert err.value.reason == "bad-value"


GOOD_DOWN = json.loads(json.dumps({"msg_id": uid(20), "van": VAN, "kind": "request-status", "schema": 1,
                                   "created_at": AT, "body": vars(p.RequestStatus(NUMBER, "ready", None, AT))}))


def _down_with(**changes) -> bytes:
    return raw(GOOD_DOWN | changes)


DOWN_REFUSALS = {
    "for another van": (_down_with(van="V008"), "request-status", "wrong-van"),
    "request of another van": (_down_with(body=GOOD_DOWN["body"] | {"number": OTHER_VANS_NUMBER}), "request-status",
                               "wrong-van"),
    "on another kind's topic": (_down_with(), "command", "wrong-kind"),
    "unknown kind": (_down_with(kind="reboot"), "request-status", "unknown-kind"),
    "oversize": (b"\xa0" * (p.MAX_MESSAGE_BYTES + 1), "request-status", "oversize"),
    "malformed": (b"\xff\xfe", "request-status", "malformed"),
    "missing body": (raw({k: v for k, v in GOOD_DOWN.items() if k != "body"}), "request-status", "missing-field"),
    "schema from the future": (_down_with(schema=9), "request-status", "schema-too-new"),
    "unknown state": (_down_with(body=GOOD_DOWN["body"] | {"state": "lost"}), "request-status", "bad-value"),
    "stale replay": (_down_with(created_at=clock.iso(NOW - timedelta(days=61))), "request-status", "stale"),
    "dated ahead": (_down_with(created_at=clock.iso(NOW + timedelta(hours=1))), "request-status", "from-future"),
    "empty ack": (raw(GOOD_DOWN | {"kind": "ack", "body": {"msg_ids": [], "docs": [], "rejected": []}}), "ack",
                  "bad-value"),
    "ack of a non-ULID": (raw(GOOD_DOWN | {"kind": "ack", "body": {"msg_ids": ["x"], "docs": [], "rejected": []}}),
                          "ack", "bad-value"),
    "catalog versions disagree": (raw(GOOD_DOWN | {"kind": "catalog", "body": {"version": 3, "data": {"version": 2}}}),
                                  "catalog", "bad-value"),
    "trust list as text": (raw(GOOD_DOWN | {"kind": "trust-list", "body": {"blob": "abc"}}), "trust-list", "bad-type"),
    "command with odd name": (raw(GOOD_DOWN | {"kind": "command", "body": {"name": "Reboot Now", "args": {}}}),
                              "command", "bad-value"),
}  # fmt: skip


@pytest.mark.parametrize("payload, kind, reason", DOWN_REFUSALS.values(), ids=DOWN_REFUSALS.keys())
def test_downlink_that_does_not_match_is_refused_with_its_reason(payload, kind, reason):
    with pytest.raises(ProtocolError) as err:
        p.decode_down(payload, van=VAN, kind=kind, now=NOW)
    assert err.value.reason == reason


def test_old_acks_and_catalogues_are_not_stale_because_replaying_them_changes_nothing():
    old = NOW - timedelta(days=400)
    for message, _ in downlink_examples():
        payload = encode_down(message, now=old)
        if message.kind in p.FRESHNESS_CHECKED:
            with pytest.raises(ProtocolError):
                p.decode_down(payload, van=VAN, kind=message.kind, now=NOW)
        else:
            assert p.decode_down(payload, van=VAN, kind=message.kind, now=NOW).message == message


def test_replayed_downlink_changes_nothing_on_the_van(db):
    payload = encode_down(p.Command("upload-logs", {}), uid(40))
    applied = []
    outcomes = []
    for _ in range(2):
        down = p.decode_down(payload, van=VAN, kind="command", now=NOW)
        outcomes.append(inbox.apply_once(db, down.msg_id, down.kind, lambda db: applied.append(1), now=NOW))
    assert outcomes == ["applied", "duplicate"] and applied == [1]


# --------------------------------------------------------------------------------------------------
# Documents in chunks
# --------------------------------------------------------------------------------------------------


def test_document_is_cut_into_chunks_of_64_kib():
    data = random.Random(1).randbytes(150_000)
    bodies = chunks.chunk_document(uid(99), NUMBER, data)
    assert [len(b["data"]) for b in bodies] == [65536, 65536, 150_000 - 2 * 65536]
    assert {(b["count"], b["size"], b["sha256"]) for b in bodies} == {(3, 150_000, hashlib.sha256(data).hexdigest())}
    assert all(b["chunk_sha256"] == hashlib.sha256(b["data"]).hexdigest() for b in bodies)
    assert b"".join(b["data"] for b in bodies) == data


def test_full_chunk_fits_in_one_message_with_room_to_spare():
    body = chunks.chunk_document(uid(99), NUMBER, bytes(p.CHUNK_SIZE))[0]
    assert len(p.encode(envelope("doc", "doc.chunk", body))) < p.MAX_MESSAGE_BYTES // 2


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(1, 3000), chunk_size=st.integers(1, 700), seed=st.integers(0, 2**32))
def test_hub_puts_a_document_together_from_shuffled_and_repeated_chunks(size, chunk_size, seed):
    rng = random.Random(seed)
    data = rng.randbytes(size)
    bodies = chunks.chunk_document(uid(99), NUMBER, data, chunk_size=chunk_size)
    arriving = bodies + rng.sample(bodies, k=min(len(bodies), 3))  # some come twice
    rng.shuffle(arriving)
    doc = chunks.Reassembly(VAN, uid(99))
    seen = set()
    for body in arriving:
        assert doc.add(body) is (body["index"] not in seen)
        seen.add(body["index"])
        expected = -1
        while expected + 1 in seen:
            expected += 1
        assert doc.highest_contiguous() == expected
        assert doc.complete() is (len(seen) == len(bodies))
    assert doc.result() == data
    assert doc.progress() == p.DocAck(uid(99), len(bodies) - 1, "complete")


def test_corrupted_chunk_is_refused_and_nothing_of_it_is_kept():
    bodies = chunks.chunk_document(uid(99), NUMBER, SCAN, chunk_size=16)
    doc = chunks.Reassembly(VAN, uid(99))
    doc.add(bodies[0])
    damaged = bodies[1] | {"data": b"X" + bodies[1]["data"][1:]}
    with pytest.raises(ProtocolError) as err:
        doc.add(damaged)
    assert err.value.reason == "chunk-hash-mismatch"
    assert doc.highest_contiguous() == 0 and doc.progress().state == "partial"
    for body in bodies[1:]:
        doc.add(body)
    assert doc.result() == SCAN


def test_consistently_forged_chunk_is_caught_by_the_document_hash():
    bodies = chunks.chunk_document(uid(99), NUMBER, SCAN, chunk_size=16)
    forged = b"Y" * len(bodies[1]["data"])
    bodies[1] = bodies[1] | {"data": forged, "chunk_sha256": hashlib.sha256(forged).hexdigest()}
    doc = chunks.Reassembly(VAN, uid(99))
    for body in bodies:
        doc.add(body)
    assert doc.complete() and doc.progress() == p.DocAck(uid(99), len(bodies) - 1, "hash-mismatch")
    with pytest.raises(ProtocolError) as err:
        doc.result()
    assert err.value.reason == "hash-mismatch"


def test_chunks_that_contradict_each_other_are_refused():
    bodies = chunks.chunk_document(uid(99), NUMBER, SCAN, chunk_size=16)
    doc = chunks.Reassembly(VAN, uid(99))
    doc.add(bodies[0])
    other = chunks.chunk_document(uid(98), NUMBER, SCAN, chunk_size=16)[1]
    resized = chunks.chunk_document(uid(99), NUMBER, SCAN, chunk_size=8)[1]  # same document, other chunk size
    changed = chunks.chunk_document(uid(99), NUMBER, SCAN[:-1] + b"!", chunk_size=16)[0]  # index 0 again, new data
    for body in (other, resized, changed):
        with pytest.raises(ProtocolError) as err:
            doc.add(body)
        assert err.value.reason == "chunk-mismatch"
    with pytest.raises(ProtocolError) as err:
        doc.result()
    assert err.value.reason == "incomplete"


def test_van_cannot_send_a_document_for_another_vans_request():
    body = chunks.chunk_document(uid(99), OTHER_VANS_NUMBER, SCAN)[0]
    with pytest.raises(ProtocolError) as err:
        chunks.Reassembly(VAN, uid(99)).add(body)
    assert err.value.reason == "wrong-van"


def test_chunk_ids_are_the_same_every_time_so_a_resent_chunk_is_a_repeat():
    doc_msg = uid(50)
    ids = [chunks.chunk_msg_id(doc_msg, i) for i in range(100)]
    assert ids == [chunks.chunk_msg_id(doc_msg, i) for i in range(100)] and len(set(ids)) == 100
    assert all(ULID.from_str(i).timestamp == ULID.from_str(doc_msg).timestamp for i in ids)
    assert doc_msg not in ids


def test_van_resumes_a_document_after_a_cut_from_the_hubs_progress():
    data = random.Random(2).randbytes(200_000)
    row = OutboxRow(9, uid(50), "doc", 88, "doc.document",
                    {"doc_id": uid(99), "request_number": NUMBER, "sha256": hashlib.sha256(data).hexdigest()}, AT)
    first = list(chunks.chunk_envelopes(row, VAN, data))
    hub = chunks.Reassembly(VAN, uid(99))
    for env in first[:2]:  # then the link drops
        hub.add(p.decode(p.encode(env), expected_van=VAN, expected_stream="doc").body)
    progress = hub.progress()
    assert progress == p.DocAck(uid(99), 1, "partial")
    rest = list(chunks.chunk_envelopes(row, VAN, data, start=progress.highest_contiguous + 1))
    assert rest == first[2:] and [e.body["index"] for e in rest] == [2, 3]
    assert {(e.seq, e.created_at, e.kind) for e in first} == {(88, AT, "doc.chunk")}
    for env in rest:
        hub.add(p.decode(p.encode(env), expected_van=VAN, expected_stream="doc").body)
    assert hub.result() == data and hub.progress().state == "complete"


def test_file_changed_since_it_was_queued_is_not_sent():
    row = OutboxRow(9, uid(50), "doc", 88, "doc.document",
                    {"doc_id": uid(99), "request_number": NUMBER, "sha256": hashlib.sha256(SCAN).hexdigest()}, AT)
    with pytest.raises(ProtocolError) as err:
        chunks.chunk_envelopes(row, VAN, SCAN + b"tampered")  # refused at the call, before any chunk
    assert err.value.reason == "hash-mismatch"


def test_documents_have_limits():
    for data, chunk_size, reason in ((b"", 16, "bad-value"), (SCAN, p.CHUNK_SIZE + 1, "bad-value"),
                                     (bytes(p.MAX_DOCUMENT_BYTES + 1), p.CHUNK_SIZE, "too-large")):  # fmt: skip
        with pytest.raises(ProtocolError) as err:
            chunks.chunk_document(uid(99), NUMBER, data, chunk_size)
        assert err.value.reason == reason


# --------------------------------------------------------------------------------------------------
# Sessions and the last will
# --------------------------------------------------------------------------------------------------


def test_birth_and_will_carry_the_session_counter():
    b, d = p.birth(VAN, 57, now=NOW), p.death(VAN, 57, now=NOW)
    assert (b.stream, b.kind, b.seq, b.body) == ("status", "status.birth", 57, {"session": 57, "online": True,
                                                                                 "schema": p.SCHEMA_VERSION})
    assert (d.kind, d.body["online"], d.body["session"]) == ("status.death", False, 57)
    for env in (b, d):
        assert p.decode(p.encode(env), expected_van=VAN, expected_stream="status") == env


def test_late_will_of_an_old_session_cannot_mark_a_reconnected_van_offline():
    online_58 = p.Presence.of(p.birth(VAN, 58))
    assert not p.is_newer_session(online_58, p.Presence.of(p.death(VAN, 57)))
    assert p.is_newer_session(online_58, p.Presence.of(p.death(VAN, 58)))


@pytest.mark.parametrize("current, incoming, applies", [
    (None, (1, True), True),
    ((3, True), (4, True), True),  # reconnected
    ((3, False), (4, True), True),
    ((3, True), (3, False), True),  # this session ended
    ((3, True), (3, True), False),  # the same birth again (retained, redelivered)
    ((3, False), (3, True), False),  # a birth processed after its own will: the session is over
    ((3, False), (3, False), False),
    ((4, True), (3, False), False),  # the late will
    ((4, True), (3, True), False),
])  # fmt: skip
def test_session_rule(current, incoming, applies):
    now = p.Presence(*current) if current else None
    assert p.is_newer_session(now, p.Presence(*incoming)) is applies


# --------------------------------------------------------------------------------------------------
# docs/protocol.md cannot drift from the code
# --------------------------------------------------------------------------------------------------


def example_blocks() -> list[str]:
    blocks = [p.to_json(p.encode(env)) for env in uplink_examples()]
    blocks += [p.to_json(encode_down(message, msg_id)) for message, msg_id in downlink_examples()]
    return blocks


def _doc_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_doc_examples_decode_with_the_right_validator():
    up, down = set(), set()
    for block in _doc_blocks():
        payload = p.from_json(block)
        shown = json.loads(block)
        if "stream" in shown:
            env = p.decode(payload, expected_van=shown["van"], expected_stream=shown["stream"])
            up.add((env.stream, env.kind))
        else:
            down.add(p.decode_down(payload, van=shown["van"], kind=shown["kind"]).kind)
    assert {s for s, _ in up} == set(p.STREAMS)
    assert {"request.submitted", "request.state", "audit.entry", "doc.chunk", "tel.snapshot", "status.birth",
            "status.death"} <= {k for _, k in up}  # fmt: skip
    assert down == set(p.DOWN_KINDS)


def test_doc_examples_are_what_the_code_writes():
    assert _doc_blocks() == example_blocks(), "regenerate them: .venv/bin/python -m tests.sync.test_protocol"


def wire_sizes() -> dict[str, int]:
    """The figures behind the choice of CBOR, as quoted in docs/protocol.md."""
    tx = envelope("tx", "request.submitted", submitted_body())
    data = random.Random(3).randbytes(p.CHUNK_SIZE)
    chunk = envelope("doc", "doc.chunk", chunks.chunk_document(uid(99), NUMBER, data)[0])

    def as_json(env: p.Envelope) -> int:
        fields = fields_of(env)
        if "data" in env.body:
            fields["body"] = env.body | {"data": base64.b64encode(env.body["data"]).decode("ascii")}
        return len(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    return {
        "tx body json": len(json.dumps(tx.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")),
        "tx json": as_json(tx), "tx cbor": len(p.encode(tx)),
        "chunk json": as_json(chunk), "chunk cbor": len(p.encode(chunk)),
    }  # fmt: skip


def test_doc_quotes_the_measured_sizes():
    text = DOC.read_text(encoding="utf-8")
    for name, size in wire_sizes().items():
        assert f"{size:,}" in text, f"docs/protocol.md should quote {name} = {size:,} bytes"


if __name__ == "__main__":
    for block in example_blocks():
        print(f"```json\n{block}\n```\n")
    print(wire_sizes())
