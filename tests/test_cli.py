"""The ``edge`` command as an operator or installer uses it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from edge.cli import main
from edge.core import catalogue


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EDGE_CONFIG", raising=False)
    monkeypatch.setattr("edge.config.DEFAULT_PATH", tmp_path / "absent.toml")
    return tmp_path


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "edge.cli", "--help"], capture_output=True, text=True, check=True)
    for command in ("run", "db", "catalog", "audit", "config", "status", "codes"):
        assert f"  {command} " in out.stdout


def test_every_command_has_help():
    runner = CliRunner()
    for args in (["run"], ["db", "migrate"], ["catalog", "check"], ["audit", "verify"], ["config", "check"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_db_migrate_creates_then_reports_up_to_date(env):
    runner = CliRunner()
    first = runner.invoke(main, ["db", "migrate"])
    assert first.exit_code == 0 and "applied m001_initial" in first.output
    second = runner.invoke(main, ["db", "migrate"])
    assert second.exit_code == 0 and "up to date" in second.output
    assert (env / "data" / "van.db").exists()


def test_catalog_check_passes_on_shipped_catalogue():
    result = CliRunner().invoke(main, ["catalog", "check"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_catalog_check_fails_with_the_line_on_a_broken_copy(tmp_path):
    text = catalogue.default_path().read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(text) if t.strip().startswith("duration_days"))
    text[line] = "duration_days = -3"
    broken = tmp_path / "broken.toml"
    broken.write_text("\n".join(text) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["catalog", "check", str(broken)])
    assert result.exit_code == 1
    assert f"line {line + 1}" in result.output


def test_audit_verify_reports_intact_then_tampered_entry(env):
    from edge.store import audit_log
    from edge.store.db import open_db
    from edge.store.migrations import migrate

    db = open_db(env / "data" / "van.db")
    migrate(db)
    for i in range(5):
        audit_log.record(db, actor="operator:1", action="ticket.call", subject=f"A00{i}")
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and "5 entries" in ok.output
    db.execute("UPDATE audit_log SET actor = 'operator:9' WHERE seq = 3")
    bad = runner.invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1 and "#3" in bad.output and "٣" in bad.output


def test_audit_verify_refuses_a_database_that_does_not_exist(env):
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not (env / "data" / "van.db").exists()


def test_bad_config_stops_with_key_and_file_not_a_traceback(tmp_path):
    path = tmp_path / "van.toml"
    path.write_text('[van]\nid = "van7"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "db", "migrate"])
    assert result.exit_code == 1
    assert "van.id" in result.output and str(path) in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught exception


def test_config_check_refuses_fee_override_for_unknown_service(tmp_path):
    path = tmp_path / "van.toml"
    path.write_text('[catalogue.fee_overrides_egp]\nNO-SUCH = 10\n')
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 1
    assert "catalogue.fee_overrides_egp.NO-SUCH" in result.output and str(path) in result.output


def test_busy_database_is_a_clear_message(env):
    from edge.store.db import open_db

    holder = open_db(env / "data" / "van.db")  # not migrated yet: `db migrate` needs the write lock
    holder.conn.execute("BEGIN EXCLUSIVE")
    try:
        import edge.store.db as store_db

        store_db.BUSY_TIMEOUT_MS = 200
        result = CliRunner().invoke(main, ["db", "migrate"])
    finally:
        store_db.BUSY_TIMEOUT_MS = 10_000
        holder.conn.execute("ROLLBACK")
    assert result.exit_code == 1, result.output
    assert "busy" in result.output and isinstance(result.exception, SystemExit)


def test_status_prints_backlog_as_json(env):
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["van"] == "V001" and data["outbox"]["pending"] == 0
