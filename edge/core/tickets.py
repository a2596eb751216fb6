"""Queue tickets: numbering, the ticket state machine, who is served next and how long the wait is."""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from edge.core.digits import count_ar, to_eastern
from edge.core.errors import EdgeError

MAX_SEQ = 999

# Service times outside this window are a forgotten "finish" button or a double click, not a
# real service; letting them into the median would make the kiosk promise nonsense.
MIN_PLAUSIBLE_SERVICE_SECONDS = 15.0
MAX_PLAUSIBLE_SERVICE_SECONDS = 2 * 60 * 60.0
MIN_SAMPLES = 3
SHORT_WAIT = timedelta(minutes=5)


class Priority(StrEnum):
    NONE = "none"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    PREGNANT = "pregnant"


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"


@dataclass(frozen=True)
class Ticket:
    number: str
    series: str
    seq: int
    category: str
    priority: Priority
    state: TicketState
    issued_at: datetime
    called_at: datetime | None = None  # first call; recalls do not move it, so waits stay honest
    counter: int | None = None
    recalls: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None  # when the ticket left the counter: done, no-show or transferred
    transferred_to: str | None = None
    transferred_from: str | None = None

    @property
    def is_priority(self) -> bool:
        return self.priority is not Priority.NONE


# --- errors -----------------------------------------------------------------------------------

_STATE_TEXT = {
    TicketState.WAITING: ("لم تتم مناداتها بعد", "has not been called yet"),
    TicketState.CALLED: (
        "تمت مناداتها ولم تبدأ خدمتها بعد",
        "has been called but service has not started yet",
    ),
    TicketState.SERVING: ("قيد الخدمة الآن", "is already being served"),
    TicketState.DONE: ("انتهت خدمتها بالفعل", "is already done"),
    TicketState.NO_SHOW: ("أُغلقت لعدم حضور صاحبها", "was closed because the citizen did not come"),
    TicketState.TRANSFERRED: ("حُوِّلت بالفعل إلى خدمة أخرى", "was already transferred to another service"),
}

_ACTION_TEXT = {
    "call": ("لا يمكن مناداتها مرة أخرى", "it cannot be called again"),
    "recall": ("لا يمكن إعادة النداء عليها", "it cannot be announced again"),
    "start": ("لا يمكن بدء خدمتها", "service cannot start"),
    "finish": ("لا يمكن إنهاء خدمتها", "it cannot be finished"),
    "no_show": ("لا يمكن تسجيل عدم حضور صاحبها", "it cannot be marked as a no-show"),
    "transfer": ("لا يمكن تحويلها", "it cannot be transferred"),
}


class InvalidTicketTransition(EdgeError):
    """An operator asked for something the ticket's current state does not allow."""

    code = "ticket-invalid-transition"

    def __init__(self, ticket: Ticket, action: str):
        self.ticket_number = ticket.number
        self.state = ticket.state
        self.action = action
        state_ar, state_en = _STATE_TEXT[ticket.state]
        action_ar, action_en = _ACTION_TEXT[action]
        # The ticket number stays as printed on the citizen's paper (Latin letter, ASCII digits) in
        # both languages: it is an identifier the operator matches by eye, not a quantity.
        super().__init__(
            f"التذكرة {ticket.number} {state_ar}؛ {action_ar}.",
            f"Ticket {ticket.number} {state_en}; {action_en}.",
            detail=f"{action} is not allowed from state {ticket.state.value}",
        )


# --- numbering --------------------------------------------------------------------------------


def format_number(series: str, seq: int) -> str:
    """The printed number: series letter(s) and three digits, e.g. ``A007``."""
    _check_series(series)
    if not 1 <= seq <= MAX_SEQ:
        raise ValueError(f"ticket seq must be 1..{MAX_SEQ}, got {seq!r}")
    return f"{series}{seq:03d}"


def parse_number(number: str) -> tuple[str, int]:
    """Split a printed number back into ``(series, seq)``; the inverse of :func:`format_number`."""
    series, digits = number[:-3], number[-3:]
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"not a ticket number: {number!r}")
    format_number(series, int(digits))  # validates both parts
    return series, int(digits)


