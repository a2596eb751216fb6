"""The van's LTE modem: signal, access technology, operator and state, from ModemManager (``mmcli -K``) or the sim twin.

ModemManager already owns the modem's ports; asking it (``mmcli -m any -K``, the machine-readable
key/value form) is safer than opening the AT port alongside it. Where it is not installed the
modem's state is "unknown", never a guess.
"""

from __future__ import annotations

from edge.devices.modem.base import (  # noqa: F401  (the kind's public face)
    OPERATORS,
    REGISTERED,
    WEAK_SIGNAL_PERCENT,
    ModemStatus,
    ModemUrlError,
    ModemVerdict,
    judge,
    parse_mmcli,
    status_from_mmcli,
)
from edge.devices.modem.mmcli import MmcliModem, mmcli_settings
from edge.devices.modem.sim import SimModem, open_sim, sim_settings
from edge.devices.openers import Connection, Openers

OPENERS = Openers("modem", [
    Connection("mmcli", lambda url, s, **kw: MmcliModem(url, **kw), mmcli_settings, "mmcli://"),
    Connection("sim", lambda url, s, **kw: open_sim(url, s), sim_settings, "sim://"),
])


def open_modem(url: str, **kwargs):
    """The modem named by the settings URL; every kind answers ``status() -> ModemStatus``."""
    return OPENERS.open(url, **kwargs)


__all__ = ["OPENERS", "MmcliModem", "ModemStatus", "ModemUrlError", "ModemVerdict", "SimModem", "judge", "open_modem",
           "parse_mmcli", "status_from_mmcli"]
