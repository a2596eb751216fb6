"""Hypothesis strategies for whatever a van may send its governorate hub (issue #15, hub boundary fuzzing).

Every (stream, kind) of the uplink schema is generated, the list taken from ``edge.sync.schema.BODIES``
so that a kind added later is fuzzed too (``SPECS`` must describe it: a test fails until it does).
Each message is one of:

* ``valid``: a body of the kind's schema whose values lean on the limits: texts of exactly the maximum
  length, integers at both ends of their range, times in year 1 and 9999 and around now, dates at
  their limits, blobs of the maximum size, telemetry figures at the edge of the hub's ranges. These
  pass the wire schema; the hub's admission rules (``governorate.admission``) may still refuse them.
* ``past-limit``: one field just past its limit (one character too many, one past the range, a time
  without its UTC offset, a request number with a wrong check digit …).
* ``wrong-type``, ``missing-field``, ``extra-field``, ``not-a-map``: structurally broken bodies.
* ``rule``: a body that breaks a rule spanning fields (another van named in the body, a request
  number issued by another van, a chunk whose hash does not match, a birth that says offline …).
* envelope faults: a bad msg_id / seq / kind, schema version too new or too old, another van in the
  envelope than on the topic, another stream on the topic, missing or extra envelope fields.
* payload faults: truncated CBOR, invalid UTF-8, bytes after the message, a CBOR tag, duplicate keys,
  indefinite lengths, oversize, random bytes, a topic naming no stream.
* ``replay``: a message, then another with the same msg_id and other content.

``Sent.schema_ok`` says, by construction, whether the message passes the wire schema; ``verdict`` is
what the hub should decide (wire schema, then admission), computed with the hub's own checks; a test
checks that the two agree, so neither the strategies nor the schema drift unnoticed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import cbor2
from hypothesis import strategies as st
from ulid import ULID

from edge.core import requests as rq
from edge.core.localtime import VAN_TZ
from edge.sync import protocol as p
from edge.sync import schema
from governorate import admission

GOV = "01"
KINDS: tuple[tuple[str, str], ...] = tuple((s, k) for s, kinds in schema.BODIES.items() for k in kinds)
MAX_DOC = schema.MAX_DOCUMENT_BYTES

# --- the values of one field: at the limits, past them, of another type ------------------------------------

Strat = Callable[[str], st.SearchStrategy]  # van → values (request numbers belong to a van)
NONE = type(None)
WRONG_TYPES = (None, True, False, 0, -1, 2**63 - 1, 1.5, float("nan"), "", "x", "2024-01-01", b"", b"\x00",
               [], [1, "a"], {}, {"a": 1})


@dataclass(frozen=True)
class Field:
    ok: Strat  # schema-valid values, biased to the limits
    past: Strat | None  # values of an accepted type just past a limit (schema refuses)
    types: tuple[type, ...]  # the Python types the field accepts (exactly: bool is not int)
    calm: Strat | None = None  # values the hub also admits (times and dates it finds plausible), if narrower

    def admitted(self) -> Strat:
        return self.calm or self.ok

    def wrong(self) -> st.SearchStrategy:
        return st.sampled_from([v for v in WRONG_TYPES if type(v) not in self.types])


def _const(*values) -> Strat:
    return lambda van: st.sampled_from(values)


def _mix(*strats: Strat) -> Strat:
    return lambda van: st.one_of(*(s(van) for s in strats))


def _now_plus(offsets: tuple[timedelta, ...], fmt: Callable[[datetime], str] = datetime.isoformat) -> Strat:
    # Read the clock when the value is drawn: a stored example replayed later is still "now".
    return lambda van: st.sampled_from(offsets).map(lambda off: fmt(datetime.now(UTC) + off))


def text(max_len: int, min_len: int = 1) -> Field:
    def ok(van):
        at_limit = st.sampled_from(["x" * max_len, "ن" * max_len, "\x00" * max_len, "𓀀" * max_len])  # noqa: RUF001
        return st.one_of(at_limit, st.just("x" * min_len), st.text(min_size=min_len, max_size=min(max_len, 40)))

    past = ["y" * (max_len + 1), "ن" * (max_len + 1)] + ([""] if min_len > 0 else [])  # noqa: RUF001
    return Field(ok, _const(*past), (str,))


def pattern(ok_values: tuple[str, ...], past_values: tuple[str, ...], extra: Strat | None = None) -> Field:
    ok = extra if not ok_values else _const(*ok_values) if extra is None else _mix(_const(*ok_values), extra)
    return Field(ok, _const(*past_values), (str,))


def integer(lo: int, hi: int = 2**63 - 1) -> Field:
    def ok(van):
        return st.one_of(st.sampled_from([lo, hi, lo + 1, hi - 1]), st.integers(lo, hi))

    past = [lo - 1] + ([hi + 1] if hi < 2**63 - 1 else [2**63, 2**64 - 1, 2**64])
    return Field(ok, _const(*past), (int,))


def nullable(inner: Field) -> Field:
    calm = (lambda van: st.one_of(st.none(), inner.calm(van))) if inner.calm else None
    return Field(lambda van: st.one_of(st.none(), inner.ok(van)), inner.past, (*inner.types, NONE), calm)


def choice(values: tuple[str, ...]) -> Field:
    return Field(_const(*values), _const("", values[0].upper(), values[0] + " ", "x" * 65), (str,))


def blob(max_len: int) -> Field:
    def ok(van):
        return st.one_of(st.just(b"\xff" * max_len), st.just(b"\x00"), st.binary(min_size=1, max_size=64))

    return Field(ok, _const(b"", b"\xab" * (max_len + 1)), (bytes,))


_ULIDS: Strat = lambda van: st.binary(min_size=16, max_size=16).map(lambda b: str(ULID.from_bytes(b)))  # noqa: E731
ULIDS = pattern(("00000000000000000000000000", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"),
                ("8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "0000000000000000000000000", "000000000000000000000000000",
                 "0000000000000000000000000I", "0000000000000000000000000u", "٠" * 26), _ULIDS)

# Times: the schema takes any ISO-8601 time in UTC; admission wants 2020-01-01 … now + 10 min (telemetry)
# or + 1 day (records). Offsets keep minutes of margin, so the hub reading its clock a little later agrees.
PLAUSIBLE_TIMES: Strat = _now_plus((timedelta(0), -timedelta(minutes=5), -timedelta(days=30)))
_NOWS = (timedelta(0), -timedelta(seconds=1), -timedelta(days=1), timedelta(minutes=3), timedelta(minutes=30),
         timedelta(hours=23), timedelta(days=2), -timedelta(days=3650))
TIMES = Field(_mix(_const("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00",
                          "2019-12-31T23:59:59+00:00", "2020-01-01T00:00:00+00:00", "2020-01-01T00:00:00Z",
                          "2024-02-29T12:00:00.000001+00:00", "0001-01-01T00:00:00-00:00"),
                   _now_plus(_NOWS), _now_plus(_NOWS[:2], lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"))),
              _const("2024-01-01T00:00:00", "2024-01-01T00:00:00+05:00", "2024-13-01T00:00:00+00:00",
                     "2024-02-30T00:00:00+00:00", "", "now", "2024-01-01T00:00:00.000000000000000+00:00",
                     "١٩٩٠-٠١-٠١T00:00:00+00:00", "10000-01-01T00:00:00+00:00"), (str,), PLAUSIBLE_TIMES)


def _days(van):
    today = date.today()
    return st.one_of(st.sampled_from(["0001-01-01", "9999-12-31", "1899-12-31", "1900-01-01", "2019-12-31",
                                      "2020-01-01", "2024-02-29", today.isoformat(),
                                      (today + timedelta(days=3660)).isoformat(),
                                      (today + timedelta(days=3700)).isoformat()]),
                     st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat))


DAYS = Field(_days, _const("2024-02-30", "2024-1-01", "24-01-01", "", "١٩٩٠-٠١-٠١", "2024-01-01T00:00:00"), (str,),
             lambda van: st.dates(date(2020, 1, 1), date.today()).map(date.isoformat))


def own_number(van: str) -> st.SearchStrategy:
    """A printed request number issued by ``van`` (any day 2000–2099, any sequence 1–9999)."""
    return st.builds(lambda d, seq: str(rq.RequestNumber(rq.van_number(van), d, seq)),
                     st.one_of(st.sampled_from([date(2000, 1, 1), date(2099, 12, 31), date.today()]),
                               st.dates(date(2000, 1, 1), date(2099, 12, 31))),
                     st.one_of(st.sampled_from([1, 9999]), st.integers(1, 9999)))


def _bad_numbers(van: str) -> st.SearchStrategy:
    def broken(number: str) -> st.SearchStrategy:
        wrong_check = number[:-1] + str((int(number[-1]) + 1) % 10)
        return st.sampled_from([wrong_check, number.replace("-", ""), number + "0", number[:-2], " " + number,
                                number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))])

    return own_number(van).flatmap(broken)


NUMBERS = Field(own_number, _bad_numbers, (str,))
TICKETS = pattern(("A001", "Z999", "ABCD001", "ABCD999"), ("A000", "a001", "ABCDE001", "A1000", "A01", "001", "١٠٠"))
HASHES = pattern(("0" * 64, "f" * 64), ("F" * 64, "0" * 63, "0" * 65, "g" * 64),
                 lambda van: st.binary(min_size=32, max_size=32).map(bytes.hex))
NAMES = pattern(("a", "a" + "z" * 63, "gps.lat", "a_b.c-d"), ("A", "", "a" * 65, "1a", "a b", "é"))
VANS = pattern((), ("V000", "V1000", "v007", "V07", "V٠٠٧"), lambda van: st.just(van))
DIGITS14 = pattern(("29001010112355", "0" * 14), ("1" * 13, "1" * 15, "٢" * 14, "2900101011235x"))  # noqa: RUF001
DIGITS11 = pattern(("01012345678", "9" * 11), ("0101234567", "010123456789", "٠١٠١٢٣٤٥٦٧٨"))

# Telemetry: names the hub reads (at and just past the edge of their range), others, up to 200 keys.
_EDGES = [(name, v) for names, lo, hi in admission.FIGURES.values() for name in names[:1]
          for v in (lo, hi, lo - 1e-6 * max(1, abs(lo)), hi + 1e-6 * max(1, abs(hi)), 1e308, -1e308, "soon", True)]
_EDGES += [("outbox_pending_tx", -1), ("outbox_pending_doc", 2**63 - 1), ("lte.operator", "ن" * 200),  # noqa: RUF001
           ("device.printer", "\x00"), ("camera_front.fault", None), ("gps.lat", 0), ("gps.lon", -0.0)]
_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                    st.sampled_from([2**63 - 1, -(2**63), 5e-324, 1.7976931348623157e308, "x" * 200]))
_KEY = st.one_of(st.sampled_from([name for name, _ in _EDGES]), st.from_regex(r"[a-z][a-z0-9_.-]{0,63}",
                                                                                fullmatch=True))


def _values(van):
    return st.one_of(
        st.lists(st.sampled_from(_EDGES), max_size=6).map(dict),
        st.dictionaries(_KEY, _SCALAR, max_size=8),
        st.just({f"k{i}": i for i in range(200)}),
    )


_CALM_EDGES = [(n, v) for n, v in _EDGES if admission._RANGES.get(n) is None or (
    isinstance(v, int | float) and not isinstance(v, bool) and admission._number_in(v, *admission._RANGES[n]))]
_CALM_EDGES = [(n, v) for n, v in _CALM_EDGES if not (n.startswith("outbox_pending_") and not 0 <= v <= 1e9)]
_CALM_KEY = st.from_regex(r"[a-z][a-z0-9_.-]{0,63}", fullmatch=True).filter(
    lambda k: k not in admission._RANGES and not k.startswith("outbox_pending_"))
VALUES = Field(_values, _const({f"k{i}": i for i in range(201)}, {"Gps": 1}, {"a" * 65: 1}, {"a": "x" * 201},
                               {"a": float("nan")}, {"a": float("inf")}, {"a": 2**63}, {"a": [1]}, {"a": {}},
                               {"a": b"\x00"}), (dict,),
               lambda van: st.one_of(st.lists(st.sampled_from(_CALM_EDGES), max_size=6).map(dict),
                                     st.dictionaries(_CALM_KEY, _SCALAR, max_size=8)))


def _depth(value: Any) -> int:
    if isinstance(value, dict | list):
        return 1 + max((_depth(v) for v in (value.values() if isinstance(value, dict) else value)), default=0)
    return 0


def _plain(leaves: int) -> st.SearchStrategy:
    """Free-form data (audit details) nested at most 7 deep: inside a body's map, the schema takes 8 levels."""
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False,
                     allow_infinity=False), st.text(max_size=20), st.just("x" * 20_000))
    return st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=leaves).filter(lambda v: _depth(v) <= 7)


