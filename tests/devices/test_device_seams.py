"""One seam per device kind: one URL parser, one twin registry, one opener table that `edge config check` runs too."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from edge.cli import main
from edge.devices import kinds, twins
from edge.devices.urls import DeviceUrlError, parse
from tests.support.paths import ROOT

EDGE = ROOT / "edge"
# Modules outside edge/devices that may parse a URL, and why: none of them is a device's.
URL_PARSING_ALLOWED = {
    "edge/devices/urls.py": "the one device-URL parser",
    "edge/config.py": "the broker URL (mqtt[s]://host:port)",
    "edge/update/https.py": "the release server's https:// address (its kept-alive connections need host and port)",
}
SIM_KINDS = {"printer": "edge.devices.printer.sim", "scanner": "edge.devices.scanner.sim", "qr": "edge.devices.qr.sim",
             "camera": "edge.devices.cctv.sim", "gps": "edge.devices.gps.sim", "modem": "edge.devices.modem.sim"}


def _imports_urllib_parse(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "urllib.parse":
            return True
        if isinstance(node, ast.Import) and any(a.name == "urllib.parse" for a in node.names):
            return True
    return False


def url_parsers(root: Path) -> set[str]:
    return {str(p.relative_to(ROOT)) for p in root.rglob("*.py") if _imports_urllib_parse(p)}


REGISTRY = re.compile(r"^_?\w*(REGISTRY|SIMS|TWINS)\w*\s*[:=](?!.*\bTwins\()", re.M)


def twin_registries(root: Path) -> set[str]:
    """Module-level registries of twins that are not a ``twins.Twins`` (a dict and a lock, as there were six)."""
    found = set()
    for p in root.rglob("*.py"):
        if p.name == "twins.py" and p.parent.name == "devices":
            continue
        text = p.read_text(encoding="utf-8")
        if REGISTRY.search(text) or re.search(r"^\w+: dict\[str, Sim\w+\]", text, re.M):
            found.add(str(p.relative_to(ROOT)))
    return found


def test_only_the_shared_module_parses_device_urls():
    assert url_parsers(EDGE) <= set(URL_PARSING_ALLOWED), sorted(url_parsers(EDGE) - set(URL_PARSING_ALLOWED))


def test_no_twin_registry_outside_the_shared_one():
    assert twin_registries(EDGE) == set()
    for kind, module in SIM_KINDS.items():
        assert isinstance(importlib.import_module(module).TWINS, twins.Twins), kind


def test_the_greps_catch_what_they_look_for(tmp_path):
    # The test of the test: a module that parses a query by hand, and a hand-made registry, are found.
    (tmp_path / "bad_parse.py").write_text("from urllib.parse import parse_qs\n")
    (tmp_path / "bad_twins.py").write_text("import threading\n_REGISTRY: dict[str, SimThing] = {}\n")
    (tmp_path / "good_twins.py").write_text("TWINS: Twins[SimThing] = Twins('thing', SimThing)\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert url_parsers(tmp_path) == {"bad_parse.py"}
        assert twin_registries(tmp_path) == {"bad_twins.py"}
    finally:
        ROOT = saved


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_each_kind_opens_exactly_the_schemes_the_light_table_names(kind):
    assert tuple(kinds.openers(kind).schemes) == kinds.schemes(kind)


@pytest.mark.parametrize("kind", sorted(SIM_KINDS))
def test_sim_x_and_sim_slash_x_reach_the_same_twin_in_every_kind(kind):
    assert parse(kind, "sim://desk").name == parse(kind, "sim:///desk").name == "desk"
    module = importlib.import_module(SIM_KINDS[kind])
    assert module.device("desk") is module.TWINS.get(parse(kind, "sim:///desk").name)


def test_reset_all_puts_every_twin_back_as_it_was_made():
    from edge.devices.cctv import sim as cctv
    from edge.devices.printer import sim as printer

    paper, camera = printer.device("reset-me"), cctv.device("reset-me")
    paper.set(paper="out")
    camera.set_fault("covered")
    twins.reset_all()
    assert printer.device("reset-me") is paper and paper.paper == "ok"
    assert cctv.device("reset-me") is camera and camera.fault is None


# --- the parser -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "words"), [
    ("serial:///dev/ttyUSB0?baudrate=9600&baudrate=19200", "given twice"),
    ("printer", "scheme://"),
    ("sim://\x00", "control characters"),
    ("serial:///dev/ttyUSB0?baudrate=fast", "whole number"),
    ("serial:///dev/ttyUSB0?baudrate=12", "within"),
    ("serial:///dev/ttyUSB0?rtscts=maybe", "1 or 0"),
    ("serial:///dev/ttyUSB0?parity=Q", "one of"),
    ("serial:///dev/ttyUSB0?speling=1", "unknown option"),
    ("serial://", "needs a path"),
    ("tcp://10.0.0.5:port", "port must be a number"),
    ("usb://epson", "hex"),
    ("lpt://1", "must start with one of"),
])
def test_a_bad_printer_url_is_refused_in_both_languages_naming_the_key(url, words):
    from edge.devices.printer import open_printer

    with pytest.raises(DeviceUrlError) as err:
        open_printer(url, check_raqm=False)
    assert words in err.value.message_en and "devices.printer" in err.value.message_en
    assert "devices.printer" in err.value.message_ar and re.search("[\u0600-\u06ff]", err.value.problem_ar)


def test_a_usb_id_is_not_mistaken_for_a_port():
    from edge.devices.printer import open_printer

    printer = open_printer("usb://04b8:0e15", check_raqm=False)
    assert (printer.transport.vendor, printer.transport.product) == (0x04B8, 0x0E15)


# --- `edge config check` refuses what the device refuses, in the device's words ------------------------

BAD = [
    ("printer", "serial:///dev/ttyUSB0?baudrate=fast"),
    ("printer", "sim://?paper=empty"),
    ("printer", "tcp://printer?profile=NO-SUCH-MODEL"),
    ("scanner", "sim://?fault=on-fire"),
    ("scanner", "camera://0?width=wide"),
    ("scanner", "sane://test:0?resolution=0"),
    ("qr", "serial:///dev/ttyACM0?terminator=NUL"),
    ("qr", "hid:///dev/input/event3"),
    ("qr", "sim://?debounce=soon"),
    ("gps", "serial:///dev/ttyACM0?baudrate=x"),
    ("gps", "sim://?fault=lost"),
    ("modem", "serial:///dev/ttyUSB2"),
    ("modem", "mmcli://first"),
    ("modem", "mmcli://²"),  # a digit to str.isdigit, not to int(): refused, not passed on to mmcli
    ("qr", "camera://²"),  # ... and not a ValueError out of int()
    ("camera", "sim://front?fault=smoke"),
    ("camera", "file://"),
]


def _open(kind: str, url: str):
    """Open as the van does at start (threads started by an open are stopped again)."""
    if kind == "printer":
        from edge.devices.printer import open_printer
        return open_printer(url, check_raqm=False)
    if kind == "gps":
        from edge.devices.gps import GpsReceiver
        receiver = GpsReceiver(url)
        receiver.close()
        return receiver
    if kind == "camera":
        from edge.devices.cctv import open_camera
        camera = open_camera(url)
        camera.close()
        return camera
    opener = {"scanner": "open_scanner", "qr": "open_reader", "modem": "open_modem"}[kind]
    return getattr(importlib.import_module(kinds.KINDS[kind][0]), opener)(url)


def _settings_file(tmp_path, kind: str, url: str) -> Path:
    path = tmp_path / "van.toml"
    if kind == "camera":
        path.write_text(f'[devices.cameras]\nfront = "{url}"\n')
    else:
        path.write_text(f'[devices]\n{kind} = "{url}"\n')
    return path


@pytest.mark.parametrize(("kind", "url"), BAD)
def test_config_check_refuses_every_url_the_device_refuses_with_the_same_words(tmp_path, kind, url):
    with pytest.raises(DeviceUrlError) as at_start:
        _open(kind, url)
    result = CliRunner().invoke(main, ["config", "check", str(_settings_file(tmp_path, kind, url))])
    assert result.exit_code == 1, result.output
    assert at_start.value.problem in result.output
    assert at_start.value.problem_ar in result.output


@pytest.mark.parametrize(("kind", "url"), [("printer", "sim://?paper=near-end"), ("scanner", "sim://?fault=jammed"),
                                           ("qr", "serial:///dev/ttyACM0?terminator=LF&debounce=1.5"),
                                           ("modem", "mmcli://0"), ("camera", "rtsp://admin:pw@10.0.0.7/s1")])
def test_config_check_accepts_what_starts(tmp_path, kind, url):
    result = CliRunner().invoke(main, ["config", "check", str(_settings_file(tmp_path, kind, url))])
    assert result.exit_code == 0, result.output


OPTION_KEYS = ["baudrate", "paper", "fault", "debounce", "terminator", "profile", "width", "qr", "resolution",
               "mode", "sheets", "fps", "idle", "parity", "cover", "speed", "x"]
OPTION_VALUES = ["", "1", "0", "yes", "9600", "out", "jammed", "2.5", "-1", "CR", "abc", "TM-T88V", "raster",
                 "1e9", "nan", "Gray"]


@st.composite
def device_urls(draw):
    kind = draw(st.sampled_from(["printer", "scanner", "qr", "modem"]))
    scheme = draw(st.sampled_from([*kinds.schemes(kind), "ftp", "hid"]))
    target = draw(st.sampled_from(["", "desk", "/dev/ttyUSB0", "04b8:0202", "test:0", "0", "10.0.0.5:9100",
                                         "²", "٣"]))
    options = draw(st.lists(st.tuples(st.sampled_from(OPTION_KEYS), st.sampled_from(OPTION_VALUES)), max_size=3))
    query = "&".join(f"{k}={v}" for k, v in options)
    return kind, f"{scheme}://{target}" + (f"?{query}" if query else "")


@given(device_urls())
def test_the_check_and_the_start_agree_on_any_url(case):
    # The property behind `edge config check`: it refuses a URL exactly when the device would, with its words.
    kind, url = case
    try:
        kinds.check_url(kind, url)
        checked = None
    except DeviceUrlError as exc:
        checked = exc.message_en
    try:
        _open(kind, url)
        opened = None
    except DeviceUrlError as exc:
        opened = exc.message_en
    assert checked == opened


@pytest.mark.parametrize(("command", "kind", "url"), [("web", "printer", "sim://?paper=empty"),
                                                      ("run", "gps", "sim://?fault=lost")])
def test_the_van_refuses_to_start_on_a_url_its_device_refuses_rather_than_restart_for_ever(tmp_path, command, kind,
                                                                                          url):
    path = tmp_path / "van.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n[devices]\n{kind} = "{url}"\n')
    result = CliRunner().invoke(main, ["--config", str(path), command])
    assert result.exit_code == 1, result.output
    assert f"devices.{kind}" in result.output and "must be one of" in result.output


def test_an_error_about_a_camera_url_never_shows_its_password():
    from edge.devices.cctv import open_camera

    with pytest.raises(DeviceUrlError) as err:
        open_camera("ftp://admin:s3cret@10.0.0.9/cam")
    assert "s3cret" not in str(err.value) and "admin:***@10.0.0.9" in err.value.message_en
