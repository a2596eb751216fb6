"""The simulated modem (``sim://?fault=weak``): an LTE modem on Vodafone EG whose faults can be switched."""

from __future__ import annotations

from edge.devices.modem.base import ModemStatus
from edge.devices.twins import Twins
from edge.devices.urls import DeviceUrl


class SimModem:
    """The twin: an LTE modem on Vodafone EG; faults ``no_signal``, ``detached``, ``weak``, ``absent``."""

    FAULTS = ("no_signal", "detached", "weak", "absent")

    def __init__(self, name: str = ""):
        self.name = name
        self.fault: str | None = None

    def reset(self) -> None:
        """Back as it was made (:func:`edge.devices.twins.reset_all`)."""
        self.__init__(self.name)


    def set_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in self.FAULTS:
            raise ValueError(f"unknown modem fault {fault!r}; one of {', '.join(self.FAULTS)}")
        self.fault = fault

    def status(self) -> ModemStatus:
        base = dict(present=True, state="connected", signal_percent=71, access_tech=("lte",),
                    operator_name="Vodafone EG", operator_code="60202", registration="home",
                    packet_service="attached", model="Simulated LTE modem")
        if self.fault == "absent":
            return ModemStatus(present=False, problem="simulated modem is unplugged")
        if self.fault == "no_signal":
            base.update(state="searching", signal_percent=0, access_tech=(), operator_name="", operator_code="",
                        registration="searching", packet_service="detached")
        elif self.fault == "detached":
            base.update(state="registered", signal_percent=55, registration="idle", packet_service="detached")
        elif self.fault == "weak":
            base.update(signal_percent=9, access_tech=("umts",))
        return ModemStatus(**base)


TWINS: Twins[SimModem] = Twins("modem", SimModem)


def device(name: str = "") -> SimModem:
    """The simulated modem called ``name`` (made on first use)."""
    return TWINS.get(name)


def sim_settings(url: DeviceUrl) -> dict:
    """``sim://NAME?fault=no_signal|detached|weak|absent``"""
    url.refuse_unknown(("fault",))
    return dict(fault=url.choice("fault", SimModem.FAULTS, None))


def open_sim(url: DeviceUrl, settings: dict) -> SimModem:
    modem = device(url.name)
    if settings["fault"]:  # sim://?fault=weak from the settings
        modem.set_fault(settings["fault"])
    return modem