# The series letter as Arabic screens and slips show it: Latin A, B, C … become أ ب ج د …, the abjad order in which
# Arabic enumerates (as lists and forms do: أ، ب، ج). The number keeps one identity: "A002" is stored, synced and
# typed; "أ٠٠٢" is how it is shown in Arabic beside it.
ARABIC_SERIES = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "أبجدهوزحطيكلمنسعفصقرشتثخذض", strict=True))
# The letters' names as a speech engine must read them: "أَلِف" with its vowels, or it reads "ألف" (a thousand).
_LETTER_NAMES_AR = dict(zip("أبجدهوزحطيكلمنسعفصقرشتثخذض", (
    "أَلِف", "باء", "جيم", "دال", "هاء", "واو", "زاي", "حاء", "طاء", "ياء", "كاف", "لام", "ميم", "نون", "سين", "عين",
    "فاء", "صاد", "قاف", "راء", "شين", "تاء", "ثاء", "خاء", "ذال", "ضاد"), strict=True))


def number_ar(number: str) -> str:
    """The printed number as Arabic screens and slips show it: ``A002`` → ``أ ٠٠٢``. A no-break space keeps the
    letter apart from the digits: ``١`` beside ``أ`` would read as the letters ``أا``."""
    series, seq = parse_number(number)
    return "".join(ARABIC_SERIES[c] for c in series) + "\u00a0" + to_eastern(f"{seq:03d}")


def call_words(number: str, counter: int, lang: str) -> str:
    """What the now-serving screen says for a call, for a speech engine: the series letter by its name, the number
    as a number (A002 → "two", not "zero zero two"), the counter. Arabic unless ``lang`` is "en"."""
    series, seq = parse_number(number)
    if not 1 <= int(counter) <= 99:
        raise ValueError(f"counter numbers are 1..99, got {counter!r}")
    if lang == "en":
        return f"Ticket {' '.join(series)} {seq}, please go to counter {int(counter)}."
    letters = " ".join(_LETTER_NAMES_AR[ARABIC_SERIES[c]] for c in series)
    return f"الرقم {letters} {seq}، إلى الشباك رقم {int(counter)}."


def next_seq(last_seq: int | None) -> int:
    """The seq after ``last_seq``: 1 for the first ticket of a series, and 1 again after 999."""
    if last_seq is None or last_seq == MAX_SEQ:
        return 1
    if not 1 <= last_seq < MAX_SEQ:
        raise ValueError(f"last ticket seq must be 1..{MAX_SEQ} or None, got {last_seq!r}")
    return last_seq + 1


def issue(series: str, last_seq: int | None, category: str, priority: Priority, at: datetime) -> Ticket:
    """A new waiting ticket, numbered after ``last_seq`` in ``series``."""
    if not category:
        raise ValueError("a ticket needs a service category")
    seq = next_seq(last_seq)
    return Ticket(
        number=format_number(series, seq),
        series=series,
        seq=seq,
        category=category,
        priority=Priority(priority),
        state=TicketState.WAITING,
        issued_at=_utc(at),
    )


# --- who is next ------------------------------------------------------------------------------


def _queue_key(t: Ticket) -> tuple:
    # Priority first, then first come first served. seq breaks ties of equal issue times, and the
    # number makes the order total across series so the same queue always gives the same answer.
    return (not t.is_priority, t.issued_at, t.seq, t.number)


def pick_next(waiting: Iterable[Ticket], categories: Collection[str] | None = None) -> Ticket | None:
    """The waiting ticket a counter serving ``categories`` (all when None) should call next."""
    if isinstance(categories, str):
        # A bare string is a collection of its letters: "traffic" would match category "a".
        raise TypeError("categories must be a collection of category codes, not a single string")
    candidates = [
        t
        for t in waiting
        if t.state is TicketState.WAITING and (categories is None or t.category in categories)
    ]
    return min(candidates, key=_queue_key, default=None)


def call_order(waiting: Iterable[Ticket]) -> list[Ticket]:
    """Every waiting ticket in the order :func:`pick_next` would call them (one sort, not n picks)."""
    return sorted((t for t in waiting if t.state is TicketState.WAITING), key=_queue_key)


def people_ahead(t: Ticket, waiting: Iterable[Ticket]) -> int:
    """How many waiting tickets of ``t``'s category would be called before ``t`` (0 once it is called)."""
    if t.state is not TicketState.WAITING:
        return 0
    key = _queue_key(t)
    return sum(
        1
        for other in waiting
        if other.state is TicketState.WAITING and other.category == t.category and _queue_key(other) < key
    )


# --- the state machine ------------------------------------------------------------------------


def call(t: Ticket, counter: int, at: datetime) -> Ticket:
    """WAITING -> CALLED at ``counter``."""
    _require(t, "call", TicketState.WAITING)
    if counter < 1:
        raise ValueError(f"counter numbers start at 1, got {counter!r}")
    return replace(t, state=TicketState.CALLED, called_at=_utc(at), counter=counter)


