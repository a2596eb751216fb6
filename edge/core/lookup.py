"""What a typed or scanned text names: a request number, a national ID, or a signed receipt code.

The console's search box and the kiosk's "track my request" take whatever a person types or holds under
the QR reader; the rules for reading it are the domain's, so they live here and are tested without a page.
"""

from __future__ import annotations

from datetime import datetime

from edge.core import codes
from edge.core import national_id as nid_mod
from edge.core import requests as rq
from edge.core.digits import to_ascii
from edge.core.errors import EdgeError


def search_filter(text: str) -> dict[str, str]:
    """The console's search for ``text``: ``{"national_id": …}`` or ``{"number": …}`` (``{}`` for nothing typed).

    Fourteen digits without hyphens are a national ID when they start with 2 or 3 (the century digit),
    otherwise a request number typed without its hyphens. Raises the bilingual error of whichever it
    cannot be.
    """
    q = to_ascii((text or "").strip())
    if not q:
        return {}
    digits = "".join(c for c in q if c.isdigit())
    if len(digits) == 14 and not q.count("-") and digits[0] in "23":
        return {"national_id": nid_mod.parse(q).number}
    return {"number": str(rq.parse_request_number(q))}


class CodeUnreadable(EdgeError):
    code = "track-code-unreadable"

    def __init__(self, detail: str = ""):
        super().__init__("تعذّرت قراءة الرمز. اكتب رقم الطلب المطبوع على الإيصال بدلًا منه.",
                         "The code could not be read. Type the request number printed on the receipt instead.",
                         detail=detail)


class TrainingDocument(EdgeError):
    code = "training-document"

    def __init__(self, detail: str = ""):
        super().__init__("تدريب — ليس مستندًا رسميًا. طُبعت هذه الورقة في وضع تدريب الموظفين، ولا تمثل طلبًا حقيقيًا.",
                         "TRAINING — not an official document. This paper was printed while staff were "
                         "training; it is not a real request.", detail=detail)


def training_paper(text: str) -> bool:
    """Whether ``text`` (typed or scanned) is a training receipt's code or number: never a real request."""
    text = to_ascii((text or "").strip())
    if text.upper().startswith(rq.TRAINING_MARK):
        return True
    try:
        return rq.parse_request_number(text).training
    except EdgeError:
        return False


def request_number_from(text: str, trust_list, now: datetime) -> str:
    """A typed request number, or the number inside a scanned receipt code (EG1:…) that verifies against
    ``trust_list`` at ``now`` (no trust list: no code can be read, and the citizen is told to type it).
    A training receipt's number or code is refused with :class:`TrainingDocument`."""
    text = (text or "").strip()
    if training_paper(text):
        raise TrainingDocument(text[:40])
    if text.upper().startswith(codes.PREFIX):
        if trust_list is not None:
            result = codes.verify(text, trust_list, now=now)
            if result.claims is not None:
                number = rq.parse_request_number(result.claims.number)
                if number.training:
                    raise TrainingDocument(str(number))
                return str(number)
        raise CodeUnreadable("no trust list" if trust_list is None else "the code did not verify")
    return str(rq.parse_request_number(text))
