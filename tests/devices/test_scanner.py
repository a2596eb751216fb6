"""The document scanner: real SANE scans (the `test` backend), its failures in words, the camera path, the twin."""

from __future__ import annotations

import re
import shutil

import cv2
import numpy as np
import pytest

from edge.core.errors import EdgeError
from edge.devices.scanner import (
    PAGE_BUDGET_BYTES,
    BlankPage,
    NoPageInView,
    Page,
    ScannerBusy,
    ScannerCoverOpen,
    ScannerError,
    ScannerJammed,
    ScannerNoDocuments,
    ScannerOffline,
    document_from_photos,
    encode_document,
    encode_page,
    open_scanner,
    scan_document,
)
from edge.devices.scanner import cleanup as page_cleanup
from edge.devices.scanner import sim as scanner_sim
from edge.devices.scanner.camera import CameraScanner, page_from_photo
from edge.devices.scanner.sane import SaneScanner
from tests.support import imagegen

needs_sane = pytest.mark.skipif(shutil.which("scanimage") is None, reason="sane-utils not installed")
ARABIC = re.compile(r"[\u0600-\u06FF]")


@pytest.fixture
def sane_env(tmp_path):
    """A SANE configuration that knows only the `test` backend (no real scanner is probed)."""
    conf = tmp_path / "sane.d"
    conf.mkdir()
    (conf / "dll.conf").write_text("test\n")
    return {"SANE_CONFIG_DIR": str(conf)}


def sane(env, query: str = "test-picture=Grid") -> SaneScanner:
    return SaneScanner(f"sane://test:0?{query}", env=env)


def assert_tells_operator(err: EdgeError, *words_en: str) -> None:
    assert ARABIC.search(err.message("ar")), err.message("ar")
    text = err.message("en").lower()
    for w in words_en:
        assert w in text, (w, text)


# --- SANE: real scans ----------------------------------------------------------------------------------


@needs_sane
def test_operator_sees_the_test_scanner_listed_and_ready(sane_env):
    s = sane(sane_env)
    names = [d.name for d in s.list_devices()]
    assert "test:0" in names
    assert s.status().online


@needs_sane
def test_flatbed_page_is_scanned_to_jpeg_and_pdf_with_the_jpeg_embedded_unchanged(sane_env):
    pages = sane(sane_env).scan(resolution=150, mode="Gray", source="Flatbed")
    assert len(pages) == 1
    page = pages[0]
    assert page.dpi == 150 and page.image.ndim == 2
    # The test backend's page is 80 × 100 mm: at 150 dpi about 472 × 590 px, a black-on-white grid.
    assert abs(page.image.shape[1] - 472) <= 2 and abs(page.image.shape[0] - 590) <= 2
    assert page.image.min() < 50 and page.image.max() > 200
    doc = encode_document(pages)
    assert doc.page_count == 1
    jpeg = doc.jpegs[0]
    assert jpeg.startswith(b"\xff\xd8\xff") and len(jpeg) <= PAGE_BUDGET_BYTES
    assert doc.pdf.startswith(b"%PDF-")
    assert jpeg in doc.pdf  # embedded byte for byte: no second lossy encode on the way to the hub
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert decoded.shape == page.image.shape
    assert np.abs(decoded.astype(int) - page.image).mean() < 8


@needs_sane
def test_feeder_batch_returns_every_page_in_order(sane_env):
    pages = sane(sane_env).scan(resolution=75, source="ADF")  # 'ADF' resolves to the device's own name
    assert len(pages) == 10  # the test backend's feeder holds ten sheets
    assert [p.index for p in pages] == list(range(1, 11))
    assert all(p.source == "Automatic Document Feeder" for p in pages)
    doc = encode_document(pages)
    assert doc.pdf.count(b"/DCTDecode") == 10 and all(j in doc.pdf for j in doc.jpegs)


