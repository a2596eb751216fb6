"""``edge operator``: accounts are made, re-PINned, unlocked and listed from the van's command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from edge.cli import main


def _run(tmp_path, *args, stdin=""):
    return CliRunner().invoke(main, list(args), input=stdin, env={"EDGE_DATA_DIR": str(tmp_path), "EDGE_CONFIG": ""},
                              catch_exceptions=False)


def test_supervisor_account_is_added_and_listed_without_its_pin(tmp_path):
    r = _run(tmp_path, "operator", "add", "1", "--name", "Mona Adel", "--supervisor", "--pin-stdin", stdin="2468\n")
    assert r.exit_code == 0, r.output
    listed = [json.loads(line) for line in _run(tmp_path, "operator", "list").output.splitlines()]
    assert listed == [{"number": 1, "name": "Mona Adel", "role": "supervisor", "locked_until": None}]
    assert "2468" not in (tmp_path / "van.db").read_bytes().decode("latin-1")


def test_a_short_pin_is_refused_in_both_languages(tmp_path):
    r = _run(tmp_path, "operator", "add", "2", "--name", "Karim", "--pin-stdin", stdin="12\n")
    assert r.exit_code == 1
    assert "4 to 8 digits" in r.output and "الرقم السري" in r.output


def test_pin_is_asked_twice_when_typed(tmp_path):
    r = _run(tmp_path, "operator", "add", "3", "--name", "Sara", stdin="13579\n13579\n")
    assert r.exit_code == 0, r.output
    r = _run(tmp_path, "operator", "set-pin", "3", stdin="2222\n3333\n2222\n2222\n")
    assert r.exit_code == 0, r.output


def test_unlock_an_unknown_operator_says_so(tmp_path):
    r = _run(tmp_path, "operator", "unlock", "9")
    assert r.exit_code == 1
