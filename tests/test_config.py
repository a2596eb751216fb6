"""The van's settings file: defaults, validation, and errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge import config


def test_demo_van_runs_with_no_file_at_all(monkeypatch, tmp_path):
    monkeypatch.delenv("EDGE_CONFIG", raising=False)
    monkeypatch.setattr(config, "DEFAULT_PATH", tmp_path / "absent.toml")
    settings = config.load()
    assert settings.van.id == "V001"
    assert settings.devices.printer == "sim://"
    assert settings.broker.url.startswith("mqtt://")
    assert settings.source == "<defaults>"


def test_full_file_is_read_into_typed_settings(tmp_path):
    path = tmp_path / "van.toml"
    path.write_text(
        'data_dir = "/var/lib/edge"\n'
        '[van]\nid = "V007"\ngovernorate = "21"\nname = "عربة الجيزة ٧"\n'
        '[devices]\nprinter = "serial:///dev/ttyUSB0?baudrate=115200"\n'
        '[devices.cameras]\nfront = "rtsp://10.0.0.5/stream"\n'
        '[broker]\nurl = "mqtt://hub.example:1883"\nkeepalive = 30\n'
        '[retention]\ndelivered_outbox_days = 7\n'
        '[catalogue.fee_overrides_egp]\nBLD-NEW = 1500.5\n',
        encoding="utf-8",
    )
    s = config.load(path)
    assert (s.van.id, s.van.governorate, s.van.name) == ("V007", "21", "عربة الجيزة ٧")
    assert s.data_dir == Path("/var/lib/edge") and s.db_path == Path("/var/lib/edge/van.db")
    assert s.devices.cameras == {"front": "rtsp://10.0.0.5/stream"}
    assert (s.broker.host, s.broker.port, s.broker.keepalive, s.broker.tls) == ("hub.example", 1883, 30, False)
    assert s.retention.delivered_outbox_days == 7 and s.retention.device_events_days == 14
    assert s.catalogue.fee_overrides_egp == {"BLD-NEW": 1500.5}


def test_edge_config_variable_names_the_file(monkeypatch, tmp_path):
    path = tmp_path / "other.toml"
    path.write_text('[van]\nid = "V042"\n')
    monkeypatch.setenv("EDGE_CONFIG", str(path))
    assert config.load().van.id == "V042"


def test_named_file_that_does_not_exist_stops_start_up(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(config.ConfigError) as err:
        config.load()
    assert "missing.toml" in err.value.message_en and "does not exist" in err.value.message_en


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[van]\nid = "7"\n', "van.id", "V followed by 3 digits"),
        ('[van]\ngovernorate = "20"\n', "van.governorate", "not a governorate code"),
        ('[van]\ngovernorate = "88"\n', "van.governorate", "not a governorate code"),
        ('[van]\nidd = "V001"\n', "van.idd", "did you mean 'id'"),
        ('[brokr]\nurl = "mqtt://x"\n', "brokr", "did you mean 'broker'"),
        ('[devices]\nprinter = "lpt://1"\n', "devices.printer", "must start with one of"),
        ('[devices.cameras]\nfront = "ftp://cam"\n', "devices.cameras.front", "must start with one of"),
        ('[broker]\nurl = "mqtts://hub:8883"\n', "broker.ca_file", "required"),
        ('[broker]\nkeepalive = "60"\n', "broker.keepalive", "whole number"),
        ('[broker]\nkeepalive = 5\n', "broker.keepalive", "between 10 and 1200"),
        ('[broker]\ncert_file = "/nonexistent.pem"\n', "broker.key_file", "together"),
        ('[web]\nport = 70000\n', "web.port", "TCP port"),
        ('[retention]\ndelivered_outbox_days = 0\n', "retention.delivered_outbox_days", "at least 1"),
        ('[catalogue.fee_overrides_egp]\nBLD-NEW = -5\n', "catalogue.fee_overrides_egp.BLD-NEW", "0 or more"),
        ('[catalogue.fee_overrides_egp]\nBLD-NEW = 10.555\n', "catalogue.fee_overrides_egp.BLD-NEW", "two digits"),
        ("van = 3\n", "van", "must be a table"),
        ("[van\n", "(syntax)", "not valid TOML"),
    ],
)
def test_wrong_setting_is_refused_naming_key_and_file(tmp_path, text, key, words):
    path = tmp_path / "van.toml"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert err.value.key == key
    assert str(path) in err.value.message_en and key in err.value.message_en
    assert words in err.value.message_en
    assert str(path) in err.value.message_ar and key in err.value.message_ar


def test_tls_ca_file_that_does_not_exist_is_refused(tmp_path):
    path = tmp_path / "van.toml"
    path.write_text(f'[broker]\nurl = "mqtts://hub:8883"\nca_file = "{tmp_path / "absent.pem"}"\n')
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert err.value.key == "broker.ca_file" and "does not exist" in err.value.message_en


def test_relative_data_dir_is_relative_to_the_settings_file(tmp_path):
    path = tmp_path / "etc" / "van.toml"
    path.parent.mkdir()
    path.write_text('data_dir = "state"\n')
    assert config.load(path).data_dir == tmp_path / "etc" / "state"


def test_systemd_state_directory_is_the_default_data_dir(monkeypatch):
    monkeypatch.delenv("EDGE_DATA_DIR", raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/edge")
    assert config.default_data_dir() == Path("/var/lib/edge")


def test_tls_settings_need_existing_files(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    path = tmp_path / "van.toml"
    path.write_text(f'[broker]\nurl = "mqtts://hub:8883"\nca_file = "{ca}"\n')
    s = config.load(path)
    assert s.broker.tls and s.broker.port == 8883


def test_fee_override_applies_to_the_loaded_catalogue(tmp_path, catalogue):
    service = catalogue.services[0]
    path = tmp_path / "van.toml"
    path.write_text(f'[catalogue.fee_overrides_egp]\n"{service.code}" = 1234.5\n')
    cat = config.load_catalogue(config.load(path))
    assert cat.service(service.code).fee_piastres == 123450
    assert cat.services[1].fee_piastres == catalogue.services[1].fee_piastres
