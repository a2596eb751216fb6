"""The modem through ModemManager (``mmcli://`` the first modem, ``mmcli://2``): asked, never opened alongside it."""

from __future__ import annotations

import shutil
import subprocess

from edge.devices.modem.base import ModemStatus, status_from_mmcli
from edge.devices.urls import DeviceUrl, parse


def mmcli_settings(url: DeviceUrl) -> dict:
    url.refuse_unknown(())
    if url.name and not (url.name.isascii() and url.name.isdigit()):
        raise url.error("the modem is named by its ModemManager index, e.g. mmcli://0",
                        "يُحدَّد المودم برقمه في ModemManager، مثل mmcli://0")
    return dict(modem=url.name or "any")


class MmcliModem:
    """Asks ModemManager for the modem's status: ``mmcli://`` (the first modem) or ``mmcli://2``."""

    def __init__(self, url: str | DeviceUrl = "mmcli://", *, mmcli: str = "mmcli", timeout_s: float = 10.0):
        self.modem = mmcli_settings(parse("modem", url))["modem"]
        self.mmcli = mmcli
        self.timeout_s = timeout_s

    def status(self) -> ModemStatus:
        exe = shutil.which(self.mmcli)
        if exe is None:
            return ModemStatus(present=None, problem="ModemManager (mmcli) is not installed")
        try:
            done = subprocess.run([exe, "-m", self.modem, "-K"], capture_output=True, text=True,
                                  timeout=self.timeout_s)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ModemStatus(present=None, problem=f"mmcli did not answer: {exc}")
        if done.returncode != 0:
            err = (done.stderr or done.stdout).strip()
            if "couldn't find modem" in err or "no modems were found" in err.lower():
                return ModemStatus(present=False, problem=err)
            # ModemManager not running (no D-Bus name) and the like: we cannot tell.
            return ModemStatus(present=None, problem=err or f"mmcli exit status {done.returncode}")
        return status_from_mmcli(done.stdout)
