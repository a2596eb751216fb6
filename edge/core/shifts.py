"""An operator's shift at the counter, as money and accountability (issue 19): pure rules, no storage.

A shift opens with a counted float of cash, collects fees (cash, card, an e-payment reference), may refund a
cancelled paid request, and closes once: the operator counts the drawer, the van compares the count with what
it recorded (float + cash taken − cash refunded), and the difference is kept with a reason. A difference above
the van's threshold needs a supervisor's PIN. A closed shift is never reopened or edited.

The Z-report is this module's :class:`ShiftTotals` as printed and as sent to the governorate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from edge.core.digits import eastern_run
from edge.core.errors import EdgeError
from edge.core.money import format_egp
from edge.core.requests import PaymentMethod

# A float or a count above this is a typing slip, not a drawer (a van takes a few thousand pounds a day).
MAX_CASH_PIASTRES = 10_000_000  # 100,000 EGP
MAX_REASON = 500
DEFAULT_THRESHOLD_PIASTRES = 2_000  # 20 EGP: a larger difference needs a supervisor (``[shift] threshold_egp``)


class ShiftState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ShiftError(EdgeError):
    """Base of the shift's refusals; each says what to do next."""


class ShiftAlreadyOpen(ShiftError):
    code = "shift-already-open"

    def __init__(self, shift_id: int):
        super().__init__("لديك وردية مفتوحة بالفعل. أغلقها قبل فتح وردية جديدة.",
                         "You already have an open shift. Close it before opening a new one.",
                         detail=f"shift {shift_id} is open")


class NoOpenShift(ShiftError):
    code = "shift-not-open"

    def __init__(self):
        super().__init__("لا توجد وردية مفتوحة لك. افتح ورديتك وعُدّ النقدية في الدرج قبل تحصيل أي رسوم.",
                         "You have no open shift. Open your shift and count the cash in the drawer before "
                         "taking any fee.")


class ShiftFromAnotherDay(ShiftError):
    code = "shift-stale"

    def __init__(self, day: str):
        super().__init__(f"ورديتك المفتوحة منذ {eastern_run(day)} لم تُغلق. يجب أن يغلقها مشرف قبل تحصيل رسوم جديدة.",
                         f"Your shift open since {day} was never closed. A supervisor must close it before "
                         "any new fee is taken.", detail=f"open since {day}")


class ShiftClosed(ShiftError):
    code = "shift-closed"

    def __init__(self, shift_id: int):
        super().__init__("هذه الوردية مغلقة، ولا يمكن تعديلها أو إعادة فتحها.",
                         "This shift is closed; it cannot be changed or reopened.", detail=f"shift {shift_id}")


class BadCashAmount(ShiftError):
    code = "shift-bad-amount"

    def __init__(self, what_ar: str, what_en: str):
        super().__init__(f"اكتب {what_ar} بالجنيه، مثل ٢٥٠ أو ٢٥٠٫٥٠.",
                         f"Write the {what_en} in pounds, like 250 or 250.50.")


class DifferenceReasonMissing(ShiftError):
    code = "shift-difference-reason"

    def __init__(self, difference: int):
        ar, en = difference_words(difference)
        super().__init__(
            f"النقدية المعدودة لا تطابق ما سجّلته العربة: {ar}. اكتب سبب الفرق.",
            f"The counted cash does not match what the van recorded: {en}. Write the reason for the difference.")


class DifferenceNeedsSupervisor(ShiftError):
    code = "shift-difference-supervisor"

    def __init__(self, difference: int, threshold: int):
        ar, en = difference_words(difference)
        super().__init__(
            f"الفرق ({ar}) أكبر من {format_egp(threshold, 'ar')}: يجب أن يعتمده مشرف برقمه ورمزه السري.",
            f"The difference ({en}) is more than {format_egp(threshold, 'en')}: a supervisor must confirm it with "
            "their number and PIN.")


class SelfConfirmation(ShiftError):
    code = "shift-self-confirmation"

    def __init__(self):
        super().__init__("لا يعتمد أحد فرق ورديته بنفسه. اطلب من مشرف آخر أن يكتب رقمه ورمزه السري.",
                         "Nobody confirms the difference of their own shift. Ask another supervisor to type their "
                         "number and PIN.")


class StaleCloseNeedsSupervisor(ShiftError):
    code = "shift-stale-close"

    def __init__(self, day: str):
        super().__init__(f"هذه الوردية مفتوحة منذ {eastern_run(day)}. يغلقها مشرف برقمه ورمزه السري بعد عدّ الدرج معك.",
                         f"This shift has been open since {day}. A supervisor closes it with their number and PIN, "
                         "after counting the drawer with you.", detail=f"open since {day}")


class HandOverToSelf(ShiftError):
    code = "shift-hand-over-self"

    def __init__(self):
        super().__init__("اكتب رقم الموظف الذي يستلم الدرج ورمزه السري، لا رقمك أنت. أو اترك الحقلين فارغين.",
                         "Type the number and PIN of the operator who takes the drawer, not your own. Or leave "
                         "both fields empty.")