@needs_sane
@pytest.mark.parametrize("status, error, words", [
    ("SANE_STATUS_JAMMED", ScannerJammed, ("jammed", "feeder")),
    ("SANE_STATUS_COVER_OPEN", ScannerCoverOpen, ("cover", "close")),
    ("SANE_STATUS_NO_DOCS", ScannerNoDocuments, ("no pages", "feeder")),
    ("SANE_STATUS_DEVICE_BUSY", ScannerBusy, ("busy",)),
])
@pytest.mark.parametrize("source", ["Flatbed", "ADF"])
def test_scanner_failure_reaches_the_operator_in_words_and_no_page_is_returned(sane_env, status, error, words, source):
    s = sane(sane_env, f"test-picture=Grid&enable-test-options=yes&read-return-value={status}")
    with pytest.raises(error) as caught:
        s.scan(resolution=75, source=source)
    assert_tells_operator(caught.value, *words)
    assert caught.value.pages == []  # a failed page is never handed on, not even as a blank one
    assert "scanimage" in caught.value.detail  # the developer's side: what the device said


@needs_sane
def test_scanner_io_error_is_a_scanner_error_with_a_what_to_do(sane_env):
    s = sane(sane_env, "test-picture=Grid&enable-test-options=yes&read-return-value=SANE_STATUS_IO_ERROR")
    with pytest.raises(ScannerError) as caught:
        s.scan(resolution=75)
    assert_tells_operator(caught.value, "switch the scanner off and on")


@needs_sane
def test_an_all_black_page_is_refused_as_blank_not_attached(sane_env):
    with pytest.raises(BlankPage) as caught:
        sane(sane_env, "test-picture=Solid black").scan(resolution=75)
    assert_tells_operator(caught.value, "blank")


@needs_sane
def test_an_all_white_page_is_refused_as_blank(sane_env):
    with pytest.raises(BlankPage):
        sane(sane_env, "test-picture=Solid white").scan(resolution=75)


@needs_sane
def test_a_scanner_that_is_not_there_says_check_the_cable(sane_env):
    s = SaneScanner("sane://nosuch:0", env=sane_env)
    with pytest.raises(ScannerOffline) as caught:
        s.scan(resolution=75)
    assert_tells_operator(caught.value, "usb cable")
    assert not s.status().online


# --- document camera --------------------------------------------------------------------------------


def test_photo_of_a_page_becomes_a_flat_clean_page_of_the_right_shape():
    photo = imagegen.document_photo(3, "shadow", size=(1600, 1200))
    page = page_from_photo(photo.image, dpi=150)
    h, w = page.image.shape[:2]
    assert page.image.ndim == 2
    truth_aspect, _ = page_cleanup.page_aspect(photo.corners)
    assert abs(h / w - truth_aspect) / truth_aspect < 0.03
    # Shadow divided out: the paper is white everywhere, the text still dark.
    paper = page.image[page.image > 128]
    assert np.percentile(paper, 10) > 225
    assert (page.image < 100).mean() > 0.005
    jpeg = encode_page(page)
    assert len(jpeg) <= PAGE_BUDGET_BYTES


def test_camera_url_with_a_photo_file_scans_to_a_pdf(tmp_path):
    photo = imagegen.document_photo(5, "plain", size=(1600, 1200))
    path = tmp_path / "frame.jpg"
    cv2.imwrite(str(path), photo.image)
    cam = open_scanner(f"camera://{path}")
    assert isinstance(cam, CameraScanner) and cam.status().online
    doc = scan_document(f"camera://{path}", mode="Color")
    assert doc.page_count == 1 and doc.jpegs[0] in doc.pdf


def test_camera_seeing_only_the_desk_asks_the_operator_to_place_the_page():
    photo = imagegen.document_photo(2, "none", size=(1200, 900))
    with pytest.raises(NoPageInView) as caught:
        page_from_photo(photo.image)
    assert_tells_operator(caught.value, "whole page")


def test_camera_that_cannot_be_opened_is_offline(tmp_path):
    cam = open_scanner(f"camera://{tmp_path}/missing.jpg")
    assert not cam.status().online
    with pytest.raises(ScannerOffline):
        cam.scan()