def _nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = {"d": value} if i % 2 else [value]
    return value


DETAILS = Field(lambda van: st.one_of(st.dictionaries(st.text(max_size=8), _plain(12), max_size=4),
                                      st.just({"deep": _nested(7)}), st.just({"at": "not a time"}),
                                      st.just({"x": {"changed_at": "2019-01-01T00:00:00+00:00"}}),
                                      PLAUSIBLE_TIMES(van).map(lambda t: {"at": t, "n": 1})),
                _const({"deep": _nested(8)}, {"s": "x" * 20_001}, {"n": 2**63}, {"f": float("inf")},
                       {"b": b"\x00"}, {1: "int key"}), (dict,),
                lambda van: st.dictionaries(st.text(max_size=8).filter(lambda k: k != "at" and not k.endswith("_at")),
                                            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1),
                                                      st.text(max_size=20)), max_size=4))


# --- a kind's body: its fields, and how they are made consistent --------------------------------------------


@dataclass(frozen=True)
class Spec:
    fields: dict[str, Field | Spec]
    fix: Callable[[dict, str, str], None] | None = None  # (body, van, kind): satisfy the rules spanning fields
    rule_breaks: tuple[Callable[[dict, str, str], dict | None], ...] = ()  # → a body breaking one rule
    # Keys a newer schema added (schema.record's since_v2): drawn present or absent; wrong when present.
    optional: dict[str, Field | Spec] = field(default_factory=dict)


