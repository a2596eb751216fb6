"""Queue tickets: numbering, the state machine, serving order and the wait shown to citizens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.core import tickets
from edge.core.errors import EdgeError
from edge.core.tickets import InvalidTicketTransition, Priority, Ticket, TicketState

MORNING = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return MORNING + timedelta(minutes=minutes)


def ticket(
    seq: int = 1,
    *,
    series: str = "A",
    category: str = "civil-registry",
    priority: Priority = Priority.NONE,
    minute: float = 0,
) -> Ticket:
    return tickets.issue(series, None if seq == 1 else seq - 1, category, priority, at(minute))


def in_state(state: TicketState) -> Ticket:
    """A ticket A012 that has reached ``state`` by the ordinary path."""
    t = ticket(12)
    if state is TicketState.WAITING:
        return t
    t = tickets.call(t, counter=2, at=at(10))
    if state is TicketState.CALLED:
        return t
    if state is TicketState.NO_SHOW:
        return tickets.no_show(t, at(13))
    if state is TicketState.TRANSFERRED:
        return tickets.transfer(t, "traffic", at(13))[0]
    t = tickets.start(t, at(11))
    if state is TicketState.SERVING:
        return t
    return tickets.finish(t, at(20))


# --- numbering --------------------------------------------------------------------------------


def test_first_ticket_of_the_day_is_001():
    t = tickets.issue("A", None, "civil-registry", Priority.NONE, MORNING)
    assert (t.number, t.series, t.seq, t.state) == ("A001", "A", 1, TicketState.WAITING)
    assert t.issued_at == MORNING and t.called_at is None and t.recalls == 0


def test_numbers_count_up_within_a_series():
    assert tickets.issue("B", 41, "traffic", Priority.NONE, MORNING).number == "B042"


def test_number_after_999_wraps_to_001_without_crashing():
    assert tickets.next_seq(999) == 1
    assert tickets.issue("C", 999, "supply", Priority.NONE, MORNING).number == "C001"


@pytest.mark.parametrize("last_seq", [0, -1, 1000])
def test_impossible_last_seq_is_refused(last_seq):
    with pytest.raises(ValueError):
        tickets.next_seq(last_seq)


@pytest.mark.parametrize(("series", "seq"), [("a", 1), ("", 1), ("A1", 1), ("أ", 1), ("A", 0), ("A", 1000)])
def test_malformed_numbers_are_refused(series, seq):
    with pytest.raises(ValueError):
        tickets.format_number(series, seq)


def test_parse_number_is_the_inverse_of_format_number():
    assert tickets.parse_number(tickets.format_number("D", 7)) == ("D", 7)
    with pytest.raises(ValueError):
        tickets.parse_number("A12")


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        tickets.issue("A", None, "civil-registry", Priority.NONE, datetime(2026, 11, 21, 8, 0))


def test_priority_ticket_keeps_its_category_series():
    t = ticket(5, priority=Priority.ELDERLY)
    assert t.number == "A005" and t.is_priority
    assert not ticket(5).is_priority


# --- allowed transitions ----------------------------------------------------------------------


def test_call_records_counter_and_time():
    t = tickets.call(ticket(), counter=3, at=at(5))
    assert (t.state, t.counter, t.called_at) == (TicketState.CALLED, 3, at(5))


def test_recall_announces_again_and_keeps_first_call_time():
    t = tickets.call(ticket(), counter=3, at=at(5))
    t = tickets.recall(tickets.recall(t, at(6)), at(7))
    assert (t.state, t.recalls, t.called_at) == (TicketState.CALLED, 2, at(5))


def test_start_then_finish_records_service_times():
    t = tickets.start(tickets.call(ticket(), 1, at(5)), at(6))
    assert (t.state, t.started_at) == (TicketState.SERVING, at(6))
    t = tickets.finish(t, at(14))
    assert (t.state, t.finished_at) == (TicketState.DONE, at(14))


def test_citizen_who_does_not_come_is_marked_no_show():
    t = tickets.no_show(tickets.call(ticket(), 1, at(5)), at(8))
    assert (t.state, t.finished_at, t.started_at) == (TicketState.NO_SHOW, at(8), None)


@pytest.mark.parametrize("state", [TicketState.CALLED, TicketState.SERVING])
def test_transfer_closes_the_old_ticket_and_queues_the_same_number_for_the_new_service(state):
    # Issue 18, finding 5: a transfer renumbered the ticket (A002 became B001) and the screen then called a
    # number the citizen did not hold.
    old, new = tickets.transfer(in_state(state), "traffic", at(15))
    assert (old.state, old.transferred_to, old.finished_at) == (TicketState.TRANSFERRED, "A012", at(15))
    assert (new.number, new.series, new.seq, new.category, new.state) == ("A012", "A", 12, "traffic",
                                                                          TicketState.WAITING)
    assert (new.transferred_from, new.called_at, new.counter, new.recalls) == ("A012", None, None, 0)


def test_a_transfer_to_the_same_service_is_refused():
    with pytest.raises(ValueError):
        tickets.transfer(in_state(TicketState.CALLED), "civil-registry", at(15))


def test_transferred_ticket_keeps_priority():
    t = tickets.call(ticket(priority=Priority.PREGNANT), 1, at(5))
    assert tickets.transfer(t, "traffic", at(6))[1].priority is Priority.PREGNANT


def test_transferred_ticket_keeps_its_place_in_new_queue():
    early = tickets.call(ticket(1, minute=0), 1, at(20))
    later_in_b = [ticket(s, series="B", category="traffic", minute=5 + s) for s in (1, 2, 3)]
    _, moved = tickets.transfer(early, "traffic", at(25))
    assert moved.issued_at == early.issued_at
    assert tickets.pick_next([*later_in_b, moved]) == moved
    assert tickets.people_ahead(moved, [*later_in_b, moved]) == 0


# --- disallowed transitions -------------------------------------------------------------------

ACTIONS = {
    "call": (lambda t: tickets.call(t, 1, at(30)), {TicketState.WAITING}),
    "recall": (lambda t: tickets.recall(t, at(30)), {TicketState.CALLED}),
    "start": (lambda t: tickets.start(t, at(30)), {TicketState.CALLED}),
    "finish": (lambda t: tickets.finish(t, at(30)), {TicketState.SERVING}),
    "no_show": (lambda t: tickets.no_show(t, at(30)), {TicketState.CALLED}),
    "transfer": (
        lambda t: tickets.transfer(t, "traffic", at(30)),
        {TicketState.CALLED, TicketState.SERVING},
    ),
}
FORBIDDEN = [
    (action, state) for action, (_, ok) in ACTIONS.items() for state in TicketState if state not in ok
]
# Sorted: set order changes between processes, and pytest-xdist needs every worker to collect the same list.
ALLOWED = [(action, state) for action, (_, ok) in ACTIONS.items() for state in sorted(ok)]


@pytest.mark.parametrize(("action", "state"), FORBIDDEN, ids=[f"{a}-from-{s}" for a, s in FORBIDDEN])
def test_forbidden_transition_is_refused_with_a_message(action, state):
    t = in_state(state)
    with pytest.raises(InvalidTicketTransition) as caught:
        ACTIONS[action][0](t)
    err = caught.value
    assert isinstance(err, EdgeError) and err.code == "ticket-invalid-transition"
    assert (err.ticket_number, err.state, err.action) == ("A012", state, action)
    assert "A012" in err.message_en and "A012" in err.message_ar


@pytest.mark.parametrize(("action", "state"), ALLOWED, ids=[f"{a}-from-{s}" for a, s in ALLOWED])
def test_every_allowed_transition_succeeds(action, state):
    ACTIONS[action][0](in_state(state))


def test_calling_a_finished_ticket_says_so_in_both_languages():
    with pytest.raises(InvalidTicketTransition) as caught:
        tickets.call(in_state(TicketState.DONE), 1, at(30))
    assert caught.value.message("en") == "Ticket A012 is already done; it cannot be called again."
    assert caught.value.message("ar") == "التذكرة A012 انتهت خدمتها بالفعل؛ لا يمكن مناداتها مرة أخرى."


def test_counter_numbers_start_at_one():
    with pytest.raises(ValueError):
        tickets.call(ticket(), 0, at(1))


# --- who is next ------------------------------------------------------------------------------


def test_priority_ticket_is_called_before_earlier_regular_ticket():
    regular = ticket(1, minute=0)
    elderly = ticket(2, minute=10, priority=Priority.ELDERLY)
    assert tickets.pick_next([regular, elderly]) == elderly


def test_priority_tickets_are_served_in_arrival_order_among_themselves():
    disabled = ticket(2, minute=3, priority=Priority.DISABLED)
    pregnant = ticket(3, minute=1, priority=Priority.PREGNANT)
    assert tickets.pick_next([disabled, pregnant]) == pregnant


def test_regular_tickets_are_first_come_first_served():
    queue = [ticket(3, minute=9), ticket(1, minute=2), ticket(2, minute=5)]
    assert tickets.pick_next(queue).number == "A001"


def test_equal_issue_times_are_ordered_by_seq():
    assert tickets.pick_next([ticket(8, minute=1), ticket(7, minute=1)]).number == "A007"


def test_counter_only_picks_from_its_own_categories():
    a = ticket(1, minute=0)
    b = ticket(1, series="B", category="traffic", minute=5)
    assert tickets.pick_next([a, b], categories={"traffic"}) == b
    assert tickets.pick_next([a, b], categories=["supply"]) is None
    assert tickets.pick_next([a, b]) == a


def test_single_category_string_is_refused_rather_than_matched_letter_by_letter():
    with pytest.raises(TypeError):
        tickets.pick_next([ticket()], categories="civil-registry")


def test_only_waiting_tickets_are_picked():
    called = tickets.call(ticket(1), 1, at(1))
    assert tickets.pick_next([called, in_state(TicketState.DONE)]) is None
    assert tickets.pick_next([]) is None


def test_people_ahead_counts_priority_and_earlier_tickets_of_same_category():
    mine = ticket(3, minute=10)
    queue = [
        ticket(1, minute=0),
        ticket(2, minute=5),
        mine,
        ticket(4, minute=12, priority=Priority.ELDERLY),  # arrives later but goes first
        ticket(5, minute=15),
        ticket(1, series="B", category="traffic", minute=1),  # another queue
        tickets.call(ticket(6, minute=-5), 1, at(11)),  # already at a counter
    ]
    assert tickets.people_ahead(mine, queue) == 3


def test_called_ticket_has_nobody_ahead():
    assert tickets.people_ahead(tickets.call(ticket(), 1, at(1)), [ticket(2)]) == 0


# --- waiting time -----------------------------------------------------------------------------


def test_estimate_uses_default_service_time_without_history():
    assert tickets.estimate_wait(3, []) == timedelta(minutes=21)


def test_estimate_uses_default_with_fewer_than_three_samples():
    assert tickets.estimate_wait(2, [60, 60]) == timedelta(minutes=14)


def test_estimate_uses_median_of_recent_service_times():
    assert tickets.estimate_wait(4, [300, 240, 360, 900]) == timedelta(minutes=22)  # median 330 s


def test_estimate_ignores_absurd_service_times():
    # 2 s is a double click and 5 h a forgotten "finish": neither is a service.
    assert tickets.estimate_wait(2, [2, 3, 18000, 300, 300, 300, float("nan")]) == timedelta(minutes=10)


def test_estimate_falls_back_when_only_outliers_remain():
    assert tickets.estimate_wait(1, [1, 2, 3, 99999]) == timedelta(minutes=7)


def test_estimate_is_shared_across_open_counters_and_rounded_up():
    assert tickets.estimate_wait(5, [], open_counters=2) == timedelta(minutes=18)  # 17.5 -> 18
    assert tickets.estimate_wait(5, [], open_counters=0) == tickets.estimate_wait(5, [])


def test_nobody_ahead_means_no_wait():
    assert tickets.estimate_wait(0, [600, 600, 600]) == timedelta(0)


def test_negative_people_ahead_is_a_bug():
    with pytest.raises(ValueError):
        tickets.estimate_wait(-1, [])


@pytest.mark.parametrize(
    ("minutes", "arabic"),
    [
        (1, "دقيقة واحدة"),
        (2, "دقيقتان"),
        (3, "٣ دقائق"),
        (10, "١٠ دقائق"),
        (11, "١١ دقيقة"),
        (15, "١٥ دقيقة"),
        (99, "٩٩ دقيقة"),
        (100, "١٠٠ دقيقة"),
        (103, "١٠٣ دقائق"),
        (111, "١١١ دقيقة"),
    ],
)
def test_arabic_minutes_agree_with_the_number(minutes, arabic):
    assert tickets.minutes_phrase(minutes, "ar") == arabic


def test_english_minutes_singular_and_plural():
    assert tickets.minutes_phrase(1, "en") == "1 minute"
    assert tickets.minutes_phrase(7, "en") == "7 minutes"


def test_wait_label_in_both_languages():
    assert tickets.wait_label(timedelta(minutes=15), "en") == "about 15 minutes"
    assert tickets.wait_label(timedelta(minutes=15), "ar") == "حوالي ١٥ دقيقة"
    assert tickets.wait_label(timedelta(minutes=7), "ar") == "حوالي ٧ دقائق"
    assert tickets.wait_label(timedelta(minutes=5), "en") == "about 5 minutes"


def test_short_wait_is_shown_as_less_than_five_minutes():
    assert tickets.wait_label(timedelta(minutes=4, seconds=59), "en") == "less than 5 minutes"
    assert tickets.wait_label(timedelta(0), "ar") == "أقل من ٥ دقائق"


def test_wait_label_defaults_to_arabic():
    assert tickets.wait_label(timedelta(minutes=20), "fr") == "حوالي ٢٠ دقيقة"


# --- whole-queue property ---------------------------------------------------------------------

CATEGORIES = {"civil-registry": "A", "traffic": "B", "supply": "C"}
arrivals = st.lists(
    st.tuples(
        st.sampled_from(sorted(CATEGORIES)),
        st.sampled_from(list(Priority)),
        st.integers(min_value=0, max_value=30),  # minute of arrival; collisions on purpose
    ),
    max_size=40,
)


def build_queue(spec) -> list[Ticket]:
    last: dict[str, int | None] = dict.fromkeys(CATEGORIES.values())
    queue = []
    for category, priority, minute in spec:
        series = CATEGORIES[category]
        t = tickets.issue(series, last[series], category, priority, at(minute))
        last[series] = t.seq
        queue.append(t)
    return queue


@settings(max_examples=150, deadline=None)
@given(spec=arrivals, data=st.data())
def test_every_ticket_is_served_exactly_once_priority_first(spec, data):
    queue = {t.number: t for t in build_queue(spec)}
    served: list[Ticket] = []
    clock = at(60)
    while True:
        # Counters serving one category at a time, or everything; an idle counter helps the rest.
        counter_categories = data.draw(st.sampled_from([None, *([c] for c in CATEGORIES)]))
        t = tickets.pick_next(queue.values(), counter_categories) or tickets.pick_next(queue.values())
        if t is None:
            break
        t = tickets.call(t, 1, clock)
        t = tickets.start(t, clock + timedelta(minutes=1))
        t = tickets.finish(t, clock + timedelta(minutes=5))
        queue[t.number] = t
        served.append(t)
        clock += timedelta(minutes=5)

    assert sorted(t.number for t in served) == sorted(queue)
    assert all(t.state is TicketState.DONE for t in queue.values())
    for category in CATEGORIES:
        mine = [t for t in served if t.category == category]
        flags = [t.is_priority for t in mine]
        assert flags == sorted(flags, reverse=True), "a regular ticket was served before a priority one"
        for group in (True, False):
            times = [t.issued_at for t in mine if t.is_priority is group]
            assert times == sorted(times), "first come first served broken"


@settings(max_examples=100, deadline=None)
@given(spec=arrivals)
def test_people_ahead_matches_the_serving_order(spec):
    queue = build_queue(spec)
    for category in CATEGORIES:
        remaining = [t for t in queue if t.category == category]
        ahead = {t.number: tickets.people_ahead(t, queue) for t in remaining}
        position = 0
        while (t := tickets.pick_next(remaining)) is not None:
            assert ahead[t.number] == position
            remaining.remove(t)
            position += 1


@settings(max_examples=100, deadline=None)
@given(spec=arrivals)
def test_call_order_is_the_order_pick_next_calls_them(spec):
    queue = build_queue(spec)
    remaining, picked = list(queue), []
    while (t := tickets.pick_next(remaining)) is not None:
        picked.append(t.number)
        remaining.remove(t)
    assert [t.number for t in tickets.call_order(queue)] == picked


# --- Arabic numbers and spoken calls (issue 18, finding 5) --------------------------------------


@pytest.mark.parametrize("number, shown", [("A002", "أ\u00a0٠٠٢"), ("B017", "ب\u00a0٠١٧"), ("D999", "د\u00a0٩٩٩"),
                                           ("Z100", "ض\u00a0١٠٠"), ("AB005", "أب\u00a0٠٠٥"), ("A001", "أ\u00a0٠٠١")])
def test_arabic_screens_show_the_series_as_an_arabic_letter_and_eastern_digits(number, shown):
    assert tickets.number_ar(number) == shown


def test_every_series_letter_has_its_own_arabic_letter_and_a_spoken_name():
    assert len(set(tickets.ARABIC_SERIES.values())) == 26
    for letter in tickets.ARABIC_SERIES:
        assert tickets.call_words(f"{letter}001", 1, "ar").startswith("الرقم ")


def test_a_call_is_worded_for_the_speech_engine():
    # "أَلِف" with its vowels: without them the engine reads "ألف", a thousand ("number one thousand two").
    assert tickets.call_words("A002", 3, "ar") == "الرقم أَلِف 2، إلى الشباك رقم 3."
    assert tickets.call_words("C120", 12, "en") == "Ticket C 120, please go to counter 12."
    for bad in (("A02", 1), ("a002", 1), ("A002", 0), ("A002", 100)):
        with pytest.raises(ValueError):
            tickets.call_words(*bad, "ar")