def test_text_page_can_be_binarised_for_the_smallest_file():
    photo = imagegen.document_photo(4, "plain", size=(1600, 1200))
    page = page_from_photo(photo.image, mode="Lineart")
    assert set(np.unique(page.image)) <= {0, 255}


# --- page budget ------------------------------------------------------------------------------------


def test_a_busy_colour_page_is_squeezed_under_the_uplink_budget_not_refused():
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (2339, 1654, 3), dtype=np.uint8)  # A4 at 200 dpi, worst case for JPEG
    jpeg = encode_page(Page(noisy, 200), max_bytes=PAGE_BUDGET_BYTES)
    assert len(jpeg) <= PAGE_BUDGET_BYTES
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) is not None


# --- the simulated twin -----------------------------------------------------------------------------


@pytest.fixture
def twin():
    t = scanner_sim.device("test-twin")
    t.clear()
    t.load(3)
    yield t
    t.clear()


def test_sim_scanner_scans_a_readable_page_and_a_feeder_batch(twin):
    s = open_scanner("sim://test-twin")
    [page] = s.scan(source="Flatbed")
    assert page_cleanup.blank_reason(page.image) is None
    batch = s.scan(source="ADF")
    assert [p.index for p in batch] == [1, 2, 3]
    with pytest.raises(ScannerNoDocuments):
        s.scan(source="ADF")  # the feeder is empty now


@pytest.mark.parametrize("fault, error", [
    ("jammed", ScannerJammed), ("cover_open", ScannerCoverOpen), ("no_documents", ScannerNoDocuments),
    ("unplugged", ScannerOffline), ("busy", ScannerBusy), ("blank", BlankPage),
])
def test_sim_scanner_fault_reaches_the_operator_and_clears(twin, fault, error):
    twin.set_fault(fault)
    s = open_scanner("sim://test-twin")
    with pytest.raises(error) as caught:
        s.scan()
    assert_tells_operator(caught.value)
    if fault != "blank":
        assert not s.status().online and s.status().code == error.code
    twin.clear()
    assert s.scan() and s.status().online


def test_feeder_jam_mid_batch_keeps_the_pages_already_scanned(twin):
    twin.load(5)
    twin.jam_after = 2
    with pytest.raises(ScannerJammed) as caught:
        open_scanner("sim://test-twin").scan(source="ADF")
    assert [p.index for p in caught.value.pages] == [1, 2]
    assert all(page_cleanup.blank_reason(p.image) is None for p in caught.value.pages)


def test_fault_can_be_set_from_the_settings_url(twin):
    with pytest.raises(ScannerCoverOpen):
        open_scanner("sim://test-twin?fault=cover_open").scan()


def test_unknown_scanner_url_is_a_settings_error_in_words():
    with pytest.raises(ScannerError) as caught:
        open_scanner("ftp://scanner")
    assert_tells_operator(caught.value, "settings")


def test_uploaded_phone_photos_become_one_pdf_with_a_page_each():
    photos = []
    for seed in (6, 7):
        ok, data = cv2.imencode(".jpg", imagegen.document_photo(seed, "plain", size=(1600, 1200)).image)
        photos.append(data.tobytes())
    doc = document_from_photos(photos)
    assert doc.page_count == 2 and all(j in doc.pdf for j in doc.jpegs)
    with pytest.raises(ScannerError):
        document_from_photos([b"not an image"])


def _png_of_zeros(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` black pixels: a few hundred KB that decode to gigabytes."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [10_000, 20_000])  # 100 MP; 400 MP (past Pillow's own bomb alarm)
def test_a_small_file_holding_a_huge_picture_is_refused_before_it_is_decoded(side):
    # Issue 16, finding 6: a 1.2 MB PNG took the web process from 93 MB to 2.4 GB: no pixel limit before decoding.
    import resource

    data = _png_of_zeros(side, side)
    assert len(data) < 2_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ScannerError) as caught:
        document_from_photos([data])
    assert "too large" in caught.value.message_en and "كبيرة جدًا" in caught.value.message_ar
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: nothing was decoded