def list_of(inner: Field | Spec, max_items: int) -> Field:
    """A list of up to ``max_items`` values of ``inner`` (one past the limit is refused)."""
    def element(van):
        return (_record_field(inner) if isinstance(inner, Spec) else inner).admitted()(van)

    def ok(van):
        full = element(van).flatmap(lambda v: st.just([v] * max_items))
        return st.one_of(st.lists(element(van), max_size=min(max_items, 4)), full)

    def past(van):
        return element(van).map(lambda v: [v] * (max_items + 1))

    return Field(ok, past, (list,))


def _record_field(spec: Spec) -> Field:
    return Field(lambda van: valid_body(spec, van, ""), lambda van: broken_body(spec, van, "").map(lambda b: b[1]),
                 (dict,), lambda van: valid_body(spec, van, "", calm=True))


def _fields(spec: Spec, *, optional: bool = False) -> dict[str, Field]:
    chosen = spec.optional if optional else spec.fields
    return {k: _record_field(v) if isinstance(v, Spec) else v for k, v in chosen.items()}


def valid_body(spec: Spec, van: str, kind: str, *, calm: bool = False) -> st.SearchStrategy:
    """A schema-valid body; ``calm``: one the hub's admission rules take too (so it reaches the database)."""
    fields, later = _fields(spec), _fields(spec, optional=True)

    def build(values: dict) -> dict:
        body = dict(values)
        if spec.fix:
            spec.fix(body, van, kind)
        return body

    return st.fixed_dictionaries({k: (f.admitted() if calm else f.ok)(van) for k, f in fields.items()},
                                 optional={k: (f.admitted() if calm else f.ok)(van) for k, f in later.items()}
                                 ).map(build)


