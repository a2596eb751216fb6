"""Service requests: their life-cycle states, fleet-unique request numbers, and payment checks."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from enum import StrEnum

from edge.core.digits import eastern_run, to_ascii, to_eastern
from edge.core.errors import EdgeError
from edge.core.money import format_egp
from edge.core.vans import VAN_ID

# --------------------------------------------------------------------------------------------------
# States
# --------------------------------------------------------------------------------------------------


class RequestState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"  # received by the governorate
    UNDER_REVIEW = "under_review"
    READY = "ready"
    REJECTED = "rejected"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"  # at the van, before the governorate decided (a paid one with its refund)


_S = RequestState
# The whole life cycle in one table. Besides the normal one-step path, the governorate may skip ahead
# (submitted → under_review/ready/rejected, received → ready/rejected): downlink status messages can
# arrive out of order, or a step may not be reported at all. Nothing ever moves backwards, and the
# terminal states (rejected, delivered, cancelled) have no way out. The van may cancel exactly where the
# governorate may still reject: before a decision.
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    _S.DRAFT: frozenset({_S.SUBMITTED}),
    _S.SUBMITTED: frozenset({_S.RECEIVED, _S.UNDER_REVIEW, _S.READY, _S.REJECTED, _S.CANCELLED}),
    _S.RECEIVED: frozenset({_S.UNDER_REVIEW, _S.READY, _S.REJECTED, _S.CANCELLED}),
    _S.UNDER_REVIEW: frozenset({_S.READY, _S.REJECTED, _S.CANCELLED}),
    _S.READY: frozenset({_S.DELIVERED}),
    _S.REJECTED: frozenset(),
    _S.DELIVERED: frozenset(),
    _S.CANCELLED: frozenset(),
}

# How far along the life cycle a state is; every allowed transition strictly increases it. Ready and
# rejected are alternatives at the same step.
STAGE: dict[RequestState, int] = {
    _S.DRAFT: 0,
    _S.SUBMITTED: 1,
    _S.RECEIVED: 2,
    _S.UNDER_REVIEW: 3,
    _S.READY: 4,
    _S.REJECTED: 4,
    _S.CANCELLED: 4,
    _S.DELIVERED: 5,
}


@dataclass(frozen=True)
class StateLabel:
    """What a citizen reads about a state: its name and what to do next, in Arabic and English."""

    ar: str
    en: str
    next_ar: str
    next_en: str

    def name(self, lang: str = "ar") -> str:
        return self.en if lang == "en" else self.ar

    def next_step(self, lang: str = "ar") -> str:
        return self.next_en if lang == "en" else self.next_ar


STATE_LABELS: dict[RequestState, StateLabel] = {
    _S.DRAFT: StateLabel(
        "مسودة",
        "Draft",
        "طلبك لم يُرسل بعد. أكمل البيانات وادفع الرسوم عند الموظف لإرساله.",
        "Your request has not been sent yet. Finish the details and pay the fee at the counter to send it.",
    ),
    _S.SUBMITTED: StateLabel(
        "تم التقديم",
        "Submitted",
        "تم تقديم طلبك في العربة. احتفظ بالإيصال، وستصلك رسالة عند وجود جديد.",
        "Your request was submitted at the van. Keep your receipt; you will be told when there is news.",
    ),
    _S.RECEIVED: StateLabel(
        "استلمته المحافظة",
        "Received by the governorate",
        "وصل طلبك إلى المحافظة. لا تحتاج إلى فعل شيء الآن.",
        "Your request has reached the governorate. You do not need to do anything now.",
    ),
    _S.UNDER_REVIEW: StateLabel(
        "قيد المراجعة",
        "Under review",
        "يراجع الموظفون طلبك الآن. لا تحتاج إلى فعل شيء؛ احتفظ بالإيصال.",
        "Staff are checking your request. You do not need to do anything; keep your receipt.",
    ),
    _S.READY: StateLabel(
        "جاهز للاستلام",
        "Ready to collect",
        "مستندك جاهز. أحضر الإيصال وبطاقة الرقم القومي لاستلامه.",
        "Your document is ready. Bring your receipt and national ID to collect it.",
    ),
    _S.REJECTED: StateLabel(
        "مرفوض",
        "Rejected",
        "لم يُقبل طلبك. اسأل الموظف في العربة عن السبب وعمّا تحتاجه لتقديم طلب جديد.",
        "Your request was not accepted. Ask the staff at the van why, and what you need to apply again.",
    ),
    _S.DELIVERED: StateLabel(
        "تم التسليم",
        "Delivered",
        "استلمت مستندك. لا يوجد شيء آخر لفعله في هذا الطلب.",
        "You have collected your document. There is nothing more to do for this request.",
    ),
    _S.CANCELLED: StateLabel(
        "أُلغي",
        "Cancelled",
        "أُلغي هذا الطلب في العربة، وما دُفع من رسوم رُدّ. يمكنك تقديم طلب جديد في أي وقت.",
        "This request was cancelled at the van, and any fee paid was refunded. You may apply again at any time.",
    ),
}


class InvalidTransition(EdgeError):
    """A request cannot move from ``current`` to ``target``."""

    code = "request-invalid-transition"

    def __init__(self, current: RequestState, target: RequestState):
        self.current = current
        self.target = target
        cur, tgt = STATE_LABELS[current], STATE_LABELS[target]
        if is_terminal(current):
            why_ar = "هذا الطلب مغلق. إذا احتاج المواطن إلى خدمة أخرى فابدأ طلبًا جديدًا."
            why_en = "this request is closed. If the citizen needs more, start a new request."
        else:
            why_ar = "الطلب يتقدم إلى الأمام فقط. أعد تحميل الطلب لترى حالته الحالية."
            why_en = "a request only moves forward. Reload the request to see its current state."
        super().__init__(
            f"لا يمكن تغيير حالة الطلب من «{cur.ar}» إلى «{tgt.ar}»: {why_ar}",
            f"Cannot change the request from “{cur.en}” to “{tgt.en}”: {why_en}",
            detail=f"{current.value} -> {target.value} is not in TRANSITIONS",
        )


def is_terminal(state: RequestState) -> bool:
    """True for states a request never leaves (rejected, delivered)."""
    return not TRANSITIONS[RequestState(state)]


def can_transition(current: RequestState, target: RequestState) -> bool:
    return RequestState(target) in TRANSITIONS[RequestState(current)]


def transition(current: RequestState, target: RequestState) -> RequestState:
    """Return ``target`` if a request in ``current`` may move there, else raise InvalidTransition.

    Plain strings ("ready") are accepted; an unknown state name raises ValueError. Moving to the same
    state is refused too: a repeated downlink message is a duplicate to drop, not a transition.
    """
    current, target = RequestState(current), RequestState(target)
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)
    return target


class CancelReasonMissing(EdgeError):
    code = "request-cancel-reason-missing"

    def __init__(self):
        super().__init__("اكتب سبب الإلغاء.", "Type the reason for cancelling.")


class NotCancellable(EdgeError):
    code = "request-not-cancellable"

    def __init__(self, state: RequestState):
        super().__init__("لا يمكن إلغاء طلب صدر فيه قرار.", "A request that has been decided cannot be cancelled.",
                         detail=f"state {RequestState(state).value}")


class RefundNeedsSupervisor(EdgeError):
    code = "request-refund-needs-supervisor"

    def __init__(self, paid_piastres: int):
        super().__init__(
            f"هذا الطلب مدفوع ({format_egp(paid_piastres, 'ar')}): إلغاؤه يرد المبلغ للمواطن ويحتاج إلى اعتماد "
            "المشرف برقمه ورمزه السري.",
            f"This request was paid ({format_egp(paid_piastres, 'en')}): cancelling it refunds the citizen and needs "
            "a supervisor's number and PIN.",
            detail=f"paid {paid_piastres} piastres",
        )


CANCEL_REASON_MAX = 300


def cancellable(state: RequestState) -> bool:
    """May the van still cancel a request in ``state``? Before the governorate has decided."""
    return can_transition(state, RequestState.CANCELLED)


def cancel_reason(state: RequestState, reason: str) -> str:
    """The reason for cancelling a request in ``state``, spaces folded and cut to ``CANCEL_REASON_MAX``;
    raises CancelReasonMissing for a blank one, then NotCancellable once the governorate has decided."""
    reason = " ".join((reason or "").split())[:CANCEL_REASON_MAX]
    if not reason:
        raise CancelReasonMissing()
    if not cancellable(state):
        raise NotCancellable(state)
    return reason


# --------------------------------------------------------------------------------------------------
# Request numbers
# --------------------------------------------------------------------------------------------------

MAX_VAN = 999
MAX_SEQ = 9999
# Training mode numbers its requests from 9001 a day, real requests stop at 9000: a training paper can never
# carry a real request's number (issue 18), and anyone can tell one from its number alone.
TRAINING_FIRST_SEQ = 9001
MAX_REAL_SEQ = TRAINING_FIRST_SEQ - 1
TRAINING_MARK = "TRAINING"  # what a training receipt's QR code starts with (it is never signed)
DIGITS = 14  # 3 van + 6 date + 4 sequence + 1 check
_SEPARATORS = " -\u2010\u2011\u2012\u2013\u2014\u2212"
_ASCII_DIGITS = frozenset("0123456789")
_EXAMPLE = "007-261121-0001-5"

# Damm's table: a totally anti-symmetric quasigroup of order 10. Its one check digit catches every
# single-digit substitution and every swap of two adjacent digits: the two typos people make most.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _damm_interim(digits: str) -> int:
    interim = 0
    for c in digits:
        if c not in _ASCII_DIGITS:
            raise ValueError(f"Damm check digit needs ASCII digits, got {c!r}")
        interim = _DAMM[interim][int(c)]
    return interim


def damm_check_digit(digits: str) -> str:
    """The Damm check digit of a string of ASCII digits; appending it makes the whole string valid."""
    return str(_damm_interim(digits))


def damm_is_valid(digits: str) -> bool:
    """True if ``digits`` ends in its correct Damm check digit."""
    return _damm_interim(digits) == 0


class InvalidVanId(EdgeError):
    code = "van-id-invalid"


def van_number(van_id: str) -> int:
    """The fleet-wide number of a van: "V007" → 7. Van ids are "V" and three digits, V001–V999."""
    match = VAN_ID.fullmatch(van_id) if isinstance(van_id, str) else None
    if match is None or int(match[1]) == 0:
        raise InvalidVanId(
            f"رقم العربة «{van_id}» غير صحيح. يجب أن يكون الحرف V ثم ثلاثة أرقام من V001 إلى V999. "
            "راجع إعدادات العربة.",
            f"Van id “{van_id}” is not valid: it must be V followed by three digits, V001 to V999. "
            "Check the van's configuration.",
            detail=f"van id {van_id!r}",
        )
    return int(match[1])


def van_id(number: int) -> str:
    """The van id for a fleet number: 7 → "V007"."""
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_VAN:
        raise InvalidVanId(
            "رقم العربة يجب أن يكون من ١ إلى ٩٩٩. راجع إعدادات العربة.",
            "A van number must be from 1 to 999. Check the van's configuration.",
            detail=f"van number {number!r}",
        )
    return f"V{number:03d}"


class InvalidRequestNumber(EdgeError):
    """A request number that cannot be right. ``reason``: "length", "not-digits", "check-digit"
    (most likely a typo), "date", "van", "seq"; ``code`` is ``f"request-number-{reason}"``."""

    def __init__(self, reason: str, message_ar: str, message_en: str, *, detail: str = ""):
        self.reason = reason
        super().__init__(message_ar, message_en, detail=detail, code=f"request-number-{reason}")


@dataclass(frozen=True, order=True)
class RequestNumber:
    """A request number unique across the fleet without any network: van + local date + daily sequence.

    Each van numbers its own requests 1–9000 per day (9001–9999 are training mode's), so two vans never
    collide. The digits are
    van (3) + YYMMDD (6) + sequence (4) + Damm check digit (1): digits only, so a citizen can type it
    on an Arabic numeric keypad. Years are 2000–2099.
    """

    van: int
    day: datetime.date
    seq: int

    def __post_init__(self) -> None:
        if isinstance(self.van, bool) or not isinstance(self.van, int) or not 1 <= self.van <= MAX_VAN:
            raise _field_error("van", f"van number {self.van!r} is not 1–{MAX_VAN}")
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or not 1 <= self.seq <= MAX_SEQ:
            raise _field_error("seq", f"sequence {self.seq!r} is not 1–{MAX_SEQ}")
        # A datetime is a date subclass but would compare unequal to the parsed date: refuse it.
        is_plain_date = isinstance(self.day, datetime.date) and not isinstance(self.day, datetime.datetime)
        if not is_plain_date or not 2000 <= self.day.year <= 2099:
            raise _field_error("date", f"day {self.day!r} is not a date in 2000–2099")

    @property
    def training(self) -> bool:
        """A number from training mode's series (9001–9999): never a real request."""
        return self.seq >= TRAINING_FIRST_SEQ

    @property
    def digits(self) -> str:
        """The 14 digits without separators, check digit last."""
        body = self._body()
        return body + damm_check_digit(body)

    @property
    def check_digit(self) -> str:
        return damm_check_digit(self._body())

    def _body(self) -> str:
        return f"{self.van:03d}{self.day:%y%m%d}{self.seq:04d}"

    def __str__(self) -> str:
        """Canonical display "007-261121-0001-5"; for Arabic screens pass it through to_eastern()."""
        d = self.digits
        return f"{d[:3]}-{d[3:9]}-{d[9:13]}-{d[13]}"


def parse_request_number(text: str) -> RequestNumber:
    """Read a request number as typed: hyphens/spaces or none, ASCII, Eastern Arabic or Persian digits.

    The check digit is verified before anything else, because a wrong check digit almost always
    means a typo, and that is what the citizen should be told.
    """
    digits = "".join(c for c in to_ascii(text) if c not in _SEPARATORS and not c.isspace())
    bad = next((c for c in digits if c not in _ASCII_DIGITS), None)
    if bad is not None:
        shown = bad if bad.isprintable() else f"U+{ord(bad):04X}"
        raise InvalidRequestNumber(
            "not-digits",
            f"رقم الطلب يتكون من أرقام فقط، و«{shown}» ليس رقمًا. "
            f"اكتب الرقم المطبوع على الإيصال، مثل {eastern_run(_EXAMPLE)}.",
            f"A request number has digits only; “{shown}” is not a digit. "
            f"Type the number printed on your receipt, e.g. {_EXAMPLE}.",
            detail=f"first non-digit {bad!r}",
        )
    if len(digits) != DIGITS:
        raise InvalidRequestNumber(
            "length",
            f"رقم الطلب يتكون من {to_eastern(DIGITS)} رقمًا، وعدد الأرقام التي أدخلتها "
            f"{to_eastern(len(digits))}. اكتب الرقم المطبوع على الإيصال، مثل {eastern_run(_EXAMPLE)}.",
            f"A request number has {DIGITS} digits; you entered {len(digits)}. "
            f"Type the number printed on your receipt, e.g. {_EXAMPLE}.",
            detail=f"{len(digits)} digits",
        )
    if not damm_is_valid(digits):
        raise InvalidRequestNumber(
            "check-digit",
            "رقم الطلب غير صحيح: غالبًا هناك رقم مكتوب خطأ أو رقمان متبادلان. "
            "قارنه بالإيصال رقمًا رقمًا وأعد كتابته.",
            "This request number is not right: probably one digit is mistyped or two digits are "
            "swapped. Compare it with your receipt digit by digit and type it again.",
            detail=f"Damm check failed for {digits}",
        )
    try:
        day = datetime.date(2000 + int(digits[3:5]), int(digits[5:7]), int(digits[7:9]))
    except ValueError:
        raise _field_error("date", f"no such date 20{digits[3:5]}-{digits[5:7]}-{digits[7:9]}") from None
    return RequestNumber(int(digits[:3]), day, int(digits[9:13]))


def _field_error(reason: str, detail: str) -> InvalidRequestNumber:
    # Reached only when the check digit is right but a field is impossible: not a typo, so the
    # number was never issued by a van.
    return InvalidRequestNumber(
        reason,
        "رقم الطلب هذا لم تُصدره أي عربة. راجع الرقم المطبوع على الإيصال، أو اسأل الموظف.",
        "No van issues this request number. Check the number printed on your receipt, or ask the staff.",
        detail=detail,
    )


# --------------------------------------------------------------------------------------------------
# Payment
# --------------------------------------------------------------------------------------------------


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"
    REFERENCE = "reference"  # an e-payment reference (Fawry and the like)


_REFERENCE = re.compile(r"[A-Za-z0-9]{4,32}", re.ASCII)
# A card terminal's approval (authorisation) code: six letters or digits, printed on the terminal's slip
# (ISO 8583 field 38). Without it nothing shows the card payment went through.
_APPROVAL = re.compile(r"[A-Za-z0-9]{6}", re.ASCII)


class InvalidPayment(EdgeError):
    """A payment that cannot be recorded. ``reason``: "method", "amount", "reference-missing",
    "reference-format", "reference-not-allowed", "approval-missing", "approval-format", "amount-mismatch",
    "amount-assessed", "assessed-unconfirmed"; ``code`` is ``f"payment-{reason}"``."""

    def __init__(self, reason: str, message_ar: str, message_en: str, *, detail: str = ""):
        self.reason = reason
        super().__init__(message_ar, message_en, detail=detail, code=f"payment-{reason}")


@dataclass(frozen=True)
class Payment:
    """A payment taken at the van.

    ``reference`` is the e-payment reference (required for REFERENCE), the card terminal's approval code
    (required for CARD: six letters or digits, upper-cased), and must be absent for CASH. It is normalised on
    creation: surrounding spaces removed, Eastern Arabic digits turned into ASCII.
    """

    method: PaymentMethod
    amount_piastres: int
    reference: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "method", PaymentMethod(self.method))
        except ValueError:
            raise InvalidPayment(
                "method",
                "طريقة الدفع غير معروفة. اختر نقدًا أو بطاقة أو رقم دفع إلكتروني.",
                "Unknown payment method. Choose cash, card or e-payment reference.",
                detail=f"method {self.method!r}",
            ) from None
        amount = self.amount_piastres
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidPayment(
                "amount",
                "مبلغ الدفع غير صحيح. أدخل المبلغ المدفوع بالجنيه.",
                "The payment amount is not valid. Enter the amount paid in EGP.",
                detail=f"amount_piastres {amount!r} must be an int >= 0",
            )
        object.__setattr__(self, "reference", self._checked_reference())

    def _checked_reference(self) -> str | None:
        ref = self.reference
        if ref is not None:
            ref = to_ascii(str(ref)).strip()
        if self.method is PaymentMethod.CASH:
            if ref:
                raise InvalidPayment(
                    "reference-not-allowed",
                    "الدفع النقدي ليس له رقم مرجعي. امسح الرقم المرجعي أو غيّر طريقة الدفع.",
                    "A cash payment has no reference. Clear the reference or change the payment method.",
                    detail="cash payment with a reference",
                )
            return None
        if self.method is PaymentMethod.CARD:
            if not ref:
                raise InvalidPayment(
                    "approval-missing",
                    "الدفع بالبطاقة يحتاج إلى رمز الموافقة. اكتب رمز الموافقة المطبوع على إيصال جهاز البطاقة "
                    "(٦ حروف أو أرقام).",
                    "A card payment needs its approval code. Type the approval code printed on the card "
                    "terminal's slip (6 letters or digits).",
                    detail="card payment without an approval code",
                )
            if not _APPROVAL.fullmatch(ref):
                raise InvalidPayment(
                    "approval-format",
                    "رمز الموافقة يتكون من ٦ حروف أو أرقام إنجليزية كما يظهر على إيصال جهاز البطاقة. راجعه "
                    "وأعد كتابته.",
                    "An approval code is 6 letters or digits, as on the card terminal's slip. Check it and "
                    "type it again.",
                    detail=f"card approval code of length {len(ref)} rejected",
                )
            return ref.upper()
        if not ref:
            raise InvalidPayment(
                "reference-missing",
                "الدفع الإلكتروني يحتاج إلى الرقم المرجعي. اكتب الرقم المرجعي المطبوع على إيصال الدفع.",
                "An e-payment needs its reference. Type the reference printed on the payment receipt.",
                detail="reference payment without a reference",
            )
        if not _REFERENCE.fullmatch(ref):
            raise InvalidPayment(
                "reference-format",
                "الرقم المرجعي يتكون من ٤ إلى ٣٢ حرفًا أو رقمًا إنجليزيًا دون مسافات أو رموز. "
                "راجعه وأعد كتابته.",
                "A reference is 4 to 32 letters or digits, without spaces or symbols. "
                "Check it and type it again.",
                detail=f"{self.method.value} reference of length {len(ref)} rejected",
            )
        return ref