class NextShiftOpen(ShiftError):
    code = "shift-next-open"

    def __init__(self, operator: str):
        number = operator.partition(":")[2] or operator
        super().__init__(f"الموظف رقم {eastern_run(number)} لديه وردية مفتوحة بالفعل، فلا يمكنه استلام درجك. "
                         "يغلق ورديته أولًا، أو أغلق ورديتك دون تسليم.",
                         f"Operator {number} already has an open shift, so they cannot take your drawer. They close "
                         "theirs first, or close yours without a hand-over.", detail=operator)


class NotYourShift(ShiftError):
    code = "shift-not-yours"

    def __init__(self):
        super().__init__("تقرير هذه الوردية لموظفها وللمشرفين فقط.",
                         "This shift's report is for its operator and the supervisors only.")


class OwnShiftHere(ShiftError):
    code = "shift-own-here"

    def __init__(self):
        super().__init__("هذه ورديتك أنت: أغلقها من نموذج إغلاق ورديتك، ويعتمد الفرق مشرف آخر.",
                         "This is your own shift: close it with your shift's closing form, and another supervisor "
                         "confirms any difference.")


@dataclass(frozen=True)
class ShiftTotals:
    """What the van recorded during one shift. Amounts in piastres; ``fees`` and ``refunds`` by payment method."""

    requests: int = 0
    fees: Mapping[str, int] = field(default_factory=dict)
    cancellations: int = 0
    refunds: Mapping[str, int] = field(default_factory=dict)
    refund_count: int = 0
    reprints: int = 0
    tickets_served: int = 0
    no_shows: int = 0

    @property
    def fees_total(self) -> int:
        return sum(self.fees.values())

    @property
    def refunds_total(self) -> int:
        return sum(self.refunds.values())

    def as_dict(self) -> dict:
        return {"requests": self.requests, "fees": {m.value: self.fees.get(m.value, 0) for m in PaymentMethod},
                "cancellations": self.cancellations,
                "refunds": {m.value: self.refunds.get(m.value, 0) for m in PaymentMethod},
                "refund_count": self.refund_count, "reprints": self.reprints,
                "tickets_served": self.tickets_served, "no_shows": self.no_shows}

    @classmethod
    def from_dict(cls, d: Mapping) -> ShiftTotals:
        return cls(requests=int(d.get("requests", 0)), fees=dict(d.get("fees", {})),
                   cancellations=int(d.get("cancellations", 0)), refunds=dict(d.get("refunds", {})),
                   refund_count=int(d.get("refund_count", 0)), reprints=int(d.get("reprints", 0)),
                   tickets_served=int(d.get("tickets_served", 0)), no_shows=int(d.get("no_shows", 0)))


def totals(payments: Iterable[tuple[str, int]], refunds: Iterable[tuple[str, int]], *, cancellations: int = 0,
           reprints: int = 0, tickets_served: int = 0, no_shows: int = 0) -> ShiftTotals:
    """Totals from the shift's events: ``payments`` and ``refunds`` as (method, piastres) pairs."""
    fees: dict[str, int] = {}
    count = 0
    for method, amount in payments:
        fees[method] = fees.get(method, 0) + amount
        count += 1
    back: dict[str, int] = {}
    refund_count = 0
    for method, amount in refunds:
        back[method] = back.get(method, 0) + amount
        refund_count += 1
    return ShiftTotals(requests=count, fees=fees, cancellations=cancellations, refunds=back,
                       refund_count=refund_count, reprints=reprints, tickets_served=tickets_served,
                       no_shows=no_shows)


def expected_cash(opening_float: int, t: ShiftTotals) -> int:
    """What the drawer should hold: the float, plus cash taken, minus cash handed back."""
    cash = PaymentMethod.CASH.value
    return opening_float + t.fees.get(cash, 0) - t.refunds.get(cash, 0)


def check_cash(amount: int | None, what_ar: str, what_en: str) -> int:
    if amount is None or amount < 0 or amount > MAX_CASH_PIASTRES:
        raise BadCashAmount(what_ar, what_en)
    return amount


def check_close(difference: int, reason: str | None, confirmed_by: str | None, threshold: int) -> str:
    """The reason as recorded; refuses a difference without a reason, or above the threshold without a
    supervisor. A count equal to the record needs neither."""
    reason = " ".join((reason or "").split())[:MAX_REASON]
    if difference == 0:
        return reason
    if not reason:
        raise DifferenceReasonMissing(difference)
    if abs(difference) > threshold and not confirmed_by:
        raise DifferenceNeedsSupervisor(difference, threshold)
    return reason


def difference_words(piastres: int) -> tuple[str, str]:
    """A cash difference in the words of a till, (Arabic, English): short (عجز), over (زيادة), or none — never a
    bare minus sign, which the bidi algorithm may draw on either side of Arabic digits."""
    if piastres == 0:
        return "لا يوجد فرق", "none"
    amount_ar, amount_en = format_egp(abs(piastres), "ar"), format_egp(abs(piastres), "en")
    return (f"عجز {amount_ar}", f"short {amount_en}") if piastres < 0 else (f"زيادة {amount_ar}", f"over {amount_en}")