def broken_body(spec: Spec, van: str, kind: str) -> st.SearchStrategy:
    """(fault class, a body the wire schema refuses)."""
    required = _fields(spec)
    fields = {**required, **_fields(spec, optional=True)}
    names = sorted(fields)

    def breaks(body: dict) -> st.SearchStrategy:
        options = [st.sampled_from(names).flatmap(lambda n: fields[n].wrong().map(
            lambda v, n=n: ("wrong-type", {**body, n: v}))),
            st.sampled_from(sorted(required)).map(
                lambda n: ("missing-field", {k: v for k, v in body.items() if k != n})),
            st.sampled_from([("zz", 1), ("", None), ("number ", "x"), (1, 1)]).map(
                lambda kv: ("extra-field", {**body, kv[0]: kv[1]})),
            st.sampled_from([None, [], "body", 7, b"\x00", [body]]).map(lambda v: ("not-a-map", v))]
        with_past = [n for n in names if fields[n].past is not None]
        if with_past:
            options.append(st.sampled_from(with_past).flatmap(lambda n: fields[n].past(van).map(
                lambda v, n=n: ("past-limit", {**body, n: v}))))
        return st.one_of(*options)

    return valid_body(spec, van, kind).flatmap(breaks)


def other_van(van: str) -> str:
    return "V999" if van != "V999" else "V998"


def _fix_submitted(body, van, kind):
    body["van"] = van


def _wrong_van_body(body, van, kind):
    return {**body, "van": other_van(van)}


def _number_of_other_van(key: str):
    def rule(body, van, kind):
        n = rq.parse_request_number(body[key])
        return {**body, key: str(rq.RequestNumber(rq.van_number(other_van(van)), n.day, n.seq))}

    return rule


def _fix_chunk(body, van, kind):
    body["count"] = max(body["count"], body["index"] + 1)
    body["size"] = max(body["size"], body["count"], len(body["data"]))
    body["chunk_sha256"] = hashlib.sha256(body["data"]).hexdigest()


def _chunk_hash_wrong(body, van, kind):
    return {**body, "chunk_sha256": hashlib.sha256(body["data"] + b"!").hexdigest()}


def _chunk_index_past_count(body, van, kind):
    return {**body, "index": body["count"]} if body["count"] <= MAX_DOC - 1 else None


def _ranges(van):
    """Ascending, non-touching ranges of chunk seqs, as a van's tel.update says what it holds."""
    def build(starts):
        out, at = [], 0
        for gap, length in starts:
            a = at + gap
            out.append([a, a + length])
            at = a + length + 2
        return out

    pairs = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=schema.UPDATE_MAX_RANGES)
    return pairs.map(build)


_HAVE = Field(_ranges, lambda van: st.sampled_from([[[0, 1]] * (schema.UPDATE_MAX_RANGES + 1), [[0, 1, 2]], [[-1, 0]],
                                                     [[0, schema.UPDATE_MAX_CHUNKS]], [["0", "1"]]]), (list,))


def _fix_update(body, van, kind):
    last = body["have"][-1][1] if body["have"] else -1
    body["total"] = min(max(body["total"], last + 1), schema.UPDATE_MAX_CHUNKS)
    body["have"] = [r for r in body["have"] if r[1] < body["total"]]
    body["held"] = min(body["held"], body["total"])


