"""The operator on a van whose disk is full (a real small tmpfs): told in Arabic and English, before the
citizen's paper is taken in, and nothing already saved is lost."""

from __future__ import annotations

import io

from edge.config import StorageSettings
from edge.store import drafts
from edge.store.db import open_db
from tests.support.small_disk import fill, small_disk
from tests.support.web_support import SERVICE, VALID_NID, login, make_app, post, text, token

PAGE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 100 + b"\xff\xd9"


def test_operator_is_told_the_disk_is_full_before_taking_paper_and_can_go_on_once_freed(tmp_path):
    with small_disk(tmp_path / "disk", size_kb=12288) as root:
        app = make_app(root, storage=StorageSettings(reserve_mb=2, low_mb=4))
        console = app.test_client()
        login(console)
        start = console.get("/operator/requests/new").headers["Location"].rsplit("/", 1)[0]
        draft_id = start.rsplit("/", 1)[1]
        post(console, f"{start}/service", f"{start}/service", {"service": SERVICE})
        post(console, f"{start}/citizen", f"{start}/citizen", {"national_id": VALID_NID, "name": "Ahmed Ali"})
        filler = fill(root, leave=3 * 1024 * 1024 // 2)

        page = console.get(f"{start}/documents").get_data(as_text=True)
        r = console.post(f"{start}/documents", data={"csrf_token": token(page), "doc_code": "OWNERSHIP", "stay": "1",
                                                      "page": (io.BytesIO(PAGE), "deed.jpg")},
                         content_type="multipart/form-data")
        shown = text(r)
        assert "قرص العربة ممتلئ" in shown and "disk is full" in shown
        db = open_db(root / "van.db")
        assert drafts.get(db, draft_id, "operator:2")["pages"] == []

        # A new request is not even started: the citizen keeps their papers.
        with app.test_client() as other:
            login(other)
            refused = other.get("/operator/requests/new")
            assert refused.status_code == 507
            assert "ممتلئ" in text(refused) and "disk is full" in text(refused)

        filler.unlink()
        page = console.get(f"{start}/documents").get_data(as_text=True)
        console.post(f"{start}/documents", data={"csrf_token": token(page), "doc_code": "OWNERSHIP", "stay": "1",
                                                  "page": (io.BytesIO(PAGE), "deed.jpg")},
                     content_type="multipart/form-data")
        assert len(drafts.get(db, draft_id, "operator:2")["pages"]) == 1
        db.close()
