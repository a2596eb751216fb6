"""The corner step (issue 17): a photo whose page the finder is not sure of is shown with four handles; the
operator drags them, sees the straightened page change, and attaches it. Through Flask's test client, and in
real Chromium (drag with the mouse, move with the keyboard)."""

from __future__ import annotations

import io
import json
import re
import time

import cv2
import numpy as np
import pytest

from edge.devices.scanner import docfind
from edge.store.db import open_db
from tests.support.browser_support import browser, operator_page, serve
from tests.support.imagegen import document_photo, quad_iou
from tests.support.web_support import SERVICE, VALID_NID, login, make_app, post, text, token


def _jpeg(image) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def _documents_step(console) -> str:
    start = console.get("/operator/requests/new").headers["Location"].rsplit("/", 1)[0]
    post(console, f"{start}/service", f"{start}/service", {"service": SERVICE})
    post(console, f"{start}/citizen", f"{start}/citizen", {"national_id": VALID_NID, "name": "Ahmed Ali"})
    return start


def _send_photo(console, start: str, jpeg: bytes, doc_code: str = "SURVEY"):
    body = console.get(f"{start}/documents").get_data(as_text=True)
    return console.post(f"{start}/documents", data={"csrf_token": token(body), "doc_code": doc_code, "stay": "1",
                                                     "photo": "1", "page": (io.BytesIO(jpeg), "phone.jpg")},
                        content_type="multipart/form-data")


def _decide(console, start: str, data: dict):
    """POST the corner step's form as a browser does: its CSRF token and the photo it was shown for."""
    body = console.get(f"{start}/photo").get_data(as_text=True)
    shown = re.search(r'name="photo" value="([^"]+)"', body).group(1)
    return console.post(f"{start}/photo", data={"csrf_token": token(body), "photo": shown, **data})


def _draft(app, start: str) -> dict:
    db = open_db(app.config["EDGE_SETTINGS"].db_path)
    try:
        return json.loads(db.execute("SELECT data FROM request_drafts WHERE id = ?", [start.rsplit("/", 1)[1]])
                          .fetchone()[0])
    finally:
        db.close()


def _files(app) -> set[str]:
    root = app.config["EDGE_SETTINGS"].documents_dir
    return {p.relative_to(root).as_posix() for p in root.glob("pages/*/*") if p.is_file()}


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def console(app):
    client = app.test_client()
    login(client)
    return client


