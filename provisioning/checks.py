"""The provisioning tool's error, and the checks of what a technician types: a governorate code, a van id.

At the bottom of the tool so that the CA folder (``pki``), the broker's configuration (``broker``) and the
rest all use one copy without importing each other (``pki`` builds on ``broker``, never the other way).
"""

from __future__ import annotations

from edge.core import governorates
from edge.core.errors import EdgeError
from edge.core.vans import VAN_ID

# The hub's certificate CN, and so its MQTT username: not a van id, so it can never name a van.
HUB_CN = "hub"


class ProvisioningError(EdgeError):
    """Something a technician or governorate admin must fix before provisioning can go on."""

    code = "provisioning"

    def __init__(self, message_en: str, message_ar: str, *, detail: str = "", code: str | None = None):
        super().__init__(message_ar, message_en, detail=detail or message_en, code=code)


def check_governorate(gov: str) -> str:
    if gov not in governorates.ASSIGNABLE:
        raise ProvisioningError(
            f"'{gov}' is not a governorate code: use two digits such as 01 (Cairo) or 21 (Giza).",
            f"«{gov}» ليس رمز محافظة: استخدم رقمين مثل 01 (القاهرة) أو 21 (الجيزة).",
            code="provisioning-governorate",
        )
    return gov


def check_van(van: str) -> str:
    if not VAN_ID.fullmatch(van):
        raise ProvisioningError(
            f"'{van}' is not a van id: use V followed by 3 digits, e.g. V007.",
            f"«{van}» ليس رقم عربة: استخدم V ثم ثلاثة أرقام، مثل V007.",
            code="provisioning-van",
        )
    return van