def _update_held_past_total(body, van, kind):
    return {**body, "held": body["total"] + 1} if body["total"] < schema.UPDATE_MAX_CHUNKS else None


def _update_ranges_overlap(body, van, kind):
    return {**body, "have": [[0, 2], [1, 3]], "total": max(body["total"], 4)}


def _fix_status(body, van, kind):
    body["online"] = kind == "status.birth"


def _status_flipped(body, van, kind):
    return {**body, "online": kind != "status.birth"}


_TICKET = Spec({
    "number": TICKETS, "series": pattern(("A", "ABCD"), ("", "ABCDE", "a", "A1")), "seq": integer(1, 999),
    "category": text(32), "priority": choice(("none", "elderly", "disabled", "pregnant")),
    "state": choice(("waiting", "called", "serving", "done", "no_show", "transferred")),
    "issued_at": TIMES, "called_at": nullable(TIMES), "counter": nullable(integer(1, 999)),
    "recalls": integer(0, 1000), "started_at": nullable(TIMES), "finished_at": nullable(TIMES),
    "transferred_to": nullable(TICKETS), "transferred_from": nullable(TICKETS),
})  # fmt: skip
_STATUS = Spec({"session": integer(1), "online": Field(_const(True, False), None, (bool,)), "schema": integer(1)},
               fix=_fix_status, rule_breaks=(_status_flipped,))

def _fix_shift(body, van, kind):
    body["van"] = van
    # Closed after it opened, on the day it opened in Egypt (what the hub's admission checks of the times).
    try:
        opened, closed = datetime.fromisoformat(body["opened_at"]), datetime.fromisoformat(body["closed_at"])
        if closed < opened:
            body["opened_at"], body["closed_at"] = body["closed_at"], body["opened_at"]
            opened = closed
        body["day"] = opened.astimezone(VAN_TZ).date().isoformat()
    except (ValueError, OverflowError):
        pass  # a time at the ends of the calendar: the hub refuses it as implausible before comparing
    totals = body["totals"]
    # The drawer's arithmetic: expected = float + cash fees − cash refunds (kept within the schema's bounds).
    totals["fees"]["cash"] = min(totals["fees"]["cash"], 10**9)
    totals["refunds"]["cash"] = min(totals["refunds"]["cash"], 10**9)
    body["expected_cash_piastres"] = (body["opening_float_piastres"] + totals["fees"]["cash"]
                                      - totals["refunds"]["cash"])
    body["difference_piastres"] = body["counted_cash_piastres"] - body["expected_cash_piastres"]


def _shift_sums_wrong(body, van, kind):
    return {**body, "difference_piastres": body["counted_cash_piastres"] - body["expected_cash_piastres"] + 1}


def _shift_expected_wrong(body, van, kind):
    return {**body, "expected_cash_piastres": body["expected_cash_piastres"] + 1,
            "difference_piastres": body["difference_piastres"] - 1}


_METHODS = ("cash", "card", "reference")
_SHIFT = Spec({
    "van": VANS, "shift": integer(1, 2**31 - 1), "operator": text(64), "counter": nullable(integer(1, 999)),
    "day": DAYS, "opened_at": TIMES, "closed_at": TIMES, "closed_by": text(64),
    "opening_float_piastres": integer(0, 10_000_000), "received_from": nullable(integer(1, 2**31 - 1)),
    "counted_cash_piastres": integer(0, 10_000_000), "expected_cash_piastres": integer(-10**9, 10**9),
    "difference_piastres": integer(-10**11, 10**11), "reason": text(500, min_len=0),
    "confirmed_by": nullable(text(64)), "handed_to": nullable(text(64)),
    "totals": Spec({
        "requests": integer(0, 1_000_000), "cancellations": integer(0, 1_000_000),
        "refund_count": integer(0, 1_000_000), "reprints": integer(0, 1_000_000),
        "tickets_served": integer(0, 1_000_000), "no_shows": integer(0, 1_000_000),
        "fees": Spec({m: integer(0, 10**11) for m in _METHODS}),
        "refunds": Spec({m: integer(0, 10**11) for m in _METHODS}),
    }),
}, fix=_fix_shift, rule_breaks=(_wrong_van_body, _shift_sums_wrong, _shift_expected_wrong))