def check_payment(payment: Payment, fee_piastres: int, *, assessed_max: int | None = None,
                  confirmed_by: str | None = None) -> None:
    """Raise InvalidPayment unless ``payment`` is exactly the fee: a van takes no partial payments,
    and for an overpayment in cash the operator gives change and records the fee.

    ``assessed_max``: the service's amount is assessed case by case (edge.core.catalogue.Service.fee_max_piastres):
    the payment is the amount the operator entered, above 0 and at most this, and ``confirmed_by`` (the
    supervisor who confirmed it) is required."""
    if assessed_max is not None:
        if not 0 < payment.amount_piastres <= assessed_max:
            most_ar, most_en = format_egp(assessed_max, "ar"), format_egp(assessed_max, "en")
            raise InvalidPayment(
                "amount-assessed",
                f"المبلغ المقدَّر لهذه الخدمة يجب أن يكون أكبر من صفر وحتى {most_ar}. راجع المبلغ في ملف الطلب.",
                f"The assessed amount for this service must be above 0 and at most {most_en}. Check the amount "
                "in the application's file.",
                detail=f"assessed {payment.amount_piastres} piastres, bound {assessed_max}",
            )
        if not confirmed_by:
            raise InvalidPayment(
                "assessed-unconfirmed",
                "المبلغ المقدَّر يحتاج إلى اعتماد المشرف: يكتب المشرف رقمه ورمزه السري.",
                "An assessed amount needs a supervisor's confirmation: the supervisor types their number and PIN.",
                detail="assessed amount without a supervisor",
            )
        return
    if payment.amount_piastres == fee_piastres:
        return
    paid_ar, fee_ar = format_egp(payment.amount_piastres, "ar"), format_egp(fee_piastres, "ar")
    paid_en, fee_en = format_egp(payment.amount_piastres, "en"), format_egp(fee_piastres, "en")
    raise InvalidPayment(
        "amount-mismatch",
        f"المبلغ المدفوع {paid_ar} لكن الرسوم {fee_ar}. العربة تقبل الرسوم كاملة فقط: "
        f"سجّل {fee_ar} بالضبط، وفي الدفع النقدي أعد الباقي قبل التسجيل.",
        f"The payment is {paid_en} but the fee is {fee_en}. The van takes the exact fee only: "
        f"record exactly {fee_en}; for cash, give change before recording.",
        detail=f"paid {payment.amount_piastres} piastres, fee {fee_piastres}",
    )