def test_a_photo_with_no_page_found_asks_for_the_corners_and_takes_them(app, console):
    photo = document_photo(3, "none")
    start = _documents_step(console)
    r = _send_photo(console, start, _jpeg(photo.image))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{start}/photo"), text(r)[:300]
    held = _draft(app, start)["photo"]
    assert held["found"] is False and held["doc_code"] == "SURVEY"
    assert (held["width"], held["height"]) == (photo.image.shape[1], photo.image.shape[0])
    assert {held["path"], held["preview"]} <= _files(app)

    page = console.get(f"{start}/photo")
    shown = text(page)
    assert page.status_code == 200 and "لم يتم العثور على صفحة في الصورة" in shown, shown[:400]
    preview = console.get(f"{start}/photo/preview")
    shape = cv2.imdecode(np.frombuffer(preview.data, np.uint8), cv2.IMREAD_COLOR).shape
    assert preview.mimetype == "image/jpeg" and max(shape) == 1280 and shape[0] * held["width"] == pytest.approx(
        shape[1] * held["height"], rel=0.01), "a smaller copy, same proportions"

    # Crossed sides: refused with words, nothing attached, the photo still held.
    crossed = "0.9,0.1,0.1,0.1,0.9,0.9,0.1,0.9"
    r = _decide(console, start, {"corners": crossed, "use": "1"})
    assert r.status_code == 422 and ("do not outline a page" in text(r) or "لا تحدد صفحة" in text(r))
    # Said once, by the box the page script also shows while the dots cross (a review found it twice on the page).
    body = r.get_data(as_text=True)
    assert body.count("لا تحدد صفحة") == 1 and 'id="corners-error"' not in body
    assert re.search(r'<div class="error" role="alert" id="corners-bad">', body)
    assert console.get(f"{start}/photo/straightened?corners={crossed}").status_code == 422
    assert _draft(app, start)["pages"] == []

    good = "0.2,0.2,0.8,0.2,0.8,0.8,0.2,0.8"
    straight = console.get(f"{start}/photo/straightened?corners={good}")
    assert straight.status_code == 200 and straight.data[:3] == b"\xff\xd8\xff"
    r = _decide(console, start, {"corners": good, "use": "1"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{start}/documents")
    data = _draft(app, start)
    assert "photo" not in data and [p["doc_code"] for p in data["pages"]] == ["SURVEY"]
    assert _files(app) == {data["pages"][0]["path"]}, "the photo and its preview are deleted once the page is kept"
    link = re.search(r'href="([^"]+/page/[^"]+)"', console.get(f"{start}/documents").get_data(as_text=True))
    assert console.get(link.group(1)).data[:5] == b"%PDF-"
    # Gone from the draft: the corner step sends the operator back to the documents.
    assert console.get(f"{start}/photo").headers["Location"].endswith(f"{start}/documents")


def test_a_sure_finding_is_attached_at_once_and_an_unsure_one_waits(app, console, monkeypatch):
    photo = document_photo(7, "plain")
    start = _documents_step(console)
    assert _send_photo(console, start, _jpeg(photo.image)).status_code in (200, 302)
    draft = _draft(app, start)
    assert len(draft["pages"]) == 1 and draft["photo"]["replaces"] == draft["pages"][0]["file"]  # kept to check

    monkeypatch.setattr(docfind, "CONFIDENT", 1.5)  # no finding is sure enough: every photo is shown first
    r = _send_photo(console, start, _jpeg(photo.image))
    assert r.headers["Location"].endswith(f"{start}/photo")
    held = _draft(app, start)["photo"]
    assert held["found"] is True
    w, h = held["width"], held["height"]
    found = np.array(held["corners"]).reshape(4, 2) * [w - 1, h - 1]
    assert quad_iou(found, photo.corners) > 0.95, "the handles start where the finder saw the page"

    # A second photo replaces the first: one held at a time, the first one's files deleted.
    first = {held["path"], held["preview"]}
    _send_photo(console, start, _jpeg(document_photo(8, "plain").image))
    again = _draft(app, start)["photo"]
    assert not first & _files(app) and {again["path"], again["preview"]} <= _files(app)

    r = _decide(console, start, {"discard": "1", "corners": ""})
    assert r.status_code == 302 and "photo" not in _draft(app, start)
    assert len(_draft(app, start)["pages"]) == 1 and len(_files(app)) == 1


def test_a_page_attached_at_once_can_still_be_straightened_again_in_its_place(app, console):
    # Finders are sometimes sure and wrong (on real photos: a banknote's printed frame, a lamp's reflection over an
    # edge). The photo of a page attached at once stays with the draft until the next photo: the documents step
    # offers its corners, and the page straightened again takes the first one's number and place.
    start = _documents_step(console)
    _send_photo(console, start, _jpeg(document_photo(7, "plain").image))
    _send_photo(console, start, _jpeg(document_photo(8, "plain").image))
    first, second = _draft(app, start)["pages"]
    body = console.get(f"{start}/documents").get_data(as_text=True)
    assert 'id="check-corners"' in body and "الصفحة ٢ من «" in body and "صُحِّحت من صورة" in body  # Eastern digits
    body = console.get(f"{start}/photo").get_data(as_text=True)
    assert "تحل محل الصفحة المرفقة" in body and "أبقِ الصفحة كما أُرفقت" in body
    held = _draft(app, start)["photo"]
    corners = ",".join(str(v) for v in [0.05, 0.05, 0.6, 0.05, 0.6, 0.6, 0.05, 0.6])
    r = _decide(console, start, {"corners": corners, "use": "1"})
    assert r.status_code == 302
    draft = _draft(app, start)
    again = draft["pages"][1]
    assert [p["page"] for p in draft["pages"]] == [1, 2] and draft["pages"][0] == first
    assert again["file"] != second["file"] and again["doc_code"] == second["doc_code"]
    assert "photo" not in draft
    assert _files(app) == {first["path"], again["path"]}  # the old page and the photo's files are gone
    assert held["path"] not in _files(app)
    assert 'id="check-corners"' not in console.get(f"{start}/documents").get_data(as_text=True)
    # "Keep the page as attached" forgets the photo and leaves the page.
    _send_photo(console, start, _jpeg(document_photo(9, "plain").image))
    pages = _draft(app, start)["pages"]
    r = _decide(console, start, {"discard": "1", "corners": ""})
    assert r.status_code == 302 and _draft(app, start)["pages"] == pages and "photo" not in _draft(app, start)


def test_the_sweeper_keeps_a_held_photo_and_a_discarded_draft_takes_it(app, console, monkeypatch):
    from datetime import timedelta

    from edge.store import drafts, sweep

    monkeypatch.setattr(docfind, "CONFIDENT", 1.5)
    start = _documents_step(console)
    _send_photo(console, start, _jpeg(document_photo(7, "plain").image))
    settings = app.config["EDGE_SETTINGS"]
    db = open_db(settings.db_path)
    try:
        before = _files(app)
        sweep.sweep(db, settings.documents_dir, older_than=timedelta(0))
        assert _files(app) == before and len(before) == 2
        draft_id = start.rsplit("/", 1)[1]
        [operator] = db.execute("SELECT operator FROM request_drafts WHERE id = ?", [draft_id]).fetchone()
        drafts.discard(db, settings.documents_dir, draft_id, operator)
    finally:
        db.close()
    assert _files(app) == set()


@pytest.mark.parametrize("text_in, why", [
    ("", "8"), ("1,2,3", "8"), ("a,b,c,d,e,f,g,h", "numbers"), ("nan," * 7 + "nan", "finite"),
    ("-0.5,0,1,0,1,1,0,1", "outside"), ("0.1,0.1,0.12,0.1,0.12,0.12,0.1,0.12", "covers"),
    ("0.1,0.5,0.9,0.45,0.95,0.5,0.9,0.55", "sharp"), ("0.9,0.1,0.1,0.1,0.9,0.9,0.1,0.9", "convex"),
])
def test_corners_that_outline_no_page_are_refused_with_words(text_in, why):
    from edge.devices.scanner import corners

    with pytest.raises(corners.BadCorners) as caught:
        corners.from_fractions(corners.parse_fractions(text_in), 1600, 1200)
    assert caught.value.message_ar and caught.value.message_en
    assert why in caught.value.detail


# --- in the browser -------------------------------------------------------------------------------------


def _difference(png_a: bytes, png_b: bytes) -> float:
    """Mean absolute difference of two screenshots, grey levels 0–255 (resized to the first's size)."""
    a, b = (cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_GRAYSCALE) for p in (png_a, png_b))
    b = cv2.resize(b, (a.shape[1], a.shape[0]))
    return float(np.mean(cv2.absdiff(a, b)))


def _drag(page, corner: int, dx: float = 0.0, dy: float = 0.0, *, to: tuple[float, float] | None = None) -> None:
    """Drag handle ``corner`` by (dx, dy) of the photo, or to the point ``to`` (fractions of the photo). The boxes are
    measured just before, with the photo in view: a screenshot or a click may have scrolled the page since, and a
    stale position could press another button."""
    page.locator("#corners-svg").scroll_into_view_if_needed()
    stage = page.locator("#corners-svg").bounding_box()
    handle = page.locator(f"#corner-{corner}").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    if to is not None:
        tx, ty = stage["x"] + stage["width"] * to[0], stage["y"] + stage["height"] * to[1]
    else:
        tx, ty = x + stage["width"] * dx, y + stage["height"] * dy
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(tx, ty, steps=8)
    page.mouse.up()


def _until(page, expression: str, timeout: float = 15.0) -> None:
    """Wait until ``expression`` is true in the page (Playwright's wait_for_function evaluates a string, which the
    console's Content-Security-Policy forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def test_dragging_a_corner_changes_the_straightened_page_in_the_browser(tmp_path, chromium, monkeypatch):
    monkeypatch.setattr(docfind, "CONFIDENT", 1.5)  # the finder is "unsure" of every photo: the step is shown
    app = make_app(tmp_path)
    photo = document_photo(7, "plain", size=(1600, 1200))
    path = tmp_path / "phone.jpg"
    path.write_bytes(_jpeg(photo.image))
    with serve(app) as url:
        page = operator_page(chromium, url, locale="en-GB")
        context = page.context
        context.set_default_timeout(20_000)
        dialogs = []  # a confirm() would block the page (and every evaluate) for good: none may open
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{url}/operator/requests/new")
        page.select_option("#service", SERVICE)
        page.click("#next")
        page.fill("#national_id", VALID_NID)
        page.fill("#name", "Ahmed Ali")
        page.click("#next")
        page.select_option("#doc_code", "SURVEY")
        page.set_input_files("#page", str(path))
        page.check("#photo")
        page.click("#attach")
        page.wait_for_url(re.compile(r"/photo$"))
        assert page.locator("#corners-why").is_visible()

        _until(page, "document.getElementById('corners-straight').complete")
        before_src = page.get_attribute("#corners-straight", "src")
        before = page.locator("#corners-straight").screenshot()
        found = page.input_value("#corners")

        # Drag the bottom-right handle up and to the left, a quarter of the photo.
        _drag(page, 2, -0.25, -0.25)
        _until(page, f"document.getElementById('corners-straight').src.indexOf({before_src!r}) < 0"
                     " && document.getElementById('corners-straight').complete")
        moved = page.input_value("#corners")
        assert moved != found
        f, m = [float(v) for v in found.split(",")], [float(v) for v in moved.split(",")]
        assert f[:4] == m[:4] and f[6:] == m[6:], "only the dragged corner moved"
        assert m[4] == pytest.approx(f[4] - 0.25, abs=0.03) and m[5] == pytest.approx(f[5] - 0.25, abs=0.03)
        after = page.locator("#corners-straight").screenshot()
        assert _difference(before, after) > 10, "the straightened page is drawn again along the new outline"
        assert page.locator("#corners-reset").is_visible()

        # The keyboard moves a handle too; crossing the sides says why instead of showing a broken picture.
        page.focus("#corner-0")
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        assert float(page.input_value("#corners").split(",")[0]) == pytest.approx(f[0] + 0.03, abs=0.001)
        page.locator("#corners-reset").click()
        assert page.input_value("#corners") == found
        _drag(page, 0, to=(0.97, 0.5))  # the top-left dot dragged past the top-right one
        page.wait_for_selector("#corners-bad", state="visible")
        # No broken-image icon meanwhile: the picture is hidden until the dots outline a page again.
        assert page.eval_on_selector("#corners-straight", "e => getComputedStyle(e).visibility") == "hidden"
        page.locator("#corners-reset").click()
        page.wait_for_selector("#corners-bad", state="hidden")
        assert page.eval_on_selector("#corners-straight", "e => getComputedStyle(e).visibility") == "visible"

        # Drag again and use the page: it is attached as the operator outlined it.
        _drag(page, 2, -0.25, -0.25)
        page.click("#use-page")
        page.wait_for_url(re.compile(r"/documents$"))
        assert page.locator("ul.pages li").count() == 1

        # A photo the finder is sure of is attached at once; its corners can still be checked, and the page
        # straightened again takes its place.
        monkeypatch.setattr(docfind, "CONFIDENT", 0.0)
        page.select_option("#doc_code", "SURVEY")
        page.set_input_files("#page", str(path))
        page.check("#photo")
        page.click("#attach")
        page.wait_for_url(re.compile(r"/documents$"))
        assert page.locator("ul.pages li").count() == 2
        page.click("#check-corners")
        page.wait_for_url(re.compile(r"/photo$"))
        _until(page, "document.getElementById('corners-straight').complete")
        _drag(page, 0, 0.2, 0.2)
        page.click("#use-page")
        page.wait_for_url(re.compile(r"/documents$"))
        assert page.locator("ul.pages li").count() == 2 and page.locator("#check-corners").count() == 0
        assert dialogs == []
        context.close()


def test_the_overhead_camera_s_frame_goes_through_the_same_corner_step(tmp_path):
    # A camera:// scanner (here a still photo standing in for the V4L2 frame): Scan takes a frame, and when no
    # page is found in it the operator places the corners instead of reading "no page in view".
    still = tmp_path / "desk.jpg"
    still.write_bytes(_jpeg(document_photo(4, "none").image))
    app = make_app(tmp_path / "van", scanner=f"camera://{still}")
    console = app.test_client()
    login(console)
    start = _documents_step(console)
    r = post(console, f"{start}/documents", f"{start}/documents", {"doc_code": "OWNERSHIP", "scan": "1"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{start}/photo"), text(r)[:300]
    held = _draft(app, start)["photo"]
    assert held["doc_code"] == "OWNERSHIP" and held["found"] is False
    r = _decide(console, start, {"corners": "0.1,0.1,0.9,0.1,0.9,0.9,0.1,0.9", "use": "1"})
    assert r.status_code == 302 and [p["doc_code"] for p in _draft(app, start)["pages"]] == ["OWNERSHIP"]


def test_a_sure_photo_never_pushes_out_one_waiting_and_a_stale_page_is_refused(app, console, monkeypatch):
    start = _documents_step(console)
    monkeypatch.setattr(docfind, "CONFIDENT", 1.5)
    _send_photo(console, start, _jpeg(document_photo(7, "plain").image))  # waits for its corners
    waiting = _draft(app, start)["photo"]
    stale = console.get(f"{start}/photo").get_data(as_text=True)  # the corner step, open in a first tab
    monkeypatch.setattr(docfind, "CONFIDENT", 0.0)
    _send_photo(console, start, _jpeg(document_photo(8, "plain").image))  # sure: attached at once
    assert _draft(app, start)["photo"] == waiting and len(_draft(app, start)["pages"]) == 1
    # The first tab's form names the photo it was shown for: once another one waits, it is refused, with words.
    monkeypatch.setattr(docfind, "CONFIDENT", 1.5)
    _send_photo(console, start, _jpeg(document_photo(9, "plain").image))
    shown = re.search(r'name="photo" value="([^"]+)"', stale).group(1)
    r = console.post(f"{start}/photo", data={"csrf_token": token(stale), "photo": shown, "use": "1",
                                             "corners": "0.1,0.1,0.9,0.1,0.9,0.9,0.1,0.9"})
    assert r.status_code == 409 and "لم تعد الصورة المنتظرة" in text(r), text(r)[:300]
    assert len(_draft(app, start)["pages"]) == 1 and _draft(app, start)["photo"]["path"] != waiting["path"]


def test_removing_a_page_forgets_the_photo_kept_to_check_it(app, console):
    start = _documents_step(console)
    _send_photo(console, start, _jpeg(document_photo(7, "plain").image))
    draft = _draft(app, start)
    held, page = draft["photo"], draft["pages"][0]
    post(console, f"{start}/documents", f"{start}/documents", {"remove": page["file"]})
    draft = _draft(app, start)
    assert draft["pages"] == [] and "photo" not in draft
    assert not {held["path"], held["preview"], page["path"]} & _files(app)
    assert 'id="photo-waiting"' not in console.get(f"{start}/documents").get_data(as_text=True)
