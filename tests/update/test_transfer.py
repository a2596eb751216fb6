"""A signed release cut into chunks and put back together on the van (edge/update/transfer.py): any order,
repeats, restarts between chunks; every bad chunk refused with its reason and nothing of it kept; the
assembled folder verifies with TUF and installs."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.update import transfer
from edge.update.errors import UpdateError
from tests.update.support import signed_release

SMALL = 700  # bytes a chunk, so a small release makes many


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    from provisioning import tuf_repo

    base = tmp_path_factory.mktemp("rel")
    tuf_repo.make_keys(base / "keys")
    signed_release(base / "r", "3.1.4", base / "keys")
    return base


def _deliver(receiver_factory, bodies, order, repeats, restarts):
    r = receiver_factory()
    for n, i in enumerate(order):
        if n in restarts:
            r = receiver_factory()  # the van restarted: what it had is on disk
        assert r.add(bodies[i]) is True
        if n in repeats:
            assert r.add(bodies[i]) is False
    return r


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_repeats_and_restarts_give_a_folder_that_verifies(tmp_path_factory, release, data):
    from edge.update import verify

    bodies = list(transfer.cut(release / "r", "B1", chunk_size=SMALL))
    assert len(bodies) > 10
    order = data.draw(st.permutations(range(len(bodies))))
    repeats = data.draw(st.sets(st.integers(0, len(bodies) - 1), max_size=5))
    restarts = data.draw(st.sets(st.integers(1, len(bodies) - 1), max_size=3))
    staging = tmp_path_factory.mktemp("staging")
    r = _deliver(lambda: transfer.Receiver(staging, "B1", chunk_size=SMALL), bodies, order[:-1], repeats, restarts)
    with pytest.raises(UpdateError) as err:
        r.assemble()
    assert err.value.code == "update-incomplete"
    last = bodies[order[-1]]
    if last["count"] == 1:  # a whole file not heard of yet
        assert r.missing() == {} and r.unannounced() == 1
    else:
        assert r.missing() == {last["path"]: [last["index"]]} and r.unannounced() == 0
    r.add(last)
    folder = r.assemble()
    van = tmp_path_factory.mktemp("van")
    v = verify.verify(folder, anchor=release / "keys/metadata/1.root.json", trusted_dir=van / "trusted",
                      dest=van / "verified")
    assert v.version == "3.1.4"


def _mutations():
    """(what changes, value): each makes a chunk the van must refuse."""
    return st.sampled_from([
        ("path", "../etc/passwd"), ("path", "/etc/passwd"), ("path", "wheels/../../x"), ("path", ".hidden"),
        ("path", "a\\b"), ("path", ""), ("path", 7), ("index", -1), ("index", 10**6), ("index", True),
        ("count", 0), ("size", -5), ("size", 2**40), ("data", "text"), ("data", b"x" * (SMALL + 1)),
        ("sha256", "abc"), ("chunk_sha256", "0" * 64), ("bundle", "../B"), ("bundle", "B2"), ("extra", 1),
        ("files", 0), ("files", 10**6),
    ])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=_mutations(), which=st.integers(0, 10**6))
def test_a_bad_chunk_is_refused_with_its_reason_and_nothing_of_it_is_kept(tmp_path_factory, release, mutation,
                                                                         which):
    bodies = list(transfer.cut(release / "r", "B1", chunk_size=SMALL))
    body = dict(bodies[which % len(bodies)])
    key, value = mutation
    body[key] = value
    staging = tmp_path_factory.mktemp("staging")
    r = transfer.Receiver(staging, "B1", chunk_size=SMALL)
    with pytest.raises(UpdateError) as err:
        r.add(body)
    assert err.value.code == "update-chunk" and err.value.detail and "مرفوض" in err.value.message_ar
    assert r.missing() == {} and not [p for p in staging.rglob("*") if p.is_file()]


def test_chunks_that_disagree_or_differ_on_repeat_are_refused(tmp_path, release):
    bodies = list(transfer.cut(release / "r", "B1", chunk_size=SMALL))
    multi = [b for b in bodies if b["count"] > 2]
    r = transfer.Receiver(tmp_path, "B1", chunk_size=SMALL)
    first = multi[0]
    assert r.add(first)
    other = dict(multi[1], sha256="f" * 64)  # same file, another whole-file hash
    with pytest.raises(UpdateError, match="disagrees"):
        r.add(other)
    swapped = dict(first, data=bytes(reversed(first["data"])))
    swapped["chunk_sha256"] = transfer.hashlib.sha256(swapped["data"]).hexdigest()
    with pytest.raises(UpdateError, match="twice with different data"):
        r.add(swapped)


def test_a_stray_file_among_the_chunks_is_not_a_chunk(tmp_path, release):
    bodies = list(transfer.cut(release / "r", "B1", chunk_size=SMALL))
    r = transfer.Receiver(tmp_path, "B1", chunk_size=SMALL)
    assert r.add(bodies[0]) and r.held() == [bodies[0]["seq"]]
    folder = next(d for d in (r.root / "chunks").iterdir() if d.is_dir())
    for name in ("²", "٣", "x"):  # '²' is a digit to str.isdigit, not to int()
        (folder / name).write_bytes(b"?")
    assert r.held() == [bodies[0]["seq"]]


def test_a_file_that_does_not_match_once_whole_is_asked_again(tmp_path, release):
    bodies = list(transfer.cut(release / "r", "B1", chunk_size=SMALL))
    r = transfer.Receiver(tmp_path, "B1", chunk_size=SMALL)
    victim = next(b for b in bodies if b["count"] > 1)
    for b in bodies:
        if b is victim:  # a chunk consistent in itself but not the file's (a hub-side mix-up or an attack)
            b = dict(b, data=bytes(len(b["data"])))
            b["chunk_sha256"] = transfer.hashlib.sha256(b["data"]).hexdigest()
        r.add(b)
    with pytest.raises(UpdateError, match="asked again"):
        r.assemble()
    # Its chunks are dropped: the file counts as not heard of, and is sent again whole.
    assert r.unannounced() == 1 and victim["path"] not in r.missing() and not (tmp_path / "B1/files").exists()
    for b in bodies:
        if b["path"] == victim["path"]:
            r.add(b)
    assert (r.assemble() / victim["path"]).read_bytes() == (release / "r" / victim["path"]).read_bytes()


def test_the_default_chunk_is_a_documents(release):
    from edge.sync import schema

    assert transfer.CHUNK_SIZE == schema.CHUNK_SIZE
    assert random.sample(list(transfer.cut(release / "r", "B1")), 1)[0]["count"] >= 1
