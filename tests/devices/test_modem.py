"""LTE modem: ModemManager's ``mmcli -K`` output parsed from a real sample; absent mmcli means "unknown"."""

from __future__ import annotations

import stat

import pytest

from edge.devices.modem import MmcliModem, ModemUrlError, SimModem, judge, open_modem, parse_mmcli, status_from_mmcli
from tests.support.paths import FIXTURES


def test_a_connected_lte_modem_is_read_from_mmcli():
    status = status_from_mmcli((FIXTURES / "mmcli-m0-K.txt").read_text())
    assert status.present and status.state == "connected"
    assert status.signal_percent == 67
    assert status.access_tech == ("lte",)
    assert status.operator_name == "vodafone EG" and status.operator_code == "60202"
    assert status.registration == "home" and status.packet_service == "attached"
    assert status.model == "Quectel EG25"
    assert judge(status).state == "ok"


def test_mmcli_lists_and_empty_values_are_understood():
    kv = parse_mmcli((FIXTURES / "mmcli-m0-K.txt").read_text())
    assert kv["modem.generic.drivers"] == ["option", "qmi_wwan"]
    assert kv["modem.generic.own-numbers"] == []
    assert kv["modem.3gpp.pco"] == ""


@pytest.mark.parametrize("value", ["²", "٧١", "250", "-5", "67.5", ""])
def test_a_signal_quality_that_is_no_percentage_is_no_reading_not_a_crash(value):
    text = (FIXTURES / "mmcli-m0-K.txt").read_text().replace("signal-quality.value              : 67",
                                                              f"signal-quality.value              : {value}")
    assert "signal-quality.value" in text and status_from_mmcli(text).signal_percent is None


def test_a_modem_searching_for_a_network_is_an_error_with_no_signal():
    status = status_from_mmcli((FIXTURES / "mmcli-m0-K-searching.txt").read_text())
    assert status.signal_percent == 0 and status.access_tech == ()
    assert judge(status).state == "error" and judge(status).reason == "no_signal"


def test_without_modemmanager_the_modem_is_unknown_not_guessed(tmp_path):
    modem = MmcliModem("mmcli://", mmcli=str(tmp_path / "no-such-mmcli"))
    status = modem.status()
    assert status.present is None and "not installed" in status.problem
    assert judge(status).state == "unknown"


def _fake_mmcli(tmp_path, script: str) -> str:
    path = tmp_path / "mmcli"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_the_first_modem_is_asked_for_by_default(tmp_path):
    fixture = FIXTURES / "mmcli-m0-K.txt"
    mmcli = _fake_mmcli(tmp_path, f'[ "$1 $2 $3" = "-m any -K" ] && exec cat {fixture}\nexit 2\n')
    status = MmcliModem("mmcli://", mmcli=mmcli).status()
    assert status.operator_code == "60202"


def test_an_unplugged_modem_is_an_error(tmp_path):
    mmcli = _fake_mmcli(tmp_path, "echo \"error: couldn't find modem\" >&2\nexit 1\n")
    status = MmcliModem("mmcli://0", mmcli=mmcli).status()
    assert status.present is False and judge(status).reason == "absent"


@pytest.mark.parametrize("fault, state, reason", [
    (None, "ok", "ok"), ("no_signal", "error", "no_signal"), ("detached", "error", "detached"),
    ("weak", "warning", "weak_signal"), ("absent", "error", "absent"),
])
def test_the_simulated_modem_can_lose_its_signal_or_its_network(fault, state, reason):
    modem = SimModem()
    modem.set_fault(fault)
    verdict = judge(modem.status())
    assert (verdict.state, verdict.reason) == (state, reason)


def test_an_unknown_modem_address_is_refused():
    with pytest.raises(ModemUrlError):
        open_modem("usb://modem")
