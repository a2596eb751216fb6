"""The hub fuzz's strategies (tests/support/hub_strategies.py) cover every uplink kind, and mean what they say."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from edge.sync import schema
from tests.support import hub_strategies as hs


def test_every_stream_and_kind_of_the_schema_has_a_strategy():
    in_schema = {(s, k) for s, kinds in schema.BODIES.items() for k in kinds}
    assert set(hs.KINDS) == in_schema
    assert set(hs.SPECS) == {k for _, k in in_schema}, "describe the new kind's fields in hub_strategies.SPECS"

    @settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(data=st.data())
    def each_kind(data):
        for stream, kind in hs.KINDS:  # the spec names exactly the schema's fields (a field added later fails)
            sent = data.draw(hs.valid("V007", stream, kind))
            assert hs.schema_verdict(sent) is None, (kind, hs.schema_verdict(sent), sent.fields)

    each_kind()


_ANY = st.sampled_from(hs.KINDS).flatmap(lambda sk: st.one_of(
    hs.valid("V007", *sk).map(lambda s: (s,)), hs.broken("V007", *sk).map(lambda s: (s,)),
    hs._envelope_faults("V007", *sk).map(lambda s: (s,)), hs._payload_faults("V007", *sk).map(lambda s: (s,)),
    hs.replay("V007", *sk)))


# Generate only: shrinking these large values can take minutes; the failing example is reported as drawn.
@settings(max_examples=200, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(item=_ANY)
def test_what_a_strategy_calls_valid_the_wire_schema_takes_and_what_it_calls_broken_it_refuses(item):
    for sent in item:
        reason = hs.schema_verdict(sent)
        assert (reason is None) == sent.schema_ok, (sent.fault, sent.kind, reason, sent.fields)


def test_the_valid_messages_reach_both_ends_of_admission():
    # Values at the limits: some valid messages are stored, others refused by the hub's admission rules.
    seen: Counter = Counter()

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(sk=st.sampled_from(hs.KINDS), data=st.data())
    def draw(sk, data):
        sent = data.draw(hs.valid("V007", *sk))
        seen[hs.verdict(sent) or "stored"] += 1

    draw()
    assert seen["stored"] > 0 and seen["implausible-time"] > 0, seen
