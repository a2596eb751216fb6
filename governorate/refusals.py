"""The van's refusals of a publication not newer than the one it holds (edge.sync.downlink: _store_catalogue,
_store_calendar, _check_trust_list), word for word: such a refusal says the van holds that version or a newer one —
no failure (the van page, governorate/web/downlinks.py; backoffice.queue_latest). Versions go up to 2**63 - 1
(19 digits)."""

from __future__ import annotations

import re

NOT_NEWER = re.compile(r"(?P<what>catalogue|holidays|trust list) v(?P<sent>\d{1,19}) (?:is|are) not newer than "
                       r"(?:the cached )?v(?P<held>\d{1,19})")


def holds_it(error: object) -> bool:
    """Whether a van's refusal says it holds that publication or a newer one ("catalogue v5 is not newer than v7")."""
    m = NOT_NEWER.fullmatch(error) if isinstance(error, str) and len(error) <= 600 else None
    return m is not None and int(m["held"]) >= int(m["sent"])