def recall(t: Ticket, at: datetime) -> Ticket:
    """CALLED -> CALLED: announce the ticket again because the citizen has not come yet."""
    _require(t, "recall", TicketState.CALLED)
    _utc(at)  # validated for symmetry; the first call time is what wait statistics need
    return replace(t, recalls=t.recalls + 1)


def start(t: Ticket, at: datetime) -> Ticket:
    """CALLED -> SERVING: the citizen is at the counter."""
    _require(t, "start", TicketState.CALLED)
    return replace(t, state=TicketState.SERVING, started_at=_utc(at))


def finish(t: Ticket, at: datetime) -> Ticket:
    """SERVING -> DONE."""
    _require(t, "finish", TicketState.SERVING)
    return replace(t, state=TicketState.DONE, finished_at=_utc(at))


def no_show(t: Ticket, at: datetime) -> Ticket:
    """CALLED -> NO_SHOW: the citizen did not come after being called."""
    _require(t, "no_show", TicketState.CALLED)
    return replace(t, state=TicketState.NO_SHOW, finished_at=_utc(at))


def transfer(t: Ticket, category: str, at: datetime) -> tuple[Ticket, Ticket]:
    """Send a called or served citizen to another service: ``(old closed ticket, new waiting ticket)``.

    The citizen keeps the number on their paper (as queue systems such as Qmatic do): the screen will call
    that number again, for the new service. The new ticket also keeps the old issue time and priority, so the
    citizen keeps the place earned by waiting instead of going to the back of the new queue.
    """
    _require(t, "transfer", TicketState.CALLED, TicketState.SERVING)
    if not category:
        raise ValueError("a ticket needs a service category")
    if category == t.category:
        raise ValueError(f"ticket {t.number} is already in category {category!r}")
    fresh = Ticket(number=t.number, series=t.series, seq=t.seq, category=category, priority=t.priority,
                   state=TicketState.WAITING, issued_at=t.issued_at, transferred_from=t.number)
    closed = replace(t, state=TicketState.TRANSFERRED, finished_at=_utc(at), transferred_to=t.number)
    return closed, fresh


# --- waiting time -----------------------------------------------------------------------------


def estimate_wait(
    people_ahead: int,
    recent_service_seconds: Sequence[float],
    open_counters: int = 1,
    default_service_seconds: float = 420.0,
) -> timedelta:
    """Expected wait before being called, rounded up to whole minutes.

    Uses the median of plausible recent service times (one slow case must not scare the queue away)
    and the default until there are at least three of them.
    """
    if people_ahead < 0:
        raise ValueError(f"people_ahead cannot be negative, got {people_ahead!r}")
    plausible = [
        s
        for s in recent_service_seconds
        if math.isfinite(s) and MIN_PLAUSIBLE_SERVICE_SECONDS <= s <= MAX_PLAUSIBLE_SERVICE_SECONDS
    ]
    per_person = statistics.median(plausible) if len(plausible) >= MIN_SAMPLES else default_service_seconds
    seconds = people_ahead * per_person / max(open_counters, 1)
    # The epsilon keeps 21.000000001 minutes of float noise from becoming 22.
    return timedelta(minutes=math.ceil(seconds / 60 - 1e-9))


def minutes_phrase(minutes: int, lang: str) -> str:
    """``minutes`` as words a person reads: "15 minutes" / "١٥ دقيقة" with Arabic number agreement."""
    if lang == "en":
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return count_ar(minutes, "دقيقة واحدة", "دقيقتان", "دقائق", "دقيقة")


def wait_label(wait: timedelta, lang: str) -> str:
    """What the kiosk and ticket print: "about 15 minutes" / "حوالي ١٥ دقيقة"; Arabic unless lang is "en"."""
    if wait < SHORT_WAIT:
        return "less than 5 minutes" if lang == "en" else f"أقل من {minutes_phrase(5, 'ar')}"
    minutes = math.ceil(wait.total_seconds() / 60)
    if lang == "en":
        return f"about {minutes_phrase(minutes, 'en')}"
    return f"حوالي {minutes_phrase(minutes, 'ar')}"


# --- helpers ----------------------------------------------------------------------------------


def _require(t: Ticket, action: str, *allowed: TicketState) -> None:
    if t.state not in allowed:
        raise InvalidTicketTransition(t, action)


def _check_series(series: str) -> None:
    if not (series and series.isascii() and series.isalpha() and series.isupper()):
        raise ValueError(f"ticket series must be upper-case Latin letters, got {series!r}")


def _utc(at: datetime) -> datetime:
    # Naive times would compare wrongly (or raise) against the aware ones already in the queue.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"ticket times must be timezone-aware, got naive {at!r}")
    return at.astimezone(UTC)