SPECS: dict[str, Spec] = {
    "request.submitted": Spec({
        "number": NUMBERS, "van": VANS, "service_code": text(32), "catalogue_version": integer(1),
        "citizen": Spec({"national_id": DIGITS14, "name": text(200), "mobile": nullable(DIGITS11),
                         "birth_date": DAYS, "gender": choice(("male", "female"))}),
        "fee_piastres": integer(0), "operator": text(64), "submitted_at": TIMES, "expected_ready_on": DAYS,
        "payment": Spec({"method": choice(("cash", "card", "reference")), "amount_piastres": integer(0),
                         "reference": nullable(text(64))}),
    }, fix=_fix_submitted, rule_breaks=(_wrong_van_body, _number_of_other_van("number")), optional={
        # Schema 2 (issue 18): what the clerk needs to decide without calling the van.
        "originals_seen": list_of(text(32), 50),
        "pages": list_of(Spec({"doc_code": text(32), "page": integer(1, 999), "sha256": HASHES}), 200),
    }),
    "request.state": Spec({
        "number": NUMBERS, "state": choice(tuple(s.value for s in rq.RequestState)), "reason": nullable(text(500)),
        "at": TIMES,
    }, rule_breaks=(_number_of_other_van("number"),)),
    "request.refunded": Spec({
        "number": NUMBERS, "amount_piastres": integer(1), "method": choice(("cash", "card", "reference")),
        "reason": text(500), "operator": text(64), "confirmed_by": text(64), "at": TIMES,
    }, rule_breaks=(_number_of_other_van("number"),)),
    "shift.closed": _SHIFT,
    **{kind: _TICKET for kind in schema.TICKET_KINDS},
    "downlink.applied": Spec({
        "msg_id": ULIDS, "kind": choice(("request-status", "catalog", "trust-list", "command", "calendar",
                                           "update-target")),
        "outcome": choice(("applied", "rejected", "duplicate")), "error": nullable(text(500, min_len=0)),
    }),
    "audit.entry": Spec({
        "seq": integer(1), "at": TIMES, "actor": text(64), "action": text(64), "subject": text(200, min_len=0),
        "details": DETAILS, "prev_hash": HASHES, "hash": HASHES,
    }),
    "doc.chunk": Spec({
        "doc_id": ULIDS, "request_number": NUMBERS, "index": integer(0, MAX_DOC - 1), "count": integer(1, MAX_DOC),
        "size": integer(1, MAX_DOC), "sha256": HASHES, "data": blob(schema.CHUNK_SIZE), "chunk_sha256": HASHES,
    }, fix=_fix_chunk, rule_breaks=(_number_of_other_van("request_number"), _chunk_hash_wrong,
                                    _chunk_index_past_count)),
    "tel.snapshot": Spec({"at": TIMES, "values": VALUES}),
    "tel.thumbnail": Spec({"camera": NAMES, "at": TIMES, "jpeg": blob(schema.THUMBNAIL_MAX_BYTES)}),
    # Schema 4 (issue 20): how much of a software release the van holds.
    "tel.update": Spec({
        "bundle": pattern(("A", "0123456789abcdef", "z" * 64), ("", "a-b", "x" * 65, "ب")), "at": TIMES,
        "state": choice(schema.UPDATE_STATES), "total": integer(0, schema.UPDATE_MAX_CHUNKS),
        "held": integer(0, schema.UPDATE_MAX_CHUNKS), "have": _HAVE, "error": nullable(text(500, min_len=0)),
    }, fix=_fix_update, rule_breaks=(_update_held_past_total, _update_ranges_overlap)),
    "status.birth": _STATUS,
    "status.death": _STATUS,
}  # fmt: skip


# --- whole messages ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One generated uplink message and what it is meant to be."""

    topic: str
    payload: bytes
    van: str  # the van whose topic carries it (the broker's ACL vouches for that)
    stream: str  # the (stream, kind) it was generated for
    kind: str
    fault: str  # "valid", "replay", or the fault class
    schema_ok: bool  # passes the wire schema, by construction
    fields: Any = field(default=None, repr=False)  # the envelope as sent (None: raw bytes)

    def __repr__(self) -> str:
        return (f"Sent({self.topic!r}, {self.kind}, {self.fault}, schema_ok={self.schema_ok}, "
                f"{len(self.payload)} bytes: {self.payload[:160]!r})")

    @property
    def msg_id(self) -> str | None:
        return self.fields.get("msg_id") if isinstance(self.fields, dict) else None

    @property
    def body(self) -> Any:
        return self.fields.get("body") if isinstance(self.fields, dict) else None


def envelope(van: str, stream: str, kind: str, body: Any, *, msg_id: str, seq: int = 1,
             created_at: str | None = None, schema_version: int = p.SCHEMA_VERSION) -> dict:
    return {"msg_id": msg_id, "van": van, "stream": stream, "seq": seq, "schema": schema_version,
            "created_at": created_at or datetime.now(UTC).isoformat(), "kind": kind, "body": body}


def _sent(van, stream, kind, fault, schema_ok, fields, topic_stream=None, payload=None) -> Sent:
    topic = f"{p.PREFIX}/{GOV}/{van}/up/{topic_stream or stream}"
    return Sent(topic, payload if payload is not None else cbor2.dumps(fields, canonical=True), van, stream, kind,
                fault, schema_ok, fields)


_CREATED = Field(_mix(TIMES.ok, PLAUSIBLE_TIMES, PLAUSIBLE_TIMES), TIMES.past, (str,))


