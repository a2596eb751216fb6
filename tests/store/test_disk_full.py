"""A full disk at the van, on a real small tmpfs: the citizen's pages and the request are kept whole or
not at all, the operator is told in Arabic and English, and what can be rebuilt is shed first."""

from __future__ import annotations

import pytest

from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import disk, documents, drafts, sweep
from edge.store.db import open_db
from edge.store.migrations import migrate
from tests.support.small_disk import files_under, fill, small_disk

PAGE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 200 + b"\xff\xd9"  # a 51 KB "JPEG"
CITIZEN = Citizen(parse("29001010112355"), "منى أحمد حسن")


@pytest.fixture
def van_disk(tmp_path):
    with small_disk(tmp_path / "disk", size_kb=8192) as root:
        db = open_db(root / "van.db")
        migrate(db)
        yield root, db
        db.close()


def _draft_with_pages(db, docs, n=3):
    draft = drafts.create(db, "operator:3")
    for i in range(n):
        drafts.add_page(db, docs, draft, "operator:3", ("NID", "OWNERSHIP")[i % 2], PAGE)
    return draft


def _submit(db, docs, draft, catalogue):
    service = catalogue.services[0]
    return drafts.submit(db, docs, draft, van_id="V007", catalogue=catalogue, service_code=service.code,
                         citizen=CITIZEN, payment=rq.Payment("cash", service.fee_piastres), operator="operator:3")


def test_submit_on_a_full_disk_keeps_the_draft_and_succeeds_once_space_is_freed(van_disk, catalogue):
    # Finding 1 of issue 16: COMMIT failed after the page had been moved into the request's folder, and
    # every later submit of that draft failed with FileNotFoundError, also after space was freed.
    root, db = van_disk
    docs = root / "documents"
    draft = _draft_with_pages(db, docs)
    before = files_under(root)
    filler = fill(root)
    with pytest.raises(disk.DiskFull) as refused:
        _submit(db, docs, draft, catalogue)
    assert "ممتلئ" in refused.value.message_ar and "disk is full" in refused.value.message_en
    assert db.execute("SELECT count(*) FROM requests").fetchone() == (0,)
    assert len(drafts.get(db, draft, "operator:3")["pages"]) == 3
    assert files_under(root) == before  # nothing moved, nothing lost
    filler.unlink()
    number = _submit(db, docs, draft, catalogue)
    stored = documents.for_request(db, str(number))
    assert len(stored) == 3 and all((docs / d.path).read_bytes() == PAGE for d in stored)
    assert sweep.sweep(db, docs, older_than=sweep.timedelta(0)) == sweep.SweepResult(0, 0)


def test_intake_refuses_a_page_it_cannot_keep_with_the_reserve_left(van_disk):
    root, db = van_disk
    docs = root / "documents"
    draft = drafts.create(db, "operator:3")
    fill(root, leave=3 * disk.MB // 2)
    with pytest.raises(disk.DiskFull):  # the page fits, but not with a 2 MB reserve left for transactions
        drafts.add_page(db, docs, draft, "operator:3", "NID", PAGE, reserve=2 * disk.MB)
    assert drafts.get(db, draft, "operator:3")["pages"] == []
    assert files_under(docs.parent) == set()
    drafts.add_page(db, docs, draft, "operator:3", "NID", PAGE, reserve=disk.MB)
    assert len(drafts.get(db, draft, "operator:3")["pages"]) == 1


def test_a_page_that_meets_a_full_disk_while_written_leaves_no_partial_file(van_disk):
    root, db = van_disk
    docs = root / "documents"
    draft = drafts.create(db, "operator:3")
    drafts.add_page(db, docs, draft, "operator:3", "NID", PAGE)  # the folders exist
    fill(root, leave=20_000)
    with pytest.raises(disk.DiskFull):
        drafts.add_page(db, docs, draft, "operator:3", "NID", PAGE)  # no reserve asked: the write itself fails
    assert len(drafts.get(db, draft, "operator:3")["pages"]) == 1
    assert len(files_under(docs)) == 1  # no temporary file, no half page


def test_sweeper_removes_only_files_no_row_names(db_path, db, tmp_path, catalogue):
    docs = tmp_path / "documents"
    draft = _draft_with_pages(db, docs, 2)
    number = _submit(db, docs, _draft_with_pages(db, docs, 1), catalogue)
    stray = documents.write_page(docs, "lost-draft", PAGE)
    (docs / "pages" / draft / ".x.jpg.tmp").write_bytes(b"half")
    young = sweep.sweep(db, docs)  # everything is younger than the grace period: a page may be mid-save
    assert young.removed == 0
    result = sweep.sweep(db, docs, older_than=sweep.timedelta(0))
    assert result == sweep.SweepResult(removed=2, missing=0)
    assert not (docs / stray).exists() and not (docs / stray).parent.exists()
    assert len(drafts.get(db, draft, "operator:3")["pages"]) == 2
    assert len(documents.for_request(db, str(number))) == 1
    assert len(files_under(docs)) == 3


def test_sweeper_deletes_nothing_when_far_more_files_are_unnamed_than_a_crash_leaves(db, tmp_path):
    # A database that does not match its folder (a restored backup, a wrong data_dir) must not cost the
    # citizens' pages: the sweep stops and says so.
    docs = tmp_path / "documents"
    for i in range(sweep.MAX_ORPHANS + 1):
        documents.write_page(docs, "from-another-database", PAGE + bytes([i]))
    result = sweep.sweep(db, docs, older_than=sweep.timedelta(0))
    assert result == sweep.SweepResult(removed=0, missing=0, held=sweep.MAX_ORPHANS + 1)
    assert len(files_under(docs)) == sweep.MAX_ORPHANS + 1
