"""Root reads what the sync agent (another, less trusted user) wrote: edge.update.received.

A compromised ``edge`` user owns the staging folder and every folder above it up to /var/lib/edge. These tests play
that user: links instead of files, a FIFO instead of READY, a folder on the way swapped for a link, more bytes or
files than a release has. Root must refuse, never follow, never block, never read or remove anything outside the
staging folder, and what TUF verifies must be root's own copy.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from edge.update import received
from edge.update.errors import UpdateError


def _staging(tmp_path: Path, name: str = "B1", files: dict[str, bytes] | None = None) -> Path:
    staging = tmp_path / "data" / "update" / "staging"
    files = files if files is not None else {"release.json": b"{}", "tuf/root.json": b"r", "wheels/a.whl": b"w" * 5000}
    for rel, data in files.items():
        (staging / name / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / name / "files" / rel).write_bytes(data)
    (staging / "READY").write_text(name + "\n")
    return staging


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def test_a_release_is_copied_out_whole_and_what_is_checked_is_roots_copy(tmp_path):
    staging = _staging(tmp_path)
    assert received.ready(staging) == "B1"
    dest = received.copy_out(staging, "B1", tmp_path / "root" / "received", reserve=0)
    assert _tree(dest) == _tree(staging / "B1" / "files")
    # edge changes its file after the copy: root's copy (what TUF verifies and pip installs) does not change.
    (staging / "B1" / "files" / "wheels" / "a.whl").write_bytes(b"evil")
    assert (dest / "wheels" / "a.whl").read_bytes() == b"w" * 5000
    assert oct(dest.stat().st_mode & 0o777) == "0o700"
    # Copied again (apply-ready after a refusal): replaced whole, nothing of the old copy left.
    (staging / "B1" / "files" / "wheels" / "a.whl").unlink()
    again = received.copy_out(staging, "B1", dest, reserve=0)
    assert not (again / "wheels" / "a.whl").exists()


@pytest.mark.parametrize("where", ["wheels/a.whl", "wheels", "release.json"])
def test_a_link_anywhere_in_the_release_is_refused_and_never_followed(tmp_path, where):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "shadow").write_text("root:$6$hash")
    staging = _staging(tmp_path)
    planted = staging / "B1" / "files" / where
    if planted.is_dir():
        for p in planted.iterdir():
            p.unlink()
        planted.rmdir()
        planted.symlink_to(secret)
    else:
        planted.unlink()
        planted.symlink_to(secret / "shadow")
    with pytest.raises(UpdateError) as refused:
        received.copy_out(staging, "B1", tmp_path / "root" / "received", reserve=0)
    assert refused.value.code == "update-staging" and "link" in refused.value.message_en.lower() + refused.value.detail
    assert not (tmp_path / "root" / "received").exists()
    assert not any("root:$6$" in p.read_text(errors="replace") for p in (tmp_path / "root").rglob("*") if p.is_file())


def test_a_folder_on_the_way_swapped_for_a_link_is_not_followed(tmp_path):
    # edge renames data/update away and puts a link to a folder of root's in its place (the attack the updater's
    # own state used to be open to): root reads nothing through it and removes nothing there.
    staging = _staging(tmp_path)
    roots = tmp_path / "opt-versions"
    (roots / "staging" / "B1" / "files").mkdir(parents=True)
    (roots / "staging" / "B1" / "files" / "keep.bin").write_bytes(b"root's")
    (roots / "staging" / "READY").write_text("B1\n")
    update = staging.parent
    update.rename(tmp_path / "data" / "moved")
    update.symlink_to(roots)
    assert received.ready(staging) is None
    with pytest.raises(UpdateError) as refused:
        received.copy_out(staging, "B1", tmp_path / "root" / "received", reserve=0)
    assert refused.value.code == "update-staging"
    assert received.forget(staging, "B1") is False
    assert (roots / "staging" / "B1" / "files" / "keep.bin").read_bytes() == b"root's"
    assert (roots / "staging" / "READY").exists()


def test_ready_is_read_safely_a_fifo_a_link_a_folder_or_a_long_text_names_nothing(tmp_path):
    staging = _staging(tmp_path)
    ready = staging / "READY"
    ready.unlink()
    os.mkfifo(ready)  # an open for reading would wait for a writer for ever
    result = []
    t = threading.Thread(target=lambda: result.append(received.ready(staging)), daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive() and result == [None]
    assert received.forget(staging, "") is True and not os.path.lexists(ready)  # a marker naming nothing goes
    (tmp_path / "elsewhere").write_text("B1\n")
    ready.symlink_to(tmp_path / "elsewhere")
    assert received.ready(staging) is None
    ready.unlink()
    ready.write_text("B1" + " " * 70 + "\n")
    assert received.ready(staging) is None
    ready.write_text("../../etc\n")
    assert received.ready(staging) is None
    ready.write_text("B1\n")
    assert received.ready(staging) == "B1"
    # A folder named READY (edge may make one): it names nothing, and goes — left there, edge-update.path would start
    # the updater again and again (PathExists) until systemd gave up on the path unit, and no update came any more.
    ready.unlink()
    (ready / "inner").mkdir(parents=True)
    (ready / "inner" / "x").write_text("x")
    (ready / "link").symlink_to(tmp_path / "elsewhere")
    assert received.ready(staging) is None
    assert received.forget(staging, "") is True and not os.path.lexists(ready)
    assert (tmp_path / "elsewhere").read_text() == "B1\n"  # a link inside is removed, never followed


def test_a_folder_swapped_for_a_fifo_while_root_removes_it_does_not_block_root(tmp_path, monkeypatch):
    # edge owns the staging folder: between root finding READY a folder and opening it, edge may put a FIFO there,
    # which an open for reading would wait on for ever. Root opens nothing but a folder, without blocking.
    staging = _staging(tmp_path)
    ready = staging / "READY"
    ready.unlink()
    ready.mkdir()
    real_unlink = os.unlink

    def unlink_then_swap(path, *args, **kwargs):
        try:
            return real_unlink(path, *args, **kwargs)
        except IsADirectoryError:
            if path == "READY":
                ready.rmdir()
                os.mkfifo(ready)
            raise

    monkeypatch.setattr(received.os, "unlink", unlink_then_swap)
    result = []
    t = threading.Thread(target=lambda: result.append(received.forget(staging, "")), daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive() and result == [False]  # not removed this time, said in the log, and root goes on
    monkeypatch.undo()
    assert received.forget(staging, "") is True and not os.path.lexists(ready)  # the next time it goes


def test_a_fifo_or_device_in_the_release_is_refused_without_blocking(tmp_path):
    staging = _staging(tmp_path)
    os.mkfifo(staging / "B1" / "files" / "wheels" / "pipe.whl")
    with pytest.raises(UpdateError) as refused:
        received.copy_out(staging, "B1", tmp_path / "root" / "received", reserve=0)
    assert "not a regular file" in refused.value.message_en


def test_more_files_or_bytes_than_a_release_has_are_refused_and_a_full_disk_is_said(tmp_path):
    staging = _staging(tmp_path, files={f"w/{i}.whl": b"x" * 100 for i in range(5)})
    with pytest.raises(UpdateError, match="more files"):
        received.copy_out(staging, "B1", tmp_path / "r1", max_files=2, reserve=0)  # 6 entries: w/ and 5 files
    with pytest.raises(UpdateError, match="larger"):
        received.copy_out(staging, "B1", tmp_path / "r2", max_bytes=450, reserve=0)
    with pytest.raises(UpdateError) as full:
        received.copy_out(staging, "B1", tmp_path / "r3", reserve=10**18)
    assert full.value.code == "update-disk" and "مساحة" in full.value.message_ar
    assert not any(p.name.startswith(("r1", "r2", "r3", ".r")) for p in tmp_path.iterdir() if p.name != "data")
    assert received.copy_out(staging, "B1", tmp_path / "r4", max_files=5, max_bytes=500, reserve=0).is_dir()


def test_a_flood_of_empty_folders_is_refused_before_it_costs_roots_disk(tmp_path):
    staging = _staging(tmp_path, files={"a.whl": b"x"})
    for i in range(200):
        (staging / "B1" / "files" / f"d{i}").mkdir()
    with pytest.raises(UpdateError, match="more files"):
        received.copy_out(staging, "B1", tmp_path / "root", max_files=50, reserve=0)
    assert not (tmp_path / "root").exists() and not (tmp_path / ".root.partial").exists()


def test_nesting_deeper_than_a_release_has_is_refused(tmp_path):
    staging = _staging(tmp_path, files={"/".join(["d"] * 20) + "/f": b"x"})
    with pytest.raises(UpdateError, match="too deep"):
        received.copy_out(staging, "B1", tmp_path / "root", reserve=0)


def test_forget_removes_the_bundle_and_its_marker_and_only_inside_the_staging_folder(tmp_path):
    staging = _staging(tmp_path)
    outside = tmp_path / "outside"
    (outside / "files").mkdir(parents=True)
    (staging / "B2").symlink_to(outside)  # a "bundle" that is a link: the link goes, never what it points at
    assert received.forget(staging, "B2") is False  # READY names B1: it stays
    assert not os.path.lexists(staging / "B2") and (outside / "files").is_dir()
    assert received.forget(staging, "B1") is True
    assert not (staging / "B1").exists() and not (staging / "READY").exists()
    assert received.forget(staging, "../x") is False


@pytest.mark.slow
def test_apply_ready_refuses_a_planted_link_even_to_the_right_bytes_and_says_why(tmp_path, keys):
    # The link points at a copy of the very file TUF signed: following it would pass every check. Root refuses it
    # all the same (it does not read through edge's links), notes why, and forgets the bundle.
    from edge.update import state as state_mod
    from tests.update.support import Rig
    from tests.update.test_mqtt_transfer import _receive, _release

    rig = Rig(tmp_path / "V001", keys)
    staging = rig.data / "update" / "staging"
    inc = _receive(staging, _release(tmp_path / "n1", keys, padding=100_000), "N1")
    padding = inc.folder("N1") / "system" / "padding.bin"
    copy = tmp_path / "elsewhere.bin"
    copy.write_bytes(padding.read_bytes())
    padding.unlink()
    padding.symlink_to(copy)
    done = rig.run("apply-ready", "--anchor", str(rig.anchor), "--no-pip", *rig.options())
    assert done.returncode == 1 and "link" in done.stderr, done.stderr
    assert rig.status()["current"] is None and not (staging / "READY").exists() and not (staging / "N1").exists()
    assert copy.exists() and not (rig.state / "received").exists()
    last = state_mod.read(rig.state / "state.json")["history"][-1]
    assert last["event"] == "refused-release" and last["version"] == "N1" and "update-staging" in last["reason"]
    assert not rig.state.is_relative_to(rig.data)


def test_the_governorate_s_word_is_kept_once_newest_first_and_answered(tmp_path, db):
    # The downlink update-target (the cancel of a deferred release) through the van's inbox: kept in staging/TARGET
    # (what root's retry reads), answered with downlink.applied; an older word than the one held is refused with its
    # reason and changes nothing; the same word again is a duplicate; a van without an updater refuses it.
    from datetime import UTC, datetime, timedelta

    from edge.store import outbox
    from edge.sync import downlink
    from edge.sync import protocol as p
    from edge.update import received
    from edge.update.incoming import Incoming

    staging = tmp_path / "staging"
    sink = Incoming(staging)
    now = datetime.now(UTC)

    def send(release, at, updates=sink, session=7, here=7):
        down = p.decode_down(p.encode_down(p.UpdateTarget(release, session), van="V007", now=at), van="V007",
                             kind="update-target")
        return down, downlink.apply(db, down, tmp_path / "keys", updates=updates, session=here)[0]

    first, outcome = send("0123456789abcdef", now)
    assert outcome == "applied" and received.target(staging)["release"] == "0123456789abcdef"
    assert sink.status()["update.target"].startswith("0123456789abcdef@")
    _, outcome = send("fedcba9876543210", now - timedelta(minutes=5))  # an old word sent again
    assert outcome == "rejected" and received.target(staging)["release"] == "0123456789abcdef"
    assert "older word" in db.execute("SELECT error FROM inbox ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    assert downlink.apply(db, first, tmp_path / "keys", updates=sink)[0] == "duplicate"
    _, outcome = send(None, now + timedelta(seconds=1))  # the hub names none now
    assert outcome == "applied" and received.target(staging)["release"] is None
    _, outcome = send("0123456789abcdef", now + timedelta(seconds=2), updates=None)
    assert outcome == "rejected"
    answers = [r.body["outcome"] for r in outbox.pending(db, "tx", limit=10) if r.kind == "downlink.applied"]
    assert answers == ["applied", "rejected", "applied", "rejected"]


def test_a_word_told_for_an_earlier_connection_is_refused_and_a_later_connection_s_word_wins(tmp_path, db):
    # Review of the cancel (H1): a word the van never applied (its link dropped first) is sent again at its next
    # connection — by the hub's re-send at its birth, or by the broker's session — and was kept as new: if staff
    # rolled the fleet back meanwhile, its stale "go ahead" could let retry switch to the rolled-back release before
    # the hub's current word came. A word is told for one connection; the van refuses one for another. And the
    # newest word is the one of the latest connection, whatever the hub's clock said (a word once dated ahead by a
    # wrong hub clock no longer makes the van refuse every later one).
    from datetime import UTC, datetime, timedelta

    from edge.sync import downlink
    from edge.sync import protocol as p
    from edge.update import received
    from edge.update.incoming import Incoming

    staging = tmp_path / "staging"
    sink = Incoming(staging)
    now = datetime.now(UTC)

    def send(release, at, session, here):
        down = p.decode_down(p.encode_down(p.UpdateTarget(release, session), van="V007", now=at), van="V007",
                             kind="update-target")
        return downlink.apply(db, down, tmp_path / "keys", updates=sink, session=here)[0]

    assert send("0123456789abcdef", now, session=4, here=5) == "rejected" and received.target(staging) is None
    error = db.execute("SELECT error FROM inbox ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    assert "connection 4, not this one (5)" in error
    assert send("fedcba9876543210", now + timedelta(days=3), session=5, here=5) == "applied"  # a hub clock ahead
    assert send("0123456789abcdef", now, session=6, here=6) == "applied"  # the next connection's word wins
    assert received.target(staging)["release"] == "0123456789abcdef"