def _head(van: str) -> st.SearchStrategy:
    """(msg_id, seq, created_at) of a schema-valid envelope."""
    return st.tuples(_ULIDS(van), st.one_of(st.just(1), st.just(2**63 - 1), st.integers(1, 10**6)),
                     _CREATED.ok(van))


def valid(van: str, stream: str, kind: str) -> st.SearchStrategy:
    """A schema-valid message: values at the limits, or (as often) ones the hub admits, to reach its database."""
    calm = st.tuples(st.tuples(_ULIDS(van), st.integers(1, 10**6), PLAUSIBLE_TIMES(van)),
                     valid_body(SPECS[kind], van, kind, calm=True))
    return st.one_of(st.tuples(_head(van), valid_body(SPECS[kind], van, kind)), calm).map(
        lambda hb: _sent(van, stream, kind, "valid", True, envelope(van, stream, kind, hb[1], msg_id=hb[0][0],
                                                                    seq=hb[0][1], created_at=hb[0][2])))


def broken(van: str, stream: str, kind: str) -> st.SearchStrategy:
    spec = SPECS[kind]

    def body_fault(hb):
        (msg_id, seq, created), (fault, body) = hb
        return _sent(van, stream, kind, fault, False, envelope(van, stream, kind, body, msg_id=msg_id, seq=seq,
                                                               created_at=created))

    options = [st.tuples(_head(van), broken_body(spec, van, kind)).map(body_fault)]
    if spec.rule_breaks:
        def rule_fault(args):
            (msg_id, seq, created), body, rule = args
            bad = rule(body, van, kind)
            fields = envelope(van, stream, kind, bad if bad is not None else {**body, "zz": 1}, msg_id=msg_id,
                              seq=seq, created_at=created)
            return _sent(van, stream, kind, "rule" if bad is not None else "extra-field", False, fields)

        options.append(st.tuples(_head(van), valid_body(spec, van, kind), st.sampled_from(spec.rule_breaks))
                       .map(rule_fault))
    return st.one_of(*options)


def _envelope_faults(van: str, stream: str, kind: str) -> st.SearchStrategy:
    def fault(args):
        sent, which, pick = args
        f = dict(sent.fields)
        topic_stream = None
        if which == "bad-msg-id":
            f["msg_id"] = ["8" + "0" * 25, "0" * 25, "", 7, None, "0" * 25 + "U"][pick % 6]
        elif which == "bad-seq":
            f["seq"] = [0, -1, 2**63, True, "1", 1.0][pick % 6]
        elif which == "schema-new":
            f["schema"] = p.SCHEMA_VERSION + 1 + pick % 3
        elif which == "schema-old":
            f["schema"] = [0, -1, p.MIN_SCHEMA_VERSION - 1, "1", None][pick % 5]
        elif which == "bad-created-at":
            f["created_at"] = ["2024-01-01T00:00:00", "", 1700000000, None, "2024-01-01T00:00:00+02:00"][pick % 5]
        elif which == "unknown-kind":
            others = [k for s, k in KINDS if s != stream]
            f["kind"] = [others[pick % len(others)], kind + ".x", "k" * 65, "", 5][pick % 5]
        elif which == "wrong-van-envelope":
            f["van"] = [other_van(van), "V000", "v007", 7][pick % 4]
        elif which == "wrong-stream":
            topic_stream = [s for s in p.STREAMS if s != stream][pick % (len(p.STREAMS) - 1)]
        elif which == "unknown-stream":
            f["stream"] = ["bogus", "", "TX", None][pick % 4]
        elif which == "missing-envelope-field":
            f.pop(sorted(f)[pick % len(f)])
        elif which == "extra-envelope-field":
            f["zz"] = pick
        elif which == "not-a-map":
            f = [list(f.values()), "envelope", pick, None][pick % 4]
        return _sent(van, stream, kind, which, False, f, topic_stream=topic_stream)

    which = st.sampled_from(["bad-msg-id", "bad-seq", "schema-new", "schema-old", "bad-created-at", "unknown-kind",
                             "wrong-van-envelope", "wrong-stream", "unknown-stream", "missing-envelope-field",
                             "extra-envelope-field", "not-a-map"])
    return st.tuples(valid(van, stream, kind), which, st.integers(0, 1000)).map(fault)


def _payload_faults(van: str, stream: str, kind: str) -> st.SearchStrategy:
    def fault(args):
        sent, which, pick = args
        payload = sent.payload
        topic = None
        if which == "truncated":
            payload = payload[: pick % len(payload)]
        elif which == "trailing-bytes":
            payload = payload + bytes([pick % 256])
        elif which == "invalid-utf8":
            marked = {**sent.fields, "kind": "\u0001" * 4}
            payload = cbor2.dumps(marked, canonical=True).replace(b"\x64\x01\x01\x01\x01", b"\x64\xff\xfe\xc0\x80")
        elif which == "cbor-tag":
            payload = cbor2.dumps({**sent.fields, "created_at": cbor2.CBORTag([0, 1, 2, 55799][pick % 4],
                                                                              sent.fields["created_at"])})
        elif which == "duplicate-key":
            n = len(sent.fields)
            payload = bytes([0xA0 + n + 1]) + payload[1:] + cbor2.dumps("van") + cbor2.dumps(other_van(van))
        elif which == "indefinite":
            payload = b"\xbf" + payload[1:] + b"\xff"
        elif which == "oversize":
            payload = cbor2.dumps({**sent.fields, "body": {"pad": b"\x00" * (p.MAX_MESSAGE_BYTES + pick)}})
        elif which == "random-bytes":
            payload = hashlib.sha256(payload + bytes([pick % 256])).digest()[: pick % 33]
        elif which == "bad-topic":
            topic = f"{p.PREFIX}/{GOV}/{van}/up/{['bogus', 'tx/extra', 'TX', ''][pick % 4]}"
        out = replace(sent, payload=payload, fault=which, schema_ok=False)
        return replace(out, topic=topic) if topic else out

    which = st.sampled_from(["truncated", "trailing-bytes", "invalid-utf8", "cbor-tag", "duplicate-key",
                             "indefinite", "oversize", "random-bytes", "bad-topic"])
    return st.tuples(valid(van, stream, kind), which, st.integers(0, 10_000)).map(fault)


def replay(van: str, stream: str, kind: str) -> st.SearchStrategy:
    """A message, then another message with the same msg_id and other content (of any fault class)."""
    def pair(args):
        first, second = args
        fields = {**second.fields, "msg_id": first.msg_id} if isinstance(second.fields, dict) else second.fields
        again = _sent(van, second.stream, second.kind, "replay", second.schema_ok, fields)
        return (first, again)

    return st.tuples(valid(van, stream, kind), st.one_of(valid(van, stream, kind), broken(van, stream, kind))
                     ).map(pair)


def messages(van: str, kinds: tuple[tuple[str, str], ...] = KINDS) -> st.SearchStrategy:
    """One item of a hostile van's batch: a tuple of one message (two for a replay) of any kind and fault."""
    def of_kind(sk):
        stream, kind = sk
        return st.one_of(valid(van, stream, kind).map(lambda s: (s,)), broken(van, stream, kind).map(lambda s: (s,)),
                         _envelope_faults(van, stream, kind).map(lambda s: (s,)),
                         _payload_faults(van, stream, kind).map(lambda s: (s,)), replay(van, stream, kind))

    return st.sampled_from(kinds).flatmap(of_kind)


def batches(van: str, max_items: int = 6) -> st.SearchStrategy:
    return st.lists(messages(van), min_size=1, max_size=max_items).map(lambda items: [m for i in items for m in i])


# --- what the hub should decide --------------------------------------------------------------------------------


def verdict(sent: Sent, now: datetime | None = None) -> str | None:
    """None when the hub should store the message; else the reason it should refuse it ("topic:…" when the
    topic itself is refused: such a message is only logged). The hub's own checks, applied here."""
    try:
        topic = p.parse_topic(sent.topic)
    except p.ProtocolError as exc:
        return f"topic:{exc.reason}"
    try:
        env = p.decode(sent.payload, expected_van=topic.van, expected_stream=topic.name)
    except p.ProtocolError as exc:
        return exc.reason
    try:
        admission.check(env.stream, env.kind, env.created_at, env.body, now or datetime.now(UTC))
    except admission.Inadmissible as exc:
        return exc.reason
    return None


def schema_verdict(sent: Sent) -> str | None:
    try:
        topic = p.parse_topic(sent.topic)
        p.decode(sent.payload, expected_van=topic.van, expected_stream=topic.name)
    except p.ProtocolError as exc:
        return exc.reason
    return None


# --- the older, simpler strategies (telemetry snapshots and garbage), still used by the offline fuzz ----------

_TIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
_FIGURE_NAMES = st.sampled_from(["gps.lat", "gps.lon", "device.gps.lat", "lte.rsrp_dbm", "modem.signal",
                                 "outbox_pending", "outbox_oldest_age_s", "backlog.oldest_s", "outbox_pending_tx",
                                 "device.printer", "device.camera_front", "camera_front.fault", "lte.operator"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
_SNAPSHOTS = st.builds(lambda at, values: ("tel", "tel.snapshot", {"at": at.isoformat(), "values": values}),
                       _TIMES, st.dictionaries(_FIGURE_NAMES, _SCALARS, max_size=8))
_GARBAGE = st.one_of(st.binary(max_size=200),
                     st.dictionaries(st.sampled_from(["msg_id", "van", "stream", "seq", "schema", "created_at",
                                                      "kind", "body"]), _SCALARS, max_size=8).map(cbor2.dumps))
