"""The document camera's page finder on generated photos with exact truth (support/imagegen.py): by category
(issue 7's set, ``document_photo``) and by condition (issue 17's real desks, ``desk_photo``), and its confidence."""

from __future__ import annotations

import functools
import statistics

import cv2
import numpy as np
import pytest

from edge.devices import scanner
from edge.devices.scanner import docfind
from edge.devices.scanner.docfind import find_document
from tests.support import imagegen
from tests.support.finder_checks import finds_desk_photo as _finds_tuning_photo

SIZE = (1200, 900)   # sizes in imagegen are relative: the same seed at 12 MP looks alike
SEEDS = range(3)     # the benchmark (bench/document.py) uses seeds from 1000 on, at 12 MP
# Mean IoU floors: regression guards a little under what the finder reaches today (docs/scanner.md).
FLOORS = {
    "plain": 0.97, "white_on_light": 0.95, "clutter": 0.95, "shadow": 0.95, "blur": 0.95, "rotation": 0.95,
    "receipt": 0.95, "small": 0.85, "textured": 0.95, "mixed": 0.93,
}


@pytest.mark.parametrize("category", sorted(FLOORS))
def test_page_is_found_on_a_hard_desk_photo(category):
    ious = []
    for seed in SEEDS:
        photo = imagegen.document_photo(seed, category, SIZE)
        ious.append(imagegen.quad_iou(find_document(photo.image), photo.corners))
    assert statistics.fmean(ious) >= FLOORS[category], [round(v, 3) for v in ious]


def test_an_empty_desk_is_answered_with_none_not_a_made_up_page():
    found = [find_document(imagegen.document_photo(seed, "none", SIZE).image) for seed in SEEDS]
    assert sum(f is None for f in found) >= len(found) - 1


def test_corners_come_top_left_first_clockwise_in_image_pixels():
    photo = imagegen.document_photo(1, "plain", SIZE)
    corners = find_document(photo.image)
    assert corners.shape == (4, 2) and corners.dtype == np.float64
    tl, tr, br, bl = corners
    assert tl.sum() == corners.sum(axis=1).min()
    assert tr[0] > tl[0] and br[1] > tr[1] and bl[0] < br[0]
    assert np.abs(corners - photo.corners).max() < 6


def test_grey_photo_is_accepted_too():
    photo = imagegen.document_photo(2, "plain", SIZE)
    grey = photo.image.mean(axis=2).astype(np.uint8)
    assert imagegen.quad_iou(find_document(grey), photo.corners) > 0.95


def test_the_scanner_module_offers_the_finder_under_the_name_the_issue_gives():
    assert scanner.find_document is find_document


# --- issue 17: real desks (imagegen.desk_photo), the finder's confidence ---------------------------------

DESK_SIZE = (1000, 750)
DESK_SEEDS = range(3)   # tuning split; the bench uses seeds from 1000 (tuning) and 5000 (held-out) at 12 MP
# Mean IoU floors per condition, a little under what the finder reaches on these seeds today. Where one of
# the three photos is only partly found today (tablecloth: a page with a shaded fold, 0.79) the floor says so.
DESK_FLOORS = {
    "wood": 0.97, "fabric": 0.97, "tablecloth": 0.88, "receipt": 0.97, "curled": 0.97, "motion": 0.95,
    "defocus": 0.95, "occluder": 0.97, "soft_shadow": 0.97, "glare": 0.97, "clutter": 0.97, "plain": 0.97,
    # 2026-12-06: printed frames near the edge, the page at the photo's border. "cut" has no floor: its truth is
    # the whole page, partly outside the photo, so no answer reaches it; what counts there is the score.
    "framed": 0.9, "edge_glare": 0.97, "cut": None,
    # A document on a mat, a tray, a folder or a larger sheet: the larger outline is taken (docs/scanner.md; the rule
    # of branch finder-nested was reverted after review). No floor until a rule keeps bench/outer_documents whole.
    "nested": None,
    # 2026-12-06 (branch finder-arabic): an Arabic form, letter or receipt in shaped Naskh (seeds 0-2: 0.996-1.000).
    "arabic": 0.97,
    # 2026-12-07: till receipts of aspect 3.5-8 (seeds 0-2: 0.945, 0.997, 0.992, all confident).
    "long_receipt": 0.95,
}


@functools.cache
def _desk(condition, seed):
    photo = imagegen.desk_photo(seed, condition, DESK_SIZE)
    found = docfind.detect(photo.image)
    iou = imagegen.quad_iou(None if found is None else found.corners, photo.corners)
    return iou, (0.0 if found is None else found.score)


def test_every_condition_of_issue_17_has_a_floor():
    assert set(DESK_FLOORS) == set(imagegen.CONDITIONS)


@pytest.mark.parametrize("condition", [c for c in imagegen.CONDITIONS if DESK_FLOORS[c] is not None])
def test_page_is_found_on_a_real_desk(condition):
    ious = [_desk(condition, seed)[0] for seed in DESK_SEEDS]
    assert statistics.fmean(ious) >= DESK_FLOORS[condition], [round(v, 3) for v in ious]



def test_confident_answers_are_right_and_most_wrong_ones_say_so():
    results = [_desk(c, s) for c in imagegen.CONDITIONS for s in DESK_SEEDS]
    assert all(0.0 <= score <= 1.0 for _, score in results)
    confident = [iou for iou, score in results if score >= docfind.CONFIDENT]
    wrong = [score for iou, score in results if iou < 0.9]
    assert len(confident) >= len(results) // 2                         # it is not "unsure" of everything
    assert sum(iou >= 0.9 for iou in confident) >= 0.9 * len(confident), sorted(confident)
    assert sum(score < docfind.CONFIDENT for score in wrong) >= len(wrong) / 2, wrong


def test_a_curled_page_is_found_by_its_physical_corners():
    photo = imagegen.desk_photo(1, "curled", DESK_SIZE)
    # The generator bends the sides: the corners are not where the straight chords of the bent sides cross.
    corners = find_document(photo.image)
    assert np.abs(corners - photo.corners).max() < 0.01 * max(DESK_SIZE)


def test_the_held_out_split_draws_other_textures_from_other_seeds():
    for table in (imagegen.WOOD_SPECIES, imagegen.WEAVES, imagegen.CLOTHS):
        assert set(table) == set(imagegen.SPLITS)
        families = [f for split in imagegen.SPLITS for f in table[split]]
        assert len(families) == len(set(families)), table  # each split its own families: none shared
    a = imagegen.desk_photo(0, "wood", (320, 240), "tune").image
    b = imagegen.desk_photo(0, "wood", (320, 240), "heldout").image
    assert a.shape != b.shape or np.abs(a.astype(int) - b).mean() > 5


def test_every_texture_family_of_every_split_renders_a_desk_with_texture():
    rng = np.random.default_rng(0)
    makers = ((imagegen.WOOD_SPECIES, imagegen._wood), (imagegen.WEAVES, imagegen._fabric),
              (imagegen.CLOTHS, imagegen._tablecloth))
    for table, make in makers:
        for family in sorted({f for families in table.values() for f in families}):
            desk = make(rng, 240, 320, 0.5, family)
            assert desk.shape == (240, 320, 3) and np.isfinite(desk).all(), family
            grey = desk.mean(axis=2)
            assert np.abs(np.diff(grey, axis=1)).mean() > 0.5, family  # not a flat colour


def test_an_arabic_page_is_shaped_naskh_script_printed_on_the_page():
    from PIL import Image, ImageDraw, features

    assert features.check("raqm")  # libraqm: without it Pillow draws every letter in its isolated form
    font, draw = imagegen._ar_font("regular", 40), ImageDraw.Draw(Image.new("L", (8, 8)))
    word = "العربية"
    joined = draw.textlength(word, font=font, direction="rtl", language="ar")
    alone = sum(draw.textlength(c, font=font, direction="rtl", language="ar") for c in word)
    assert joined < 0.8 * alone  # the letters are joined (shaped), not set side by side
    kinds = set()
    for seed in range(4):
        photo = imagegen.desk_photo(seed, "arabic", DESK_SIZE)
        again = imagegen.desk_photo(seed, "arabic", DESK_SIZE)
        assert np.array_equal(photo.image, again.image)  # deterministic per seed, condition, size and split
        kinds.add(photo.page_format)
        inside = np.zeros(photo.image.shape[:2], np.uint8)
        cv2.fillConvexPoly(inside, np.round(photo.corners).astype(np.int32), 1)
        inside = cv2.erode(inside, np.ones((15, 15), np.uint8)).astype(bool)
        grey = cv2.cvtColor(photo.image, cv2.COLOR_BGR2GRAY).astype(float)[inside]
        ink = np.mean(grey < 0.7 * np.median(grey))
        assert 0.005 < ink < 0.3, (seed, ink)  # printed, not blank and not a dark block
    assert len(kinds) >= 2, kinds  # forms and letters on A4 / A5 / letter paper, receipts


@pytest.mark.parametrize(("condition", "seed"), [("plain", 30), ("receipt", 14)])
def test_a_page_nearly_the_desks_colour_is_found_by_the_second_amplified_look(condition, seed):
    # Both were answered None before the low-contrast retry (docfind.LOW_CONTRAST_GAIN, 2026-12-05).
    photo = imagegen.desk_photo(seed, condition, DESK_SIZE)
    assert imagegen.quad_iou(find_document(photo.image), photo.corners) >= 0.95


def test_the_amplified_look_does_not_make_pages_out_of_empty_desks():
    found = [find_document(imagegen.document_photo(seed, "none", SIZE).image) for seed in range(16)]
    assert sum(f is None for f in found) == len(found)


# --- issue 17, fifth session (2026-12-05): tuning-split photos the finder got wrong before ----------------


def test_an_id_card_on_a_checked_cloth_is_found_with_its_colour_band():
    # Tuning seed 1005 at 12 MP: a card whose band is darker than the cloth's light checks and lighter than
    # its dark ones, so the band's outline steps both ways; it was found without the band (IoU 0.77).
    photo = imagegen.desk_photo(1005, "tablecloth", (4000, 3000))
    assert imagegen.quad_iou(find_document(photo.image), photo.corners) >= 0.9


def test_a_page_whose_shaded_fold_ends_in_a_ramp_is_found_whole():
    # Tuning seed 1009 at 1080p: a page on stripes whose curled side is shaded; the line search took the
    # shading's soft boundary for a side (IoU 0.74, confidence 1.0). That side is a ramp, the others steps:
    # the page's crisp edge beside it is the side (docfind._unramp).
    photo = imagegen.desk_photo(1009, "tablecloth", (1920, 1080))
    assert imagegen.quad_iou(find_document(photo.image), photo.corners) >= 0.95


def test_a_second_sheet_in_view_nearly_as_well_outlined_makes_the_finder_ask():
    # Tuning seed 1005 at 1080p: a complete white sheet beside the page (an ID card among mugs and notes);
    # the sheet was answered with confidence 1.0 (IoU 0). Which of two sheets is meant is a guess: the
    # operator is asked to check the corners (the answer is still a page, not "no page").
    photo = imagegen.desk_photo(1005, "clutter", (1920, 1080))
    found = docfind.detect(photo.image)
    assert found is not None
    assert found.score < docfind.CONFIDENT


def test_a_lamps_reflection_is_not_taken_for_the_page():
    # Tuning seed 1000 at 12 MP: a white page on a white desk with a reflection over its left edge; the
    # blown-out reflection (half of it on the desk) was the answer (IoU 0.06). It is dropped now
    # (docfind._glare). The page's left edge is under the reflection and its other sides are faint: the
    # answer was the page's shaded right part (IoU 0.2), and since blown-out stretches of a side count as
    # unseen (docfind.SEEN_SHARE) it is the page's upper part, its left side through the reflection (IoU
    # 0.53). Either way below CONFIDENT: the operator is asked. The whole page is not found.
    photo = imagegen.desk_photo(1000, "glare", (4000, 3000))
    found = docfind.detect(photo.image)
    assert found is not None
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.5
    assert found.score < docfind.CONFIDENT


def test_a_receipt_on_fine_stripes_is_found_by_the_sides_that_cross_them():
    # Tuning seed 1002 at 12 MP: a receipt at 50° on fine vertical stripes the median leaves. Every line of
    # the Hough transform was a bridge across the stripes' edges, and the receipt's short sides were never
    # lines; the winner had a 42° corner (IoU 0.90). Without the stripes' own edges the sides are lines
    # again, bridges across stripes do not count, and no page has such a corner (docfind._across_family).
    photo = imagegen.desk_photo(1002, "tablecloth", (4000, 3000))
    assert imagegen.quad_iou(find_document(photo.image), photo.corners) >= 0.98


def test_a_quadrilateral_with_a_sharp_corner_is_no_page():
    assert docfind._page_shaped(np.array([[0, 0], [100, 0], [100, 100], [0, 100]], float))
    # A sheet seen from above keeps near-right corners; this one has 45° and 135° corners.
    assert not docfind._page_shaped(np.array([[0, 0], [100, 0], [200, 100], [100, 100]], float))


def test_a_side_beside_a_parallel_stripe_is_refined_onto_the_page_not_the_stripe():
    # Tuning seed 1001 at 1080p: a receipt on stripes nearly parallel to its long sides. At full resolution a
    # stripe's flank within the curl reach was taken for the side on most rows (IoU 0.93); the fit now starts
    # from the rows found next to the side found at working size (docfind.NEAR_REACH).
    photo = imagegen.desk_photo(1001, "tablecloth", (1920, 1080))
    assert imagegen.quad_iou(find_document(photo.image), photo.corners) >= 0.97


def test_a_side_under_a_lamps_reflection_counts_by_the_part_that_can_be_seen():
    # Tuning seed 1008 at 1080p: a page on a dark desk with a reflection over half of its top side; the
    # reflection's rim and the dark desk beside it made a larger quadrilateral that outranked the page,
    # whose top side showed a step on only half its length (IoU 0.85, confidence 0.73). Where both sides of a
    # side are blown out nothing can be seen; the share of step is taken over the rest (docfind.SEEN_SHARE).
    photo = imagegen.desk_photo(1008, "glare", (1920, 1080))
    assert imagegen.quad_iou(find_document(photo.image), photo.corners) >= 0.95


def test_a_page_in_steep_perspective_is_found_and_the_operator_asked(monkeypatch):
    # A phone held low: the page's plane tilted 60° (the generator's own perspective, steeper than its
    # conditions use). Plain seed 2020 at 1080p has corners from 60° to 132°, outside PAGE_ANGLE: it was
    # answered "no page". A candidate within STEEP_ANGLE is the answer when no page-shaped one is found, and the
    # operator checks its corners.
    real_quad = imagegen._page_quad
    monkeypatch.setattr(imagegen, "_page_quad", lambda rng, W, H, aspect, area, tilt, rotation:
                        real_quad(rng, W, H, aspect, area, 60, rotation))
    photo = imagegen.desk_photo(2020, "plain", (1920, 1080))
    assert not docfind._page_shaped(photo.corners) and docfind._page_shaped(photo.corners, docfind.STEEP_ANGLE)
    found = docfind.detect(photo.image)
    assert found is not None and imagegen.quad_iou(found.corners, photo.corners) >= 0.98
    assert found.score < docfind.CONFIDENT


def test_a_corner_of_60_or_125_degrees_is_page_shaped_45_is_not():
    trapezoid = np.array([[0, 0], [100, 0], [100 + 100 / np.tan(np.radians(60)), 100], [0, 100]], float)  # 60°, 120°
    assert docfind._page_shaped(trapezoid)
    assert not docfind._page_shaped(np.array([[0, 0], [100, 0], [200, 100], [100, 100]], float))  # 45°, 135°
    assert docfind._page_shaped(np.array([[0, 0], [100, 0], [200, 100], [100, 100]], float), docfind.STEEP_ANGLE)


def test_a_grey_photo_with_a_channel_axis_is_read_as_grey():
    photo = imagegen.desk_photo(3, "plain", (640, 480))
    grey = cv2.cvtColor(photo.image, cv2.COLOR_BGR2GRAY)[..., None]  # (H, W, 1), as some cameras hand it
    assert imagegen.quad_iou(find_document(grey), photo.corners) >= 0.9


# --- 2026-12-06: confidence that does not lie (printed frames, the photo's border) -------------------------------


@pytest.mark.parametrize(("seed", "what"), [(0, "certificate"), (2, "banknote")])
def test_a_printed_frame_inside_a_document_taken_for_its_edge_makes_the_finder_ask(seed, what):
    # imagegen "framed": a certificate's ornamental band, a banknote's print ending a few mm inside the paper. The
    # finder answered the print's outline (IoU 0.71 / 0.76) with confidence 1.0 / 0.86. Beyond every side a line
    # steps the same way close by (the document's own edge): the operator is asked (docfind._beyond).
    photo = imagegen.desk_photo(seed, "framed", DESK_SIZE)
    assert photo.page_format == {"certificate": "a4", "banknote": "note"}[what]
    found = docfind.detect(photo.image)
    assert found is not None
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.9 or found.score < docfind.CONFIDENT


def test_a_certificates_paper_rim_beyond_its_ornamental_band_is_taken_as_its_edge():
    # imagegen "framed" seed 0: the band's inner outline was the answer (IoU 0.71, confidence 1.0). Beyond every
    # side there are lines stepping the same way, the outermost with calm paper before it on all four sides: the
    # certificate's own edge (docfind._beyond).
    photo = imagegen.desk_photo(0, "framed", DESK_SIZE)
    assert imagegen.quad_iou(find_document(photo.image), photo.corners) >= 0.95


def _page_at(left: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    img = np.full((750, 1000, 3), 60, np.float32) + rng.normal(0, 3, (750, 1000, 3))
    quad = np.array([[left, 120], [420, 140], [400, 640], [left, 620]], np.float32)
    cv2.fillConvexPoly(img, np.round(quad * 16).astype(np.int32), (235, 238, 240), cv2.LINE_AA, shift=4)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for k in range(8):
        cv2.putText(img, "lorem ipsum dolor", (40, 200 + 45 * k), 0, 1.0, (30, 30, 30), 2, cv2.LINE_AA)
    return img, quad


def test_a_page_whose_side_lies_at_the_photos_border_makes_the_finder_ask():
    # Its left side 2 px from the photo's border: found (IoU 0.99) with confidence 1.0 before. Whether the page
    # ends there or runs on beyond the photo cannot be seen: the operator is asked (docfind.BORDER_NEAR).
    img, quad = _page_at(2.0)
    found = docfind.detect(img)
    assert imagegen.quad_iou(found.corners, quad) >= 0.95
    assert found.score < docfind.CONFIDENT
    img, quad = _page_at(60.0)  # well inside: still sure
    assert docfind.detect(img).score >= docfind.CONFIDENT


def test_a_side_along_the_border_or_a_corner_beyond_it_is_at_the_border():
    q = np.array([[100, 100], [500, 100], [500, 400], [100, 400]], float)
    assert not docfind._at_border(q, 1000, 750)
    assert docfind._at_border(q - [99, 0], 1000, 750)      # the left side 1 px from the border
    assert docfind._at_border(q + [600, 0], 1000, 750)     # two corners beyond the right border
    diamond = np.array([[2, 300], [300, 100], [600, 300], [300, 500]], float)
    assert not docfind._at_border(diamond, 1000, 750)      # only a corner near it: the page's own corner


# Seed 7 is the one of these the finder before _at_border answered confidently wrong (IoU 0.68 at 0.84).
@pytest.mark.parametrize("seed", [*DESK_SEEDS, 7])
def test_a_page_running_off_the_photo_is_never_answered_confidently_wrong(seed):
    photo = imagegen.desk_photo(seed, "cut", DESK_SIZE)
    found = docfind.detect(photo.image)
    if found is not None and imagegen.quad_iou(found.corners, photo.corners) < 0.9:
        assert found.score < docfind.CONFIDENT


def test_a_moved_quad_moves_every_side_out_by_its_offset():
    q = np.array([[100, 100], [500, 100], [500, 400], [100, 400]], float)
    out = docfind._moved_quad(q, [10, 20, 30, 40])
    assert np.allclose(docfind.order_corners(out), [[60, 90], [520, 90], [520, 430], [60, 430]])


def _outward(q, m):
    """``q`` with every side moved ``m`` px outward."""
    c, lines, out = q.mean(0), [], []
    for s in range(4):
        a, b = q[s], q[(s + 1) % 4]
        d = b - a
        n = np.array([d[1], -d[0]]) / np.linalg.norm(d)
        n = -n if (c - a) @ n > 0 else n
        lines.append((a + m * n, b + m * n))
    for s in range(4):
        (p1, p2), (p3, p4) = lines[s - 1], lines[s]
        d1, d2 = p2 - p1, p4 - p3
        t = ((p3 - p1)[0] * d2[1] - (p3 - p1)[1] * d2[0]) / (d1[0] * d2[1] - d1[1] * d2[0])
        out.append(p1 + t * d1)
    return np.array(out)


def _with_guide_line(condition, seed):
    """A desk photo with a dark line drawn around the page, 6 % of its size out (a placement guide, a desk pad's
    border, a tray's lip): plain desk between the page and the line."""
    photo = imagegen.desk_photo(seed, condition, (1600, 1200))
    img = photo.image.copy()
    q = photo.corners.astype(np.float64)
    span = np.sqrt(abs(cv2.contourArea(q.astype(np.float32))))
    col = tuple(float(v) for v in np.median(img.reshape(-1, 3), 0) * 0.45)
    cv2.polylines(img, [np.round(_outward(q, 0.06 * span) * 16).astype(np.int32)], True, col, 5, cv2.LINE_AA, shift=4)
    return img, photo.corners


@pytest.mark.parametrize(("condition", "seed"), [("plain", 0), ("fabric", 0)])
def test_a_guide_line_on_the_desk_around_the_page_is_not_its_edge(condition, seed):
    # Review of finder-conf: the outer outline was taken when the band before it was merely calm (plain desk), not
    # paper: IoU 0.996 -> 0.80 at score 0, below NO_PAGE (a page "found" with no confidence).
    img, corners = _with_guide_line(condition, seed)
    found = docfind.detect(img)
    assert found is not None and found.score >= docfind.NO_PAGE, found
    assert imagegen.quad_iou(found.corners, corners) >= 0.95, found.score


# --- 2026-12-06: documents whose outline is the outer one (bench/outer_documents.py, a reviewer's compositions) -----


@pytest.mark.parametrize("case", ["form:green", "certificate:maroon", "kraft:small", "navy", "idcard:pink",
                                  "tinted:grey", "sticky:text", "shadow:0.0"])
def test_a_document_with_a_coloured_margin_or_a_light_panel_is_found_whole(case):
    # The branch finder-nested took a calm band darker or more saturated than the paper inside it for a mat under
    # the document: a coloured form came back as its white box, a kraft envelope as its label, a page in a cast
    # shadow as its lit part — confidently (117 of 216 of these photos). It was reverted; whatever rule comes next
    # for a document on a mat must keep these whole.
    from bench.outer_documents import compose

    image, truth = compose(case, (1000, 750), 0)
    found = docfind.detect(image)
    assert found is not None and imagegen.quad_iou(found.corners, truth) >= 0.95, (case, found)
    assert found.score >= docfind.CONFIDENT, (case, found.score)


def _two_faint_sheets() -> np.ndarray:
    # Two sheets a few grey levels off a grey desk, blurred and noisy (640x480): the winner is unsure (about 0.4)
    # and the other sheet ranks as high. main's finder returned a page at score 0.155, below NO_PAGE.
    rng = np.random.default_rng(3)
    h, w = 480, 640
    bg = int(rng.integers(40, 200))
    img = np.full((h, w, 3), bg, np.float32)
    for c in ((160, 240), (480, 240)):
        size = int(rng.integers(120, 260)), int(rng.integers(120, 300))
        angle = float(rng.uniform(-20, 20))
        centre = (float(c[0] + rng.integers(-30, 30)), float(c[1] + rng.integers(-60, 60)))
        step = float(rng.choice([-1, 1]) * rng.uniform(3, 9))
        cv2.fillConvexPoly(img, cv2.boxPoints((centre, size, angle)).astype(np.int32), (bg + step,) * 3)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.5, 3)))
    return np.clip(img + rng.normal(0, float(rng.uniform(2, 8)), img.shape), 0, 255).astype(np.uint8)


def test_a_page_doubted_for_a_rival_sheet_is_asked_about_not_returned_below_no_page():
    # detect's contract: a page it returns scores at least NO_PAGE (below it the photo shows no page). The rival
    # doubt (docfind._doubt, down to RIVAL_FLOOR) was applied after the NO_PAGE check, so an unsure winner with
    # an equal rival came back at 0.155. Two sheets in view are not "no page": the score is floored at NO_PAGE.
    found = docfind.detect(_two_faint_sheets())
    # Found (main gave 0.155 here, a page below NO_PAGE), and asked about — not "no page", not confident.
    assert found is not None and docfind.NO_PAGE <= found.score < docfind.CONFIDENT, found


def test_the_rival_doubt_floors_at_no_page_and_keeps_the_answer(monkeypatch):
    # The same rule, forced: whatever the search finds at confidence 0.4 with an equal rival (factor 0.4, so
    # 0.16 before) is returned, asked about, at NO_PAGE.
    photo = imagegen.desk_photo(3, "plain", (800, 600))
    search = docfind._search

    def unsure_with_rival(small, gain):
        found = search(small, gain)
        return None if found is None else (found[0], 0.4, found[2], found[3], 1.0)

    monkeypatch.setattr(docfind, "_search", unsure_with_rival)
    found = docfind.detect(photo.image)
    assert found is not None
    assert found.score == pytest.approx(docfind.NO_PAGE)
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.9


def test_a_curled_end_shaded_under_right_aligned_print_is_grown_over():
    # Tuning seed 24 at 1000x750: an Arabic page on a plank whose curled end is shaded from where its
    # right-aligned print begins; the answer stopped where the shading begins (IoU 0.914 at score 0.99), as
    # the print keeps all but 28 % of the strip from being calm (docfind._grow needs 30 %). Paper's background,
    # the print closed over, is calm along the fold (it changes across it only): the strip is grown over.
    photo = imagegen.desk_photo(24, "arabic", (1000, 750))
    found = docfind.detect(photo.image)
    assert found is not None and imagegen.quad_iou(found.corners, photo.corners) >= 0.97, found


def _two_sheets_side_by_side(gap: int, vertical: bool, size=(1000, 750)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Two A5 pages of print side by side on a dark desk, ``gap`` px apart (the desk shows through), both
    # straight: together they outline one larger page, and each sheet's paper is flat.
    w, h = size
    rng = np.random.default_rng([0, 777])
    ppm = 0.45 * h / 210 if vertical else min(0.8 * h / 210, 0.42 * w / 148)
    a, b = (imagegen._render_page(rng, "a5", 148, 210, ppm).astype(np.float32) for _ in range(2))
    ph, pw = a.shape[:2]
    desk = np.empty((h, w, 3), np.float32)
    desk[:] = (60, 65, 75)
    desk += rng.normal(0, 3, desk.shape)
    if vertical:
        x0, y0 = int(w / 2 - pw / 2), int(h / 2 - ph - gap / 2)
    else:
        x0, y0 = int(w / 2 - pw - gap / 2), int(h / 2 - ph / 2)
    qa = np.array([[x0, y0], [x0 + pw, y0], [x0 + pw, y0 + ph], [x0, y0 + ph]], np.float64)
    qb = qa + ([0, ph + gap] if vertical else [pw + gap, 0])
    imagegen._paste(desk, b, qb, shadow_px=2, shadow_strength=0.3, rng=rng)
    imagegen._paste(desk, a, qa, shadow_px=2, shadow_strength=0.3, rng=rng)
    return imagegen._camera(rng, desk, 0.6, 0, 2.0, 90), imagegen.order_corners(qa), imagegen.order_corners(qb)


@pytest.mark.parametrize(("gap", "vertical"), [(3, True), (6, False), (12, False)])
def test_two_sheets_side_by_side_are_not_answered_confidently_as_one_page(gap, vertical):
    # The two sheets' outline is a page's, so the line search took both as one page at score 0.99-1.00 (IoU 0.5
    # with either): confidently wrong. The gap between them runs across the answer from side to side, through
    # both margins, which print does not (docfind._seam): the operator is asked.
    image, first, second = _two_sheets_side_by_side(gap, vertical)
    found = docfind.detect(image)
    assert found is not None
    right = max(imagegen.quad_iou(found.corners, first), imagegen.quad_iou(found.corners, second)) >= 0.9
    assert right or found.score < docfind.CONFIDENT, found


@pytest.mark.parametrize("size", [(1000, 750), (1920, 1080)])
def test_a_keyboard_alone_is_not_answered_confidently_as_a_page(size):
    # A dark keyboard on a grey desk, no page in view: its body outlines a quadrilateral as well as a page does
    # and its keys are flat, so main's finder answered it at 0.87-0.99. The gaps between its rows of keys run
    # from side to side (docfind._seam), as the gap between two sheets does: the operator is asked.
    w, h = size
    rng = np.random.default_rng([0, 6])
    desk = np.empty((h, w, 3), np.float32)
    desk[:] = (150, 155, 160)
    desk += rng.normal(0, 3, desk.shape)
    x, y, kw, kh = int(w * 0.2), int(h * 0.3), int(w * 0.55) // 16, int(h * 0.25) // 6
    cv2.rectangle(desk, (x, y), (x + 16 * kw, y + 6 * kh), (40, 40, 45), -1)
    for r in range(6):
        for c in range(16):
            cv2.rectangle(desk, (x + c * kw + 3, y + r * kh + 3), (x + (c + 1) * kw - 3, y + (r + 1) * kh - 3),
                          (70, 70, 75), -1)
    found = docfind.detect(imagegen._camera(rng, np.clip(desk, 0, 255), 0.6, 0, 2.0, 90))
    assert found is None or found.score < docfind.CONFIDENT, found


def test_a_motion_blurred_page_on_a_fine_check_is_found_by_the_coarse_view():
    # Tuning motion seed 1134 at 1080p: a page on a fine gingham, motion-blurred. At working size every check
    # meets the page's sides, breaking them into pieces too short for a line, and the blurred print keeps the
    # page from being a smooth region: main's finder answered "no page". At half the working size the check
    # averages out and the sides are whole (docfind._search's coarse view); the page is found (asked: 0.56).
    _finds_tuning_photo(1134, "motion", (1920, 1080), at_least=0.9)


def test_an_id_card_under_a_pen_is_grown_over_its_band_from_its_refined_sides():
    # Tuning occluder seed 1023 at 1080p: an ID card with a colour band, a pen across its side. At working size
    # that side is pulled a few degrees off by the pen, its extension misses the band's side and the growth
    # step finds no band: main's finder answered the card's body at 0.91, IoU 0.77 (confidently wrong). Grown
    # once more from the sides refined at full resolution (docfind._regrow), the band is taken.
    _finds_tuning_photo(1023, "occluder", (1920, 1080), at_least=0.95)


@pytest.mark.parametrize("seed", [1219, 1348])
def test_a_motion_blurred_receipt_on_a_fine_stripe_is_found_as_the_quiet_region(seed):
    # Tuning motion seeds 1219 (a receipt on fine upright stripes, its blurred print along them) and 1348 (a
    # receipt on a fine check, a shaded strip along its side) at 1080p. The stripes run up to the paper and turn
    # there: its sides are no edge and no line search keeps them; main's finder answered "no page" (1219) and a
    # part of the receipt (1348: IoU 0.62). The desk is edges everywhere, the paper the one region free of them
    # but for its print (docfind._quiet_quads): the receipt is found (asked).
    _finds_tuning_photo(seed, "motion", (1920, 1080), at_least=0.95)


def test_a_quiet_region_inside_the_answer_does_not_replace_it():
    # bench.outer_documents' pink ID card on a fine-grained wood (1080p, seed 1): the grain makes the desk busy, and
    # the quiet region is the card's light panel without the thin pink strip below it (its edges on both sides
    # within QUIET_REACH). Without the guard the panel replaced the card (IoU 0.999 at 0.90 -> 0.925 at 0.98); a
    # quiet region inside the answer is its inner part and is not looked at (docfind._inside), as main's finder.
    from bench.outer_documents import compose

    image, truth = compose("idcard:pink", (1920, 1080), 1)
    found = docfind.detect(image)
    assert found is not None and imagegen.quad_iou(found.corners, truth) >= 0.99, found


def _page_with_lines(kind: str, desk_colour, seed: int = 0, size=(1000, 750)) -> tuple[np.ndarray, np.ndarray]:
    # An A4 page of print, straight up to a few degrees, on a plain desk, with lines that run to the paper's
    # edges: squared paper (a 10 mm grid both ways), a full-height rule (a column divider, 1.5 mm) or a crease
    # across the full width (a shaded valley, 18 % darker, 2 mm wide).
    w, h = size
    rng = np.random.default_rng([seed, 4242])
    ppm = 0.8 * h / 297
    page = imagegen._render_page(rng, "a4", 210, 297, ppm).astype(np.float32)
    ph, pw = page.shape[:2]
    if kind == "grid":
        for x in np.arange(0, pw, 10 * ppm):
            cv2.line(page, (int(x), 0), (int(x), ph), (60, 60, 60), max(1, int(0.4 * ppm)))
        for y in np.arange(0, ph, 10 * ppm):
            cv2.line(page, (0, int(y)), (pw, int(y)), (60, 60, 60), max(1, int(0.4 * ppm)))
    elif kind == "rule":
        x = int(pw * rng.uniform(0.35, 0.6))
        cv2.rectangle(page, (x, 0), (x + int(1.5 * ppm), ph), (20, 20, 20), -1)
    elif kind == "creases":
        for y in (ph / 3, 2 * ph / 3):
            page *= (1 - np.exp(-0.5 * ((np.arange(ph) - y) / (0.8 * ppm)) ** 2) * 0.18)[:, None, None]
    desk = np.empty((h, w, 3), np.float32)
    desk[:] = desk_colour
    desk += rng.normal(0, 3, desk.shape)
    a = np.deg2rad(rng.uniform(-8, 8))
    turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    corners = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]]) @ turn.T
    corners += [w / 2, h / 2]
    imagegen._paste(desk, page, corners, shadow_px=2, shadow_strength=0.3, rng=rng)
    return imagegen._camera(rng, desk, 0.6, 0, 2.0, 90), imagegen.order_corners(corners)


@pytest.mark.parametrize(("kind", "desk"), [("grid", (120, 118, 112)), ("grid", (190, 192, 195)),
                                            ("rule", (40, 40, 45)), ("rule", (120, 118, 112)),
                                            ("creases", (120, 118, 112))])
def test_a_line_that_runs_to_one_pages_edges_is_no_seam(kind, desk):
    # Squared paper, a full-height rule or a crease runs across the page from edge to edge. At working size a 1-2 px
    # line blurs to a grey that matched a mid or light desk (and a black rule a dark desk), and a grid's lines run
    # both ways: the finder took the page for two sheets or a keyboard and asked about a right answer (0.675). A
    # gap between two sheets shows the desk at full resolution and a sheet's calm margin beside it; a printed line
    # shows ink, and a grid's lines have each other beside them (docfind._seam): the page is answered confidently.
    image, truth = _page_with_lines(kind, desk)
    found = docfind.detect(image)
    assert found is not None and imagegen.quad_iou(found.corners, truth) >= 0.95, found
    assert found.score >= docfind.CONFIDENT, found


def _page_on_a_folder(seed: int, size=(4000, 3000)) -> tuple[np.ndarray, np.ndarray]:
    # An A4 page on a red folder that is flush with it on three sides and sticks out 20 mm beyond its right side,
    # on a light desk, with a dark pen across its left side (so the refinement moves a corner and the answer is
    # grown once more from the refined sides, docfind._regrow).
    w, h = size
    rng = np.random.default_rng([seed, 99])
    ppm = 0.75 * h / 297
    page = imagegen._render_page(rng, "a4", 210, 297, ppm).astype(np.float32)
    ph, pw = page.shape[:2]
    desk = np.empty((h, w, 3), np.float32)
    desk[:] = (200, 200, 200)
    desk += rng.normal(0, 3, desk.shape)
    a = np.deg2rad(rng.uniform(-6, 6))
    turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    base = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
    corners = base @ turn.T + [w / 2, h / 2]
    folder = base.copy()
    folder[[1, 2], 0] += 20 * ppm
    folder[[0, 1], 1] -= 1
    folder[[2, 3], 1] += 1
    folder[[0, 3], 0] -= 1
    imagegen._paste(desk, np.full((8, 8, 3), (60, 50, 170), np.float32), folder @ turn.T + [w / 2, h / 2],
                    shadow_px=3, shadow_strength=0.3, rng=rng)
    imagegen._paste(desk, page, corners, shadow_px=1.5, shadow_strength=0.2, rng=rng)
    p0 = corners[0] + (corners[3] - corners[0]) * 0.15 + np.array([-60, 0]) * h / 1080
    p1 = corners[0] + (corners[3] - corners[0]) * 0.35 + np.array([90, 0]) * h / 1080
    cv2.line(desk, tuple(int(v) for v in p0), tuple(int(v) for v in p1), (25, 25, 30), max(3, int(9 * h / 1080)))
    return imagegen._camera(rng, desk, 0.6 * h / 1080, 0, 2.0, 90), imagegen.order_corners(corners)


def test_the_growth_from_the_refined_sides_does_not_take_a_folders_strip_beyond_the_page():
    # The growth from the refined sides (docfind._regrow) is for a card's band or a page's fold, a good part of the
    # answer; it took a folder's 20 mm strip beyond one side of a page (IoU 0.98 -> 0.91 at an unchanged 0.98).
    image, truth = _page_on_a_folder(1)
    found = docfind.detect(image)
    assert found is not None and imagegen.quad_iou(found.corners, truth) >= 0.95, found


def test_the_coarse_view_does_not_make_the_first_looks_answer_surer():
    # Tuning framed seed 2002 at 12 MP: the first look answers a printed frame inside the document (IoU 0.87) and
    # asks (0.72); the coarse view found the same quad and lifted it to 0.76, over CONFIDENT: confidently wrong.
    # Seen again coarsely, an answer is no surer than the first look made it (docfind._search).
    photo = imagegen.desk_photo(2002, "framed", (4000, 3000), "tune")
    found = docfind.detect(photo.image)
    assert found is not None
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.9 or found.score < docfind.CONFIDENT, found


@pytest.mark.parametrize("seed", [1012, 1023])
def test_a_quiet_region_inside_a_documents_plain_rim_gives_way_to_its_outline(monkeypatch, seed):
    # Tuning framed seeds 1012 (a banknote) and 1023 (an ID card) at 1080p with the desk made a gingham tablecloth
    # (imagegen's own, as the tablecloth condition draws it): the printed body ends a few mm inside a plain rim.
    # The check makes the desk busy, and the quiet region is the printed body: it outranked the document's outline
    # (flatter, so surer: 1023 0.79 against 0.65) though the outline is the better step (near-step score 0.99
    # against 0.92; 1012 1.00 against 0.95), and main's finder answered the body with a side on the print's edge:
    # 1012 IoU 0.88 (asked), 1023 IoU 0.87 at 0.79 (confidently wrong). A quiet region gives way to a
    # better-outlined candidate around it (docfind._outline_around): the document (asked, as without the quiet
    # regions).
    desk = imagegen._desk
    monkeypatch.setattr(imagegen, "_desk", lambda rng, h, w, scale, kind, split: desk(rng, h, w, scale, "tablecloth",
                                                                                          split))
    _finds_tuning_photo(seed, "framed", (1920, 1080), at_least=0.9)


def test_a_quiet_printed_block_does_not_replace_the_document_around_it():
    # Tuning framed seed 1097 at 1080p: an ID card on a fine-grained desk; the quiet region is the card's photo
    # block, a tenth of the card, a perfect step all round as the card's printed body around it is (near-step score
    # 1.00 both, in both views). Flatter, it outranked the card: main's finder answered the block, IoU 0.11 (asked,
    # 0.675), where without the quiet regions it answered the printed body (0.85, asked). An outline around it that
    # is as good a step is the document (docfind._outline_around).
    _finds_tuning_photo(1097, "framed", (1920, 1080), at_least=0.8)


def test_a_quiet_region_that_is_no_page_does_not_displace_the_page():
    # Tuning framed seed 1044 at 1080p: a form on a light wood desk, a lamp's light across the desk beside it. The
    # grain makes the desk busy, and a quiet region is the lit patch of desk at the photo's right edge: flat, it
    # outranked the page (0.95, asked at 0.44) though its own confidence is no page (0.26); the search's answer was
    # then no page, the amplified look's quiet winner was not crisp and dropped, and main's finder answered "no
    # page". A quiet region below NO_PAGE does not displace a page, and in the amplified look one that is not crisp
    # is not looked at (docfind._search).
    _finds_tuning_photo(1044, "framed", (1920, 1080), at_least=0.9)


def test_a_quiet_region_inside_a_wide_plain_rim_leaves_the_document(monkeypatch):
    # Tuning framed seed 1034 at 1080p with the desk made a gingham tablecloth (as in the test above): an ID card with
    # a wide plain rim. The answer before the quiet regions was the card (0.99, asked at 0.36); the quiet region inside
    # it is the card's printed body, flatter, and replaced it (capped below CONFIDENT: 0.82 at 0.675, asked and wrong);
    # the card's outline is no step in the view as it is where the white checks meet its white rim, so
    # docfind._outline_around did not take it back. The band between the answer and the quiet region is 10 px wide
    # and unlike the check beyond the card (0.29 log colour): paper, a rim, and the answer stands
    # (docfind._rim_between).
    desk = imagegen._desk
    monkeypatch.setattr(imagegen, "_desk", lambda rng, h, w, scale, kind, split: desk(rng, h, w, scale, "tablecloth",
                                                                                          split))
    _finds_tuning_photo(1034, "framed", (1920, 1080), at_least=0.95)


def test_a_page_full_of_print_outlined_all_round_is_asked_not_missing():
    # Tuning framed seed 1048 at 1080p: a narrow note on a pale plain desk, a thin pale rim round a blue print that
    # fills it. Its outline is a perfect step all round (near-step score 1.00, wide check 1.00 on every side) and the
    # corners were right (IoU 0.97), but the ring inside its sides is print, not flat (0.24 of FLAT_PAPER's 0.8), so
    # its confidence was 0.295, just under NO_PAGE, and main's finder answered "no page". Print is ink on paper: the
    # rim just inside the outline, paler than the print within, says paper, and the answer is kept, asked
    # (docfind._printed_page). Refined at full resolution its long sides were moved 14-18 px inward, across the
    # pale rim onto the print's far stronger edge (IoU 0.900); measured against the paper/desk step next to the side
    # found, the rim's edge is kept (IoU 0.986).
    photo = imagegen.desk_photo(1048, "framed", (1920, 1080), "tune")
    found = docfind.detect(photo.image)
    assert found is not None and imagegen.quad_iou(found.corners, photo.corners) >= 0.95, found
    assert docfind.NO_PAGE <= found.score < docfind.CONFIDENT


@pytest.mark.parametrize("seed", [1010, 1015])
def test_a_keyboard_outlined_as_well_as_a_page_is_still_no_page(seed):
    # The bench's "none" photos (document_photo, seeds 1010 and 1015 at 1080p): an empty desk with a keyboard whose
    # outline is as perfect a step all round as the note's above (near-step 1.00) and whose inside is as busy (its
    # keys; confidence 0.28 and 0.18). Its bezel is darker than its keys, no paper rim, and the answer stays "no page".
    photo = imagegen.document_photo(seed, "none", (1920, 1080))
    assert docfind.detect(photo.image) is None


# --- issue 17, an object over an edge (2026-12-06, branch finder-occl) ------------------------------------


def test_a_card_whose_band_side_is_under_a_hand_is_found_with_its_band():
    # Tuning occluder seed 1043 at 1080p: an ID card on a pink cloth, a hand's fingers over its right side where the
    # olive band meets the pale body. The growth step took the band's strip but for the wide check on its right side
    # (0.69 of it a step, under GROW_WIDE): the fingers lie over the rest. Where a side's samples without a step have
    # an inside that is neither the paper nor the desk seen along the rest of it, they are hidden, and the share is
    # taken over what can be seen (docfind._hidden_wide). Main: the body without its band (IoU 0.76, asked).
    _finds_tuning_photo(1043, "occluder", (1920, 1080), at_least=0.97)


def test_a_striped_cloth_without_an_object_grows_no_strip_by_hidden_samples(monkeypatch):
    # The review of finder-occl: tune:motion/1121 at 1000x750, a receipt on a fine stripe, motion blur, no hand, pen or
    # phone. In the amplified look _hidden_wide counted the samples of a strip's side that see the cloth's other stripe
    # colour (neither the median "paper" nor "desk") as hidden by an object, every few samples, and _grow took a wedge
    # (IoU 0.952 -> 0.709; the plain wide check: 0.834). An object covers one stretch of a side: only the longest run
    # of such samples is hidden. With no object in the photo, every _grow result equals the plain wide check's.
    photo = imagegen.desk_photo(1121, "motion", (1000, 750), "tune")
    grow, hidden = docfind._grow, docfind._hidden_wide
    differ = []

    def plain(feat, strip):
        return float(docfind._wide_support(feat, strip[None, :, 0], strip[None, :, 1])[0, :3].min())

    def both(feat, calm, quad, gradient=None):
        new = grow(feat, calm, quad, gradient)
        monkeypatch.setattr(docfind, "_hidden_wide", plain)
        old = grow(feat, calm, quad, gradient)
        monkeypatch.setattr(docfind, "_hidden_wide", hidden)
        if not np.allclose(new, old):
            sc = docfind.WORK_SIDE / max(photo.image.shape[:2])
            truth = (photo.corners + 0.5) * sc - 0.5
            differ.append(tuple(imagegen.quad_iou(q, truth) for q in (quad, new, old)))
        return new

    monkeypatch.setattr(docfind, "_grow", both)
    docfind.detect(photo.image)
    assert not differ, f"(IoU in, after _hidden_wide, after the plain check): {differ}"


def test_a_wedge_of_desk_beside_a_page_under_a_hand_is_not_taken_for_its_band():
    # Tuning occluder seed 1059 at 1080p: a page on diagonal wooden planks, a hand over its left side. The page was
    # the winner, but a quad around it whose top side is a plank's seam (a wedge of wood beyond the page's top side)
    # was nearly as well outlined, and _outermost took it (IoU 0.84, asked). What it adds is the desk's colour
    # (docfind._desk_between): it is no band nor a shaded part of the page.
    _finds_tuning_photo(1059, "occluder", (1920, 1080), at_least=0.95)


def test_a_pale_page_whose_edge_is_a_dark_rim_is_found_by_the_amplified_look():
    # Tuning motion seed 1027 at 1280x720: a pale page on a light green desk of nearly its colour, motion-blurred.
    # Its edge shows as a thin shadow deeper than the step from desk to paper, so within 3 px of each side the change
    # overshoots the desk-to-paper change (share 1.3-1.6, over _crisp's 1.5): the amplified look found the page
    # (IoU 0.96) but took its sides for no steps, and main's finder answered "no page". A faint step with a dark rim
    # on the desk's side, flat desk beyond and flat paper inside, is a step (docfind._rimmed).
    _finds_tuning_photo(1027, "motion", (1280, 720), at_least=0.95)


def test_a_blotch_with_a_dark_rim_on_an_empty_desk_is_still_no_page():
    # The rim rule above counts a side only where the desk beyond and the paper inside are flat: the bench's empty
    # desks (document_photo "none", 1280x720; of seeds 1000-1039 every answer is main's, these are "no page") stay so.
    for seed in (1000, 1002, 1004, 1005, 1007, 1008, 1009):
        photo = imagegen.document_photo(seed, "none", (1280, 720))
        assert docfind.detect(photo.image) is None, seed


def test_a_page_with_a_printed_frame_on_a_gingham_under_blur_is_found_by_its_paper_edge():
    # Tuning motion seed 1055 at 1080p: a pink page with a mauve frame printed a few mm inside its edge, on a light
    # and dark cyan gingham, motion-blurred. The answer is the frame's inner edge (IoU 0.855, asked): the page's edge
    # steps both ways against the two stripes in the sum over channels (only in red is the paper brighter than both),
    # and the blur widens the frame's steps past _beyond's narrow step. At 1280x720 it is found (0.99).
    # finder-region: the page's region off the gingham's colours is a candidate outlined all round around the frame's
    # inside (docfind._cloth_around): IoU 0.97, asked.
    _finds_tuning_photo(1055, "motion", (1920, 1080), at_least=0.9)


def _carry_view(img: np.ndarray) -> np.ndarray:
    # The working view _carries_on reads: the texture-free view (9 px median, log colour) blurred 1 px.
    return cv2.GaussianBlur(np.log(cv2.medianBlur(img, 9).astype(np.float32) + 16.0), (0, 0), 1.0)


def _tilted_page() -> np.ndarray:
    # The corners (TL, TR, BR, BL) of a page 300x380 px tilted 8 degrees in the middle of a 640x480 view.
    return docfind.order_corners(cv2.boxPoints(((320, 240), (300, 380), 8)).astype(np.float32))


def _page_on_desk_view():
    # A white page (tilted 8 degrees) on an olive desk with a little noise, as the texture-free working view.
    rng = np.random.default_rng(7)
    img = np.clip(rng.normal(0, 3, (480, 640, 3)) + [110, 160, 170], 0, 255).astype(np.uint8)
    page = _tilted_page()
    cv2.fillConvexPoly(img, np.round(page).astype(np.int32), (235, 240, 238))
    return _carry_view(img), page


def test_an_answer_whose_neighbouring_sides_carry_on_past_it_is_part_of_a_page():
    # Tuning edge_glare seed 1010 at 12 MP: print under a lamp's reflection across the top of a page; a long row of
    # print makes a straight step across it, and main's finder answered the page below it at 0.93, confidently
    # (IoU 0.69). The page's two sides carry on past that row as the same step, paper on the same side: the answer
    # is part of a page, asked (docfind._carries_on). The whole page's sides end at its corners.
    feat, page = _page_on_desk_view()
    assert not docfind._carries_on(feat, page)
    part = page.copy()
    part[0] = page[0] + 0.4 * (page[3] - page[0])  # the top side moved 40 % down, across the page
    part[1] = page[1] + 0.4 * (page[2] - page[1])
    assert docfind._carries_on(feat, part)
    part = page.copy()
    part[1] = page[0] + 0.6 * (page[1] - page[0])  # the right side moved 40 % in: its neighbours carry on
    part[2] = page[3] + 0.6 * (page[2] - page[3])
    assert docfind._carries_on(feat, part)


def _shaded_page_view():
    # A white page (tilted 8 degrees) on a pale maple-coloured desk whose lower 35 % is shaded grey, darker than the
    # desk (a lamp's shade across it), as the texture-free working view; the page and its lit part.
    rng = np.random.default_rng(7)
    img = np.clip(rng.normal(0, 3, (480, 640, 3)) + [150, 195, 228], 0, 255).astype(np.uint8)
    page = _tilted_page()
    tl, tr, br, bl = page
    lit = np.array([tl, tr, tr + 0.65 * (br - tr), tl + 0.65 * (bl - tl)], np.float32)
    cv2.fillConvexPoly(img, np.round(page).astype(np.int32), (120, 122, 121))
    cv2.fillConvexPoly(img, np.round(lit).astype(np.int32), (240, 244, 242))
    return _carry_view(img), page, docfind.order_corners(lit)


def test_an_answer_ending_at_a_shade_across_the_page_is_part_of_a_page():
    # Tuning edge_glare seed 1023 at 12 MP: a page on pale maple, its lower fifth greyed under a lamp (its bottom side
    # in the reflection); main's finder answered the lit part, confidently (IoU 0.84 at 0.98). Past the shade's edge
    # the page's sides go on as steps with the same paper inside, but the shaded paper is darker than the desk where
    # the lit paper was lighter: the step flips, so the same-step test of _carries_on did not see it. Either way,
    # with the paper's colour inside and the desk's outside: asked. The whole page's sides end at its corners.
    feat, page, lit = _shaded_page_view()
    assert docfind._carries_on(feat, lit)
    assert not docfind._carries_on(feat, page)
    # A desk of the paper's own colour (grey granite) steps either way along any line: no evidence there.
    feat, page = _page_on_grey_view()
    assert not docfind._carries_on(feat, page)


def _page_on_grey_view():
    # A pale grey page on a speckled grey desk (granite: the paper's colour, grains stepping either way).
    rng = np.random.default_rng(3)
    img = np.clip(rng.normal(0, 40, (480, 640, 1)) + [100, 100, 100], 0, 255).astype(np.uint8)
    img = cv2.resize(cv2.resize(img, (160, 120), interpolation=cv2.INTER_AREA), (640, 480),
                     interpolation=cv2.INTER_NEAREST)
    page = _tilted_page()
    cv2.fillConvexPoly(img, np.round(page).astype(np.int32), (225, 228, 226))
    return _carry_view(img), page


def _card_with_band_view(glare: bool, panel: bool = False, printed: bool = False, with_image: bool = False):
    # A light card with a dark band across its lower quarter (darker than the mid-grey desk, the body lighter than
    # it), tilted 8 degrees, optionally a lamp's reflection (blown out) over the band's far right end, or a blown-out
    # white panel inside the body near the same corner (over-exposed paper, no reflection), or a row of bold print
    # along the band 6-12 px beyond the body, over its left half (the card's number printed on the band).
    rng = np.random.default_rng(7)
    img = np.clip(rng.normal(0, 3, (480, 640, 3)) + [120, 120, 120], 0, 255).astype(np.uint8)
    card = docfind.order_corners(cv2.boxPoints(((320, 240), (300, 190), 8)).astype(np.float32))
    tl, tr, br, bl = card
    body = np.array([tl, tr, tr + 0.75 * (br - tr), tl + 0.75 * (bl - tl)], np.float32)
    cv2.fillConvexPoly(img, np.round(card).astype(np.int32), (40, 40, 90))
    cv2.fillConvexPoly(img, np.round(body).astype(np.int32), (235, 225, 230))
    if glare:
        cv2.circle(img, (int(br[0]), int(br[1])), 25, (255, 255, 255), -1)
    if panel:
        c = body[2] + 0.25 * (body[0] - body[2])
        cv2.circle(img, (int(c[0]), int(c[1])), 20, (255, 255, 255), -1)
    if printed:  # letters 6 px wide, 4 px apart, from 6 to 12 px beyond the body's lower side (the band's side)
        a, b = body[3], body[2]
        along = (b - a) / np.linalg.norm(b - a)
        down = np.array([-along[1], along[0]])
        down = down if (bl - tl) @ down > 0 else -down  # out of the body, into the band
        for t in np.arange(0.05, 0.5, 10 / np.linalg.norm(b - a)):
            p = a + t * (b - a)
            letter = [p + 6 * down, p + 6 * along + 6 * down, p + 6 * along + 12 * down, p + 12 * down]
            cv2.fillConvexPoly(img, np.round(np.array(letter)).astype(np.int32), (230, 230, 230))
    feat = _carry_view(img)
    body = docfind.order_corners(body)
    if with_image:  # (the photo too, for the steps that read it: _band_edge)
        return feat, docfind._reflection_distance(img, body), card, body, img
    return feat, docfind._reflection_distance(img, body), card, body


def test_a_card_cut_at_its_band_under_a_reflection_is_part_of_a_page():
    # Tuning edge_glare seeds 1007, 1008, 1037 at 1080p (and 1007, 1008 at 1000x750): an ID card's body found
    # without its band, confidently (IoU 0.69-0.77 at 0.77-0.90). Past the body's corner the card's side goes on as
    # the band's edge, stepping the other way (the band darker than the desk, the body lighter); the band's other
    # edge lies under a lamp's reflection, so the growth step did not take it and _carries_on (both sides the same
    # step) did not see it. One neighbour going on, seen, with the other corner in reach of a reflection: asked.
    feat, glare, card, body = _card_with_band_view(glare=True)
    assert docfind._carries_on(feat, body, glare)
    assert not docfind._carries_on(feat, card, glare)
    # Without a reflection the band's other edge is seen: the growth step's business, not this rule's.
    feat, glare, card, body = _card_with_band_view(glare=False)
    assert glare is None and not docfind._carries_on(feat, body, glare)
    # Blown out inside the answer is paper (a form's over-exposed white panel), no reflection hiding the band.
    feat, glare, card, body = _card_with_band_view(glare=False, panel=True)
    assert glare is None and not docfind._carries_on(feat, body, glare)


def test_a_card_cut_at_its_band_with_print_on_the_band_under_a_reflection_is_part_of_a_page():
    # Tuning tune2:edge_glare/1013 at 12 MP (fresh seed, branch finder-glare3): an ID card's body found without its
    # band, confidently (IoU 0.75 at 0.90). The band carries a row of the card's print along its far half: 8 px beyond
    # the body the line _carries_on samples for the band crosses the letters (steps along 43 % of it), 4 px beyond
    # it is plain band. The band is seen on one line, plain and of its colour: enough (docfind._band_along).
    feat, glare, card, body = _card_with_band_view(glare=True, printed=True)
    assert docfind._carries_on(feat, body, glare)  # main: False
    assert not docfind._carries_on(feat, card, glare)
    feat, glare, card, body = _card_with_band_view(glare=False, printed=True)
    assert glare is None and not docfind._carries_on(feat, body, glare)


def test_a_card_found_without_its_band_is_moved_out_to_the_bands_far_edge_where_it_is_seen():
    # Tuning edge_glare at 12 MP (branch finder-band): tune2 1013, tune3 1025, tune 1027, 1028, 1035 (and 1037 at
    # 1080p): an ID card's body found without its colour band, asked (IoU 0.69-0.77). Beyond the body's side a plain
    # strip of the band's colour runs between the neighbours' extensions to a step parallel to the side, about 0.28
    # of the neighbours' length out; the reflection washes the far end out, so the step is read where it is seen and
    # the corner under the reflection follows the line (docfind._band_edge).
    for glare in (True, False):
        feat, _, card, body, img = _card_with_band_view(glare=glare, printed=True, with_image=True)
        moved = docfind._band_edge(feat, img, body)  # main: no such step
        assert moved is not None and np.abs(docfind.order_corners(moved[0]) - card).max() < 4, moved
        assert moved[1] < 1.0 if glare else moved[1] == 1.0  # the share of the far edge seen
        # The whole card has the desk beyond every side: nothing to move.
        assert docfind._band_edge(feat, img, card) is None


def test_a_card_found_without_its_band_under_a_reflection_is_found_with_it():
    # Tuning edge_glare/1037 at 1080p: the card's body found without its band, the band's far end under the lamp's
    # reflection (main: 0.771, asked). The band's far edge is seen along most of it: the side moved out there.
    found = _finds_tuning_photo(1037, "edge_glare", (1920, 1080), 0.95)
    assert found.score < docfind.CONFIDENT  # (asked still: the far edge's end is under the reflection)


def test_a_card_cut_at_its_band_under_a_reflection_is_asked():
    photo = imagegen.desk_photo(1007, "edge_glare", DESK_SIZE, "tune")
    found = docfind.detect(photo.image)
    assert found is not None
    assert found.score < docfind.CONFIDENT or imagegen.quad_iou(found.corners, photo.corners) >= 0.9, found


def _working_view(image: np.ndarray, quad: np.ndarray):
    # The photo and a quad in it at the finder's working size (WORK_SIDE px on the long side).
    h, w = image.shape[:2]
    scale = docfind.WORK_SIDE / max(h, w)
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return small, (np.asarray(quad, np.float64) + 0.5) * scale - 0.5


@pytest.mark.parametrize("seed,size,split", [(1022, (1280, 720), "tune2"), (1017, (1920, 1080), "tune")])
def test_a_side_on_a_reflections_outer_rim_is_asked(seed, size, split):
    # tune2:edge_glare/1022 at 1280x720: a lamp's reflection blows out a page's short side and the paper next to it;
    # its glow fades over the desk beyond, and the fade's end was taken for the side (main: 0.795 at 0.91, confidently
    # wrong). A ramp with a blown-out patch just inside it and none outside is a reflection's rim (docfind._glow_side):
    # asked. tune:edge_glare/1017 at 1080p (a receipt's end, asked on main for another reason) is the same fault.
    photo = imagegen.desk_photo(seed, "edge_glare", size, split)
    found = docfind.detect(photo.image)
    assert found is not None
    assert found.score < docfind.CONFIDENT or imagegen.quad_iou(found.corners, photo.corners) >= 0.9, found
    small, answer = _working_view(photo.image, found.corners)
    assert docfind._glow_side(small, answer)
    # the true page's side under the glow is blown out on both sides of it: no rim
    small, truth = _working_view(photo.image, photo.corners)
    assert not docfind._glow_side(small, truth)


@pytest.mark.parametrize("seed,condition,split", [(1121, "curled", "tune2"), (1114, "defocus", "tune2")])
def test_a_pages_own_soft_edge_beside_a_glare_is_no_reflections_rim(seed, condition, split):
    # Fresh tuning seeds at 1920x1080 (finder-glow): a glare's blown-out patch just inside a side that is no crisp step
    # -- a curled page's side (tune2:curled/1121, a straight line along a curved edge) and a defocused page's
    # (tune2:defocus/1114). finder-glare3's _glow_side took them for a reflection's outer rim and asked about right
    # answers (0.997 and 0.990, score 0.675). Beyond a page's edge the desk is reached within a few px; a
    # reflection's glow fades over 10 px and more (docfind._glow_beyond): confident again.
    found = _finds_tuning_photo(seed, condition, (1920, 1080), at_least=0.98, split=split)
    assert found.score >= docfind.CONFIDENT, found


# --- the review of finder-conf2: a stripe's edge along a side's extension is no band -----------------------------


def test_edge_glare_1043_at_1080p_stays_right_and_confident():
    # Tuning edge_glare/1043 at 1080p (not among the photos finder-conf2 measured): right and confident before it
    # (IoU 0.966 at 0.81); its flipped-step branch of _carries_on capped it (0.675): a desk line along a side's
    # extension, stepping the other way, with a blown-out patch near the other corner. Beyond the side there must be
    # the band itself (its colour, no step along the side), not the desk's stripes.
    found = _finds_tuning_photo(1043, "edge_glare", (1920, 1080), at_least=0.9)
    assert found.score >= docfind.CONFIDENT, found.score


# A plain light page on a desk cloth with stripes parallel to its sides (15 px, dark / light) and a white object on the
# desk just beyond one corner: each side's extension runs along a stripe's edge, half the time stepping the other way.
# Nothing is beyond the page. Before finder-conf2: IoU 0.976 at 1.00; its flipped branch capped it at 0.675.
def _striped_desk_page(phase: int, blob: int):
    rng = np.random.default_rng(7)
    img = np.clip(rng.normal(0, 3, (480, 640, 3)) + 120, 0, 255).astype(np.uint8)
    stripe = ((np.arange(640) + phase) // 15) % 2 == 1  # 30 px period, vertical stripes
    img[:, stripe] = np.clip(img[:, stripe].astype(int) - 40, 0, 255).astype(np.uint8)
    page = np.array([[170, 140], [470, 140], [470, 340], [170, 340]], np.float32)
    cv2.fillConvexPoly(img, page.astype(np.int32), (230, 228, 225))
    c = page[blob]
    out = (c - page.mean(0)) / np.linalg.norm(c - page.mean(0))
    p = c + out * 35  # a white mug / lamp's reflection on the desk, 35 px beyond the corner, outside the page
    cv2.circle(img, (int(p[0]), int(p[1])), 18, (255, 255, 255), -1)
    return img, page


@pytest.mark.parametrize("phase,blob", [(0, 1), (6, 3)])
def test_a_page_on_stripes_beside_a_white_object_stays_confident(phase, blob):
    img, page = _striped_desk_page(phase, blob)
    found = docfind.detect(img)
    assert found is not None
    assert imagegen.quad_iou(found.corners, page) >= 0.9
    # expected: confident as before the merge (1.00); main: 0.675 (asked) from the flipped branch of _carries_on
    assert found.score >= docfind.CONFIDENT, found.score


@pytest.mark.parametrize("phase,blob", [(0, 1), (6, 3)])
def test_carries_on_does_not_take_a_stripe_edge_for_a_band(phase, blob):
    img, page = _striped_desk_page(phase, blob)
    feat = _carry_view(img)
    # the true page: no side of it is cut off; expected False, main True
    assert not docfind._carries_on(feat, page, docfind._reflection_distance(img, page))


def test_a_frame_printed_inside_a_motion_blurred_page_is_not_taken_for_its_edge():
    # tune2 motion seed 1034 at 1280x720: a white page on a plain teal desk with a thin frame printed a few mm
    # inside its edge. At working size, blurred, the frame's step and the page's edge merge into one plateau and
    # _beyond finds no line beyond the answer: main's finder answered the frame, IoU 0.853 at 0.90 (confidently
    # wrong). Beyond three of its sides the paper's colour goes on for a band, then steps to a flat desk
    # (docfind._paper_beyond): the page is the answer, asked.
    found = _finds_tuning_photo(1034, "motion", (1280, 720), at_least=0.9, split="tune2")
    assert found.score < docfind.CONFIDENT, found.score


def test_paper_beyond_finds_no_paper_beyond_a_page_found_right():
    # A drawn white page on a plain grey desk, its answer the true outline: the desk lies right beyond every side.
    img = np.full((720, 1280, 3), 110, np.uint8)
    page = np.array([[400, 150], [850, 190], [820, 600], [380, 570]], np.float64)
    cv2.fillConvexPoly(img, page.astype(np.int32), (235, 235, 230))
    small = cv2.resize(img, (640, 360), interpolation=cv2.INTER_AREA)
    assert docfind._paper_rim(small, (page + 0.5) / 2 - 0.5) is None


def test_a_receipt_under_a_pen_is_refined_onto_its_edge_not_its_printed_frame():
    # tune3 occluder seed 1003: a white receipt with a dark frame printed inside its edge, on a pale pink desk, a pen
    # over its top. The search finds its outline; at full resolution _fit_side took the step's colour from the inside
    # quarter of its reach, the navy frame: white against pink projects negatively on it, so the paper's edge was no
    # rise and the sides went onto the frame (main: IoU 0.893, confidently wrong at 1080p, asked at 720p). The step
    # next to the side found sets the direction where the two disagree (docfind._near_direction).
    _finds_tuning_photo(1003, "occluder", (1280, 720), at_least=0.97, split="tune3")

def test_a_page_above_a_grey_sheet_across_a_strip_of_desk_stays_confident():
    # Review of finder-glare: a white page on a pale desk, a grey sheet of its width squared to it beyond its bottom
    # side across 12 px of desk (a grey folder, a black A4 notebook). Both neighbours go on past the bottom corners as
    # a flipped step with a neutral colour inside and the desk's outside, as past a shade's edge; but just beyond the
    # side is the desk, not the page's shaded part: _carries_either's evidence needs that part to touch the side.
    rng = np.random.default_rng(0)
    W, H = 1280, 720
    img = np.clip(rng.normal(0, 4, (H, W, 3)) + [140, 180, 215], 0, 255).astype(np.float32)
    pw, ph = 0.45 * H, 0.45 * H * 1.414
    R = cv2.getRotationMatrix2D((0, 0), 4, 1)[:, :2]

    def quad(x0, y0, x1, y1):
        pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
        return (pts @ R.T + [W / 2, H * 0.4]).astype(np.float32)

    page = quad(-pw / 2, -ph / 2, pw / 2, ph / 2)
    cv2.fillConvexPoly(img, np.round(quad(-pw / 2, ph / 2 + 12, pw / 2, ph + 12) * 16).astype(np.int32),
                       (90, 90, 90), cv2.LINE_AA, 4)
    cv2.fillConvexPoly(img, np.round(page * 16).astype(np.int32), (238, 240, 239), cv2.LINE_AA, 4)
    img = np.clip(cv2.GaussianBlur(img, (0, 0), 1.2) + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
    found = docfind.detect(img)
    assert found is not None and imagegen.quad_iou(found.corners, page) >= 0.95, found
    assert found.score >= docfind.CONFIDENT


@pytest.mark.parametrize("seed, condition, split, at_least", [
    (1103, "framed", "tune3", 0.97),  # a cream page with a magenta frame on a pale green knit: the knit steps 4 px out
    (1118, "plain", "tune3", 0.99),   # a pale pink card on a beige desk: its edge ramp within PAPER_ALIKE 1 px out
    (1126, "motion", "tune", 0.98),   # a plain page under motion blur: the answer on the inner start of the blur's ramp
])
def test_paper_rim_leaves_a_page_found_right_alone(seed, condition, split, at_least):
    # Review of finder-motion2, at 1000x750: main's finder found each right and sure (0.98-0.997 at 1.00); _paper_rim
    # took the first px of a ramp (a low-contrast edge, a blur) or a desk within PAPER_ALIKE of the paper for "paper
    # beyond", moved sides out and asked (0.68; 1118 also 0.997 -> 0.980). The step's middle must be where the rule
    # puts it: just before it the profile is within 0.3 of the way from the paper to the desk.
    found = _finds_tuning_photo(seed, condition, (1000, 750), at_least=at_least, split=split)
    assert found.score >= docfind.CONFIDENT, found.score


@pytest.mark.parametrize("shape", [(480, 640, 3), (37, 5, 3), (1000, 4), (8, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fast_folds_over_a_short_last_axis_give_numpys_values_to_the_bit(shape, dtype):
    """_csum / _cnorm / _fold stand in for numpy's reductions over a view's channels or a quad's four sides (20x
    faster). They must give the very same values, so that the finder's answers do not move by a bit: a numpy whose
    reduction adds in another order fails here rather than shifting answers unseen."""
    rng = np.random.default_rng(7)
    a = (rng.standard_normal(shape) * rng.uniform(0, 1e3, shape)).astype(dtype)
    assert np.array_equal(docfind._csum(a), a.sum(-1))
    assert docfind._csum(a).dtype == a.sum(-1).dtype
    assert np.array_equal(docfind._cnorm(a), np.linalg.norm(a, axis=-1))
    assert np.array_equal(docfind._fold(np.minimum, a), a.min(-1))
    assert np.array_equal(docfind._fold(np.maximum, a), a.max(-1))
    assert np.array_equal(docfind._fold(np.logical_and, a > 0), (a > 0).all(-1))
    assert np.array_equal(docfind._csum(a) / shape[-1], a.mean(-1))
    view = a[::-1, ...]  # not contiguous: the same
    assert np.array_equal(docfind._csum(view), view.sum(-1))


def test_a_mask_is_counted_as_its_sum():
    mask = (np.random.default_rng(3).random((480, 640)) > 0.7).astype(np.uint8)
    assert docfind._count(mask) == int(mask.sum())
    assert docfind._count(np.zeros((4, 4), np.uint8)) == 0


def test_a_pale_receipt_blurred_across_its_lower_side_is_found_not_missed():
    # tune3 motion seed 1119 at 1080p: a pale grey receipt with a navy frame printed inside it, on a pale pink desk,
    # under strong motion blur along its long sides. Only the amplified search finds it (IoU 0.94), and main's finder
    # dropped it as not crisp ("no page"): its top side lies at the photo's border (no evidence) and its lower side,
    # across the motion, is a ramp (0.65 of the change within 3 px). Within BLUR_REACH the change is a step and both
    # neighbouring sides are steps (docfind._blurred_steps): the page is found, asked.
    found = _finds_tuning_photo(1119, "motion", (1920, 1080), at_least=0.9, split="tune3")
    assert found.score < docfind.CONFIDENT, found.score


@pytest.mark.xfail(strict=True, reason="known: a receipt full of blurred print on a fine stripe (finder-scan12)")
def test_a_receipt_full_of_blurred_print_on_a_fine_stripe_is_found():
    # tune motion seed 1121 at 720p ("no page"; 1080p: IoU 0.42 at 0.32): a receipt on a fine red stripe, its short
    # sides along the stripes, its print smeared by the blur to its margins. No line at working size lies on its
    # sides; the coarse view's lines on them rank far below the stripes' (not kept); judged in the texture-free view
    # its outline is below MIN_SCORE; and its inside is less flat (0.33) than the striped desk (0.47). The held-out
    # split's 12 MP "no page" under motion blur is of this kind (a receipt on a fine check); at 12 MP tune3
    # motion/1332 and tune2 motion/1055 are asked and wrong at 0.35-0.38 (docs/scanner.md, finder-scan12).
    _finds_tuning_photo(1121, "motion", (1280, 720), at_least=0.9)


@pytest.mark.parametrize("seed", [1186, pytest.param(1855, marks=pytest.mark.xfail(
    strict=True, reason="known: the region's hull off by a side's blur, flatness sinks it (finder-region)"))])
def test_a_blurred_receipt_on_a_cloth_whose_outline_is_a_clear_step_is_found(seed):
    # tune2 motion at 720p, receipts full of blurred print on a fine cloth (1186: 0.16 at 0.48; 1855, houndstooth:
    # 0.28 at 0.58, asked and wrong). The true outline is a step all round in both views (near-step 0.87 and 1.0,
    # every side's wide check 1.0), but no searched candidate lies within IoU 0.9 of it: the answer is a part of the
    # receipt between rows of print, or a piece of the cloth. Even as a candidate its inside (0.38, 0.23 flat) would
    # rank below the answer's (docs/scanner.md, finder-blurprint).
    _finds_tuning_photo(seed, "motion", (1280, 720), at_least=0.9, split="tune2")
    # finder-region: the receipt's region off the cloth's colour line (``_cloth_regions``) gives a candidate on its
    # outline (1186: IoU 0.96, a step all round) and the answer inside it, unsure, gives way to it (``_cloth_around``):
    # asked, right. 1855's region candidates reach 0.88 only (its hull's sides a blur's width off) and stay below.


@pytest.mark.parametrize("split, seed", [("tune2", 1462), ("tune3", 1461), ("tune3", 1615), ("tune3", 1904)])
def test_a_blurred_receipt_on_a_cloth_is_found_as_a_region_off_the_cloths_colours(split, seed):
    # Receipts full of blurred print on a striped, checked or mottled cloth under motion blur, at 720p (main: IoU 0.86,
    # 0.70, 0.70, 0.88, all asked and wrong): no outline search has a candidate on their sides. Averaged over a window
    # wider than the cloth's period, the cloth's colours lie along one line in Lab and the receipt off it; the region
    # off it, polished, is a candidate outlined all round that wins (docfind._cloth_regions, finder-region).
    _finds_tuning_photo(seed, "motion", (1280, 720), at_least=0.9, split=split)


def test_a_receipt_on_a_check_is_not_refined_onto_the_next_checks_line():
    # tune motion seed 1134 at 1080p: a receipt on a fine brown check under motion blur, found at working size (IoU
    # 0.98, every side a step); the refinement at full size took its long sides out onto the next check's lines
    # (IoU 0.89 on this branch's answer, 0.91 on main's; near-step 0.98 -> 0.43). An unsure answer so outlined keeps
    # its sides when the refinement loses most of its step (docfind._refined_off).
    found = _finds_tuning_photo(1134, "motion", (1920, 1080), at_least=0.95)
    assert found.score < docfind.CONFIDENT, found.score


def _page_under_reflection():
    # A white page (tilted 8 degrees) on an olive desk, a lamp's reflection (blown out, soft rim) over its bottom side
    # and the desk below it, and a dark row of print across the page 40 % down (to its margins): the working photo,
    # its texture-free view, the page and the part above the row.
    rng = np.random.default_rng(7)
    img = np.clip(rng.normal(0, 3, (480, 640, 3)) + [110, 160, 170], 0, 255).astype(np.float32)
    page = _tilted_page()
    tl, tr, br, bl = page
    cv2.fillConvexPoly(img, np.round(page).astype(np.int32), (235, 240, 238))
    row = [tl + 0.4 * (bl - tl), tr + 0.4 * (br - tr)]
    inset = 0.08 * (row[1] - row[0])  # print ends in the page's margins
    cv2.line(img, tuple(np.round(row[0] + inset).astype(int)), tuple(np.round(row[1] - inset).astype(int)),
             (60, 40, 40), 12)
    lamp = np.zeros((480, 640), np.float32)
    mid = (br + bl) / 2
    cv2.ellipse(lamp, (int(mid[0]), int(mid[1])), (190, 70), 8, 0, 360, 1.0, -1)
    lamp = np.clip(cv2.GaussianBlur(lamp, (0, 0), 12) * 2.5, 0, 1)[..., None]
    img = np.clip(img + (330 - img) * lamp, 0, 255).astype(np.uint8)
    part = docfind.order_corners(np.array([tl, tr, row[1] - 6 * (br - tr) / 380, row[0] - 6 * (bl - tl) / 380]))
    return img, _carry_view(img), page, part


def test_an_answer_ending_at_a_row_of_print_grows_along_its_sides_into_the_reflection():
    # Tuning edge_glare tune:1010, tune2:1002, tune3:1003 at 12 MP, tune2:1004 and 1018 at 1280x720: a row of print
    # (or the reflection's rim) across the page ended the answer (IoU 0.42-0.72, asked), the page's part beyond it lies
    # under a lamp's reflection, whose far side no step outlines. Both sides carry on past the row (_carries_on) to
    # the page's corners or into the reflection: followed to their ends, the page (docfind._follow_on).
    img, feat, page, part = _page_under_reflection()
    assert docfind._carries_on(feat, part)
    grown = docfind._follow_on(feat, img, part)
    assert grown is not None and imagegen.quad_iou(grown, page) >= 0.95, grown
    # The whole page: its sides end at its corners, nothing to follow.
    assert docfind._follow_on(feat, img, page) is None


@pytest.mark.parametrize("seed", [1004, 1018])
def test_edge_glare_cut_at_a_row_under_a_reflection_finds_the_page(seed):
    # tune2:edge_glare/1004 and /1018 at 1280x720: main's finder answered the part above a row of print, 0.72 / 0.59,
    # asked; followed along its sides into the reflection, the page (asked still: the reflection hides its end).
    _finds_tuning_photo(seed, "edge_glare", (1280, 720), at_least=0.95, split="tune2")


def _page_on_longer_sheet(angle: float, seed: int = 0):
    # A white page 400x500 px on a slightly darker white sheet of the same width, 150 px longer (their left and right
    # sides line up: a page on a pad, a letter on its envelope/folder), on a grey-blue desk, 1280x720, no reflection.
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(0, 3, (720, 1280, 3)) + (90, 110, 130), 0, 255).astype(np.float32)
    th = np.deg2rad(angle)
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    c = np.array([640.0, 330.0])
    page = np.array([[-200, -250], [200, -250], [200, 250], [-200, 250]]) @ rot.T + c
    sheet = np.array([[-200, -250], [200, -250], [200, 400], [-200, 400]]) @ rot.T + c
    cv2.fillConvexPoly(img, np.round(sheet).astype(np.int32), (228, 232, 230))
    cv2.fillConvexPoly(img, np.round(page).astype(np.int32), (245, 247, 246))
    img = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    return img, page


@pytest.mark.parametrize("angle", [0, 5, -7])
def test_a_page_on_a_same_coloured_sheet_sharing_two_sides_is_not_grown_onto_the_sheet(angle):
    # Review of finder-glare2. main: IoU 0.993-0.996 at 0.68 (asked but right; _carries_on caps it: the sheet's
    # sides go on past the page's bottom corners). finder-glare2: _follow_on followed those sides to the sheet's end
    # and took the sheet's strip (paper-coloured, within WIDE_STEP) though nothing is blown out: 0.77-0.80, asked and
    # wrong. Fix: FOLLOW_GLARE of the strip taken in must be blown out.
    img, page = _page_on_longer_sheet(angle)
    found = docfind.detect(img)
    assert found is not None
    assert imagegen.quad_iou(found.corners, page) >= 0.9, imagegen.quad_iou(found.corners, page)


def _lit_band(seed: int, size: tuple[int, int], ramp: float) -> np.ndarray:
    """An empty pale desk with a lit band (a window's light through a gap): its long sides are crisp steps (+14
    grey levels), its ends fade out linearly over ``ramp`` working px (tens of px: a ramp, no blurred step)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y = np.arange(h, dtype=np.float32)[:, None]
    x = np.arange(w, dtype=np.float32)[None, :]
    band = ((x >= 0.33 * w) & (x < 0.6 * w)).astype(np.float32)
    r = ramp * w / docfind.WORK_SIDE
    fade = np.clip((y - 0.12 * h) / r, 0, 1) * np.clip((0.88 * h - y) / r, 0, 1)
    img = (196 + 14 * band * fade)[..., None] * np.array([1.0, 0.97, 0.93]) + rng.normal(0, 2.0, (h, w, 3))
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 1.0)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("seed", "size", "ramp"), [(0, (1280, 720), 30), (0, (1280, 720), 40),
                                                    (1, (1280, 720), 40), (0, (1000, 750), 40)])
def test_a_lit_band_fading_out_on_an_empty_desk_is_no_page(seed, size, ramp):
    # Review of finder-scan12. main: None. finder-scan12: a page (1280x720 ramp 30: 0.91, over CONFIDENT; ramp 40:
    # 0.62-0.65, asked). The band's ends fade over 30-40 working px, yet _blurred_steps counts them: with the window
    # from 12 px outside to BLUR_REACH inside, any linear ramp has 12/18 = 0.67 >= CRISP of its change within
    # BLUR_REACH.
    found = docfind.detect(_lit_band(seed, size, ramp))
    assert found is None, (found.score, found.corners.round().tolist())


def test_a_side_in_a_wide_linear_ramp_is_no_blurred_step():
    # Review of finder-scan12. Working size: a band with crisp left/right sides; the quad's top and bottom sides lie in
    # the middle of 80 px linear ramps ("a blotch ... changes over tens of px", docs/scanner.md): not crisp (main:
    # False).
    h, w = 360, 640
    y = np.arange(h, dtype=np.float32)[:, None]
    x = np.arange(w, dtype=np.float32)[None, :]
    band = ((x >= 200) & (x < 400)).astype(np.float32)
    img = 180 + 30 * band * np.clip((y - 40) / 80, 0, 1) * np.clip((320 - y) / 80, 0, 1)
    img = np.repeat(img[..., None], 3, 2).astype(np.uint8)
    quad = np.array([[200, 80], [400, 80], [400, 280], [200, 280]], np.float32)
    assert not docfind._crisp(img, quad), docfind._side_sharpness(img, quad)


def test_an_empty_striped_desk_with_a_pen_across_a_stripe_is_still_no_page():
    # Review of finder-scan12. The bench's empty desks (document_photo "none"), seed 110 at 1000x750: green and grey
    # stripes, a pen lying across a grey stripe near the photo's bottom. main: None. finder-scan12: the stripe closed by
    # the pen, 0.34 (asked): two stripe edges are steps, the bottom is the photo's border, and the pen's side (0.09 of
    # its change within 3 px: the change is beside it, not a ramp about it) is counted as a blurred step.
    photo = imagegen.document_photo(110, "none", (1000, 750))
    found = docfind.detect(photo.image)
    assert found is None, (found.score, found.corners.round().tolist())


@pytest.mark.parametrize("shape", [(480, 640, 3), (481, 333, 3), (75, 40), (20, 20, 3)])
def test_the_median_in_two_halves_is_the_median(shape):
    # docfind._median runs the texture-free view's 9 px median as two halves on two threads (speed at 12 MP): the
    # rows either side of the cut must come out as one cv2.medianBlur gives them (no replicated border at the cut).
    image = np.random.default_rng(5).integers(0, 256, shape, dtype=np.uint8)
    assert np.array_equal(docfind._median(image, 9), cv2.medianBlur(image, 9))


def test_an_error_in_the_background_reaches_the_caller():
    result = docfind._in_background(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        result()
    assert docfind._in_background(max, 3, 7)() == 7


def test_a_side_taken_along_a_phone_over_it_moves_onto_the_pages_edge():
    # Tuning occluder seed 1126 at 1280x720: a page on a pink granite-like desk, a phone over its top side. The
    # phone's lower edge, long and straight, was taken for the top side (tilted across the page from its top-right
    # corner, a wedge of paper left out: main IoU 0.938 at 0.85). Where the phone lies over the edge it is on both
    # sides of the page's true side, neither paper nor desk: hidden; the rest of that line is paper inside and desk
    # outside all along, which the phone's edge is not (docfind._under_object; issue 17, finder-occl2).
    _finds_tuning_photo(1126, "occluder", (1280, 720), at_least=0.98)


def test_a_cards_side_taken_along_a_phone_over_it_moves_onto_the_cards_edge():
    # tune2 occluder seed 1129 at 1280x720: an ID card on a pink cloth, a phone over the middle of its bottom side
    # (half of it hidden). The phone's top edge, extended, was taken for the bottom side, tilted up across the card
    # (main: IoU 0.922). The paper colours are those just inside each side (the card's band and photo block lie along
    # one side each), so the card's body and its block are both paper.
    _finds_tuning_photo(1129, "occluder", (1280, 720), at_least=0.97, split="tune2")


def _overexposed_page_with_halo(size, halo_px, amp=60, seed=1, blur=0.0):
    # A white page, blown out nearly whole (an over-exposed phone photo), on a dark desk (70), tilted 6 degrees. The
    # camera's veiling glare brightens the desk next to the page, fading over ``halo_px`` px: every side of the page
    # is then a ramp (below CRISP) with blown-out paper 5 px inside and nothing blown out 2 px outside -- the pattern
    # of a reflection's outer rim (docfind._glow_side), though the side is the page's own edge.
    w, h = size
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(70, 4, (h, w, 3)), 0, 255).astype(np.uint8).astype(np.float32)
    quad = cv2.boxPoints(((w / 2, h / 2), (0.55 * w, 0.7 * h), 6)).astype(np.float32)
    page = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(page, np.round(quad).astype(np.int32), 1)
    img[page > 0] = 255
    dist = cv2.distanceTransform(1 - page, cv2.DIST_L2, 5)
    img += (amp * np.exp(-dist / halo_px))[..., None] * (page == 0)[..., None]
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    return np.clip(img, 0, 255).astype(np.uint8), docfind.order_corners(quad)


@pytest.mark.parametrize("size,halo_px,blur", [((1280, 720), 16, 0), ((1920, 1080), 30, 0), ((1000, 750), 12.5, 1.56)])
def test_an_overexposed_page_with_a_halo_found_right_stays_confident(size, halo_px, blur):
    # Review of finder-glare3: main finds these right and confident (0.964 at 0.997 at 720p, 0.943 at 0.965 at
    # 1080p, 0.934 at 1.0 at 1000x750 slightly defocused); _glow_side took the page's own sides for a reflection's
    # rim (0.675, asked). A page blown out over GLOW_PAPER of the answer is over-exposed paper, not a reflection.
    img, truth = _overexposed_page_with_halo(size, halo_px, blur=blur)
    found = docfind.detect(img)
    assert found is not None
    iou = imagegen.quad_iou(found.corners, truth)
    assert iou >= 0.9, (iou, found.score)
    assert found.score >= docfind.CONFIDENT, (iou, found.score)


def test_a_soft_shadows_dark_end_over_a_side_is_no_object():
    # Tuning soft_shadow seed 1005 at 1920x1080 (main: 0.999): a soft shadow's dark end over the bottom side is as
    # unlike the lit paper and desk as a phone, and a line tilted into it scored better than the side over what it
    # "hides" (finder-occl's _under_object: 0.930). The stretch's ends along that line are ramps, not an object's edge.
    _finds_tuning_photo(1005, "soft_shadow", (1920, 1080), at_least=0.99)


def test_an_objects_stretch_ends_in_steps_a_shadows_in_ramps():
    # docfind._object_ends on a composed line: grey paper, a dark stretch 40 px long across the line at x 100-140,
    # its ends crisp (an object) or ramps 24 px wide (a soft shadow).
    x = np.arange(240, dtype=np.float32)
    crisp = np.where((x >= 100) & (x < 140), 30.0, 200.0)
    ramp = 200.0 - 170.0 * np.clip(np.minimum(x - 88, 152 - x) / 24.0, 0, 1)
    for profile, is_object in ((crisp, True), (ramp, False)):
        image = np.repeat(np.broadcast_to(profile, (120, 240))[..., None], 3, axis=2).astype(np.uint8)
        pa, pb = np.array([20.0, 60.0]), np.array([220.0, 60.0])
        ends = docfind._object_ends(image, pa, pb, np.array([0.0, 1.0]), 80 / 200, 120 / 200)
        assert (ends.max(1).min() >= docfind.OBJECT_CRISP) == is_object, ends


def test_a_pale_card_on_a_pale_desk_keeps_its_side_by_a_finger():
    # Review of finder-occl2. tune3 occluder seed 1235 at 1280x720: a pale ID card (purple band and photo block) on a
    # pale mint desk, a finger over its bottom side. main: 0.984 at 1.00. The card's body colour, taken as paper from
    # just inside another side, is 0.07 (log colour) from the desk, so the desk itself counted as paper inside any line
    # out on it: _under_object tilted the bottom side out onto the desk (0.950 at 1.00). A colour just inside another
    # side that is the desk's is no evidence of paper.
    _finds_tuning_photo(1235, "occluder", (1280, 720), at_least=0.975, split="tune3")


def test_a_wrong_side_over_clutter_is_not_moved_further_out():
    # Review of finder-occl2. tune clutter seed 1128 at 1280x720: main takes the page with a paper beneath it (0.669,
    # asked). The same desk-as-paper colour let _under_object move that side further out across a keyboard-like
    # object (0.586, a corner outside the photo).
    photo = imagegen.desk_photo(1128, "clutter", (1280, 720))
    found = docfind.detect(photo.image)
    assert found is not None and imagegen.quad_iou(found.corners, photo.corners) >= 0.65, found


@pytest.mark.parametrize(("split", "cond", "seed", "at_least"), [
    # Review of finder-region. _refined_off reverted a refinement that followed a curled side (the area within 1 %,
    # not out onto a check's line): main 0.991 -> 0.923 (tune3 curled/1002), 0.996 -> 0.952 (tune curled/1004, via a
    # region); now only a refinement that took the answer REFINED_GROWN larger is reverted.
    ("tune3", "curled", 1002, 0.97),
    ("tune", "curled", 1004, 0.97),
    # _consider_cloth kept a lower-ranked region because an earlier region had a better near-step than the higher-ranked
    # one (the guard meant for the outline searches' answer applied between regions): 0.954 -> 0.888, asked and wrong.
    ("tune", "glare", 1001, 0.9),
])
def test_a_right_unsure_answer_is_not_made_worse_by_the_cloth_regions(split, cond, seed, at_least):
    _finds_tuning_photo(seed, cond, (1920, 1080), at_least=at_least, split=split)


def test_a_cloth_region_does_not_take_in_a_lamps_reflection_beside_a_page_on_wood():
    # Review of finder-region. tune glare/1102 at 720p: a page on wood, a lamp's reflection over its bottom side and
    # the desk below. main: 0.914 at 0.64 (asked, right). The region off the wood's colour line took the reflection in
    # (a side's wide check 0.69, over CLOTH_SIDES 0.5 then; now 0.75) and outranked the answer: 0.884 at 0.68.
    _finds_tuning_photo(1102, "glare", (1280, 720), at_least=0.9)


def test_a_cards_band_beside_a_phone_over_its_side_is_not_left_out_confidently():
    # Tuning occluder seed 1169 at 1920x1080: an ID card (dark green band) on pale wood, a phone over its left side
    # just below the band. The band is left out (the top side at the band's lower edge) and the left side runs along
    # the phone's right edge into the card's visible side below it: main IoU 0.778 at 0.98, confidently wrong.
    # `_grow` cannot take the band: the left side's extension, tilted by the phone, runs inside the band, not along
    # its edge; `_under_object` needs the page's edge seen at both ends of what the phone hides, and above the
    # phone it is the band's (outside the answer, neither paper nor desk). Right, or at least asked: one side with
    # neither paper nor desk outside it all along (the band) next to one outlined along less than half of it (the
    # phone beside it) makes the corner between them a guess (docfind._band_beside_object, finder-occl3).
    photo = imagegen.desk_photo(1169, "occluder", (1920, 1080), "tune")
    found = docfind.detect(photo.image)
    assert found is not None
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.95 or found.score < docfind.CONFIDENT, found


def test_a_cards_grey_band_beside_a_phone_over_its_side_is_taken():
    # tune2 occluder seed 1172 at 1920x1080: a lilac ID card with a grey band on maple, a phone over its right side
    # below the band. As seed 1169 of tune: the band left out, the right side along the phone's left edge (main IoU
    # 0.669 at 0.42, asked). The band's outer edge and its ends are seen: the card taken with it (docfind._band_across,
    # finder-occl4), still asked: 0.998.
    _finds_tuning_photo(1172, "occluder", (1920, 1080), at_least=0.95, split="tune2")


def test_a_cards_green_band_beside_a_phone_over_its_side_is_taken():
    # tune occluder seed 1169 at 1920x1080 (finder-occl3 asked it: 0.778 at 0.68). The band's outer edge stepping to
    # the wood and its run along that edge ending at the card's corners give the top side and both of its corners;
    # the left side through the near corner, parallel to the right side (docfind._band_across, finder-occl4): 0.992.
    _finds_tuning_photo(1169, "occluder", (1920, 1080), at_least=0.95)


def _band_object_view(strip=(3.8, 4.6, 3.9), strip_x=(200, 440), object_box=(95, 200, 150, 202)):
    """A composed texture-free view (log colour, 640x360): a page (x 200-440, y 100-260) on a desk, a strip of colour
    ``strip`` beyond its top side (y 50-100, x ``strip_x``) and a dark object (rows, columns ``object_box``) along the
    top part of its left side, outside it."""
    desk, paper = np.array([4.2, 5.2, 4.8], np.float32), np.array([5.5, 5.5, 5.5], np.float32)
    flat = np.broadcast_to(desk, (360, 640, 3)).copy()
    flat[100:260, 200:440] = paper
    flat[50:100, strip_x[0]:strip_x[1]] = strip
    y0, y1, x0, x1 = object_box
    flat[y0:y1, x0:x1] = (3.2, 3.2, 3.3)
    return flat


def test_the_card_is_taken_with_its_band_beside_an_object():
    # Composed texture-free view: a card (paper 100-260, band 50-100) on a desk, an object over the top part of its
    # left side; the answer left the band out and its left side tilted along the object's edge. docfind._band_across
    # takes the band's outer edge and its ends for the top side and puts the left side through the band's left end.
    flat = _band_object_view(object_box=(100, 200, 150, 230))
    quad = np.array([[230, 100], [440, 100], [440, 260], [200, 260]], np.float32)
    card = docfind._band_across(flat, quad)
    assert card is not None
    truth = np.array([[200, 50], [440, 50], [440, 260], [200, 260]], np.float32)
    assert np.abs(docfind.order_corners(card) - truth).max() < 3, card


@pytest.mark.parametrize(("strip", "asked"), [((3.8, 4.6, 3.9), True), ((3.7, 4.7, 4.3), False)])
def test_a_band_left_out_beside_an_object_is_asked_and_a_shadow_is_not(strip, asked):
    # Composed texture-free view (log colour): a page on a desk, a strip beyond its top side and a dark object along
    # the top half of its left side, outside it (its edge taken for the side). A strip of its own hue (a card's green
    # band) beside the object makes the corner a guess (docfind._band_beside_object, finder-occl3); the desk shaded
    # alike in all channels (a soft shadow along the side: tune soft_shadow/1002 at 1080p) does not.
    flat = _band_object_view(strip)
    quad = np.array([[200, 100], [440, 100], [440, 260], [200, 260]], np.float32)
    assert docfind._band_beside_object(flat, quad) is asked


def _page_book_phone(book=(150, 60, 20), desk=(120, 150, 185)):
    """1280x720: a white page on a plain desk, a book (wider than the page by 120 px each way) along its top side,
    a dark phone beside the top 60 % of its left side, outside it."""
    rng = np.random.default_rng(0)
    W, H = 1280, 720
    img = np.zeros((H, W, 3), np.float32) + np.array(desk, np.float32) + rng.normal(0, 4, (H, W, 3))
    x0, y0, x1, y1 = int(0.33 * W), int(0.28 * H), int(0.67 * W), int(0.85 * H)
    cv2.rectangle(img, (x0 - 120, y0 - 70), (x1 + 120, y0 - 1), book, -1)
    cv2.rectangle(img, (x0, y0), (x1, y1), (235, 238, 240), -1)
    cv2.rectangle(img, (x0 - 60, y0 - 5), (x0 - 1, y0 + int(0.6 * (y1 - y0))), (30, 30, 35), -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    img = np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    return img, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _book_and_phone_on(photo, s, book=(150, 60, 20), phone=(25, 25, 30)):
    """``photo`` with a book along side ``s`` of its page (30 % longer than the side each way, 18 % of the next side
    deep) and a phone beside 60 % of side s-1 from their shared corner, outside the page."""
    img = photo.image.copy()
    q = imagegen.order_corners(photo.corners).astype(np.float32)
    c = q.mean(0)
    a, b = q[s], q[(s + 1) % 4]
    n = np.array([-(b - a)[1], (b - a)[0]])
    n /= np.linalg.norm(n)
    n = -n if (c - a) @ n > 0 else n
    d, span = b - a, np.linalg.norm(q[(s + 2) % 4] - b)
    poly = np.array([a - 0.3 * d, b + 0.3 * d, b + 0.3 * d + n * 0.18 * span, a - 0.3 * d + n * 0.18 * span])
    cv2.fillPoly(img, [np.round(poly).astype(np.int32)], book, cv2.LINE_AA)
    p0, p1 = q[s], q[(s - 1) % 4]
    m = np.array([-(p1 - p0)[1], (p1 - p0)[0]])
    m /= np.linalg.norm(m)
    m = -m if (c - p0) @ m > 0 else m
    w, e = 0.09 * np.linalg.norm(p1 - p0) + 20, p0 + 0.6 * (p1 - p0)
    cv2.fillPoly(img, [np.round(np.array([p0, e, e + m * w, p0 + m * w])).astype(np.int32)], phone, cv2.LINE_AA)
    return img


@pytest.mark.parametrize("book", [(150, 60, 20), (40, 120, 40)])
def test_a_page_beside_a_book_with_a_phone_along_the_next_side_is_not_asked(book):
    # Review of finder-occl3: main IoU 0.992 at 1.00; the branch 0.992 at 0.68 (asked). The book is not a band left
    # out: it runs on past the page's top-right corner.
    img, truth = _page_book_phone(book)
    found = docfind.detect(img)
    assert found is not None
    assert imagegen.quad_iou(found.corners, truth) >= 0.95
    assert found.score >= docfind.CONFIDENT, found


@pytest.mark.parametrize(("seed", "side"), [(1000, 0), (1001, 0), (1001, 2)])
def test_a_tuning_page_beside_a_book_with_a_phone_along_the_next_side_is_not_asked(seed, side):
    # tune plain seeds at 1280x720 with a book along one side and a phone beside the next: main right and confident
    # (1000/0: 0.987 at 0.96; 1001/0: 0.990 at 1.00; 1001/2: 0.998 at 0.97); finder-occl3: the same IoU at 0.68.
    photo = imagegen.desk_photo(seed, "plain", (1280, 720), "tune")
    found = docfind.detect(_book_and_phone_on(photo, side))
    assert found is not None
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.95
    assert found.score >= docfind.CONFIDENT, found


def test_a_strip_running_on_past_the_far_corner_is_not_a_band():
    # The branch's own composed view (tests/devices/test_docfind.py), but the green strip beyond the top side runs on
    # 60 px past both of its corners (a book or a cloth's band, not a card's band): not asked.
    flat = _band_object_view(strip_x=(140, 500))
    quad = np.array([[200, 100], [440, 100], [440, 260], [200, 260]], np.float32)
    assert docfind._band_beside_object(flat, quad) is False


def _with_sheet(image, corners, a, b, off, grey=225):
    """``image`` with a pale sheet beyond the line a-b (full px), from ``off`` full px outside it (away from the
    page whose ``corners`` are given), its edge a soft step."""
    h, w = image.shape[:2]
    d = (b - a) / np.linalg.norm(b - a)
    n = np.array([d[1], -d[0]])
    if np.dot(corners.mean(axis=0) - a, n) > 0:
        n = -n
    yy, xx = np.mgrid[0:h, 0:w]
    s = (xx - a[0]) * n[0] + (yy - a[1]) * n[1]
    sheet = np.clip((s - off) / 1.5 + 0.5, 0, 1)[..., None]
    return np.clip(image * (1 - sheet) + grey * sheet, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("off", [28.0, 36.0])
def test_a_reflections_rim_with_a_pale_sheet_beyond_is_still_asked(off):
    # tune2:edge_glare/1022 at 1280x720 (finder-glow's own "gain": 0.795, asked) with a pale second sheet 14-18
    # working px beyond the answer's right side (the glow's rim). Main: 0.795 at 0.68 (asked). Branch: 0.795 at
    # 0.92 -- confidently wrong: the "desk" 16-24 px out is the sheet, the fall to it is small and the fade looks gone.
    photo = imagegen.desk_photo(1022, "edge_glare", (1280, 720), "tune2")
    plain = docfind.detect(photo.image)
    assert plain is not None and plain.score < docfind.CONFIDENT  # the rim is asked without the sheet
    q = plain.corners
    image = _with_sheet(photo.image, photo.corners, q[1], q[2], off)
    found = docfind.detect(image)
    iou = imagegen.quad_iou(found.corners, photo.corners)
    assert iou >= 0.9 or found.score < docfind.CONFIDENT, (iou, found.score)


_RIM_QUAD = np.array([[200, 40], [600, 40], [600, 320], [200, 320]], np.float64)  # right side on the reflection's rim


def _rim(fade, sheet_from=None, grey=235, line_at=None, line_grey=None, step=None, W=640, H=360, rim=600):
    """A working image: a page (x 200-560) on a desk (100); a reflection blown out up to x = ``rim`` (past the page's
    right edge, over the desk), its glow fading beyond with scale ``fade`` px. Optionally a pale sheet from
    ``sheet_from`` px beyond the rim (grey ``grey``); a thin dark line 1 px wide ``line_at`` px beyond the rim, inside
    the glow (grey ``line_grey``: a cable, a pen's shaft, a seam between two desk boards); or a hard-edged reflection
    (a window, an LED panel): down by ``step`` of the lift within 1 px of the rim, then its halo fading."""
    x = np.arange(W, dtype=np.float32)
    img = np.full((H, W, 3), 100, np.float32)
    img[40:320, 200:560] = 215
    d = np.clip(x - rim, 0, None)
    prof = np.exp(-d / fade) if step is None else np.where(d < 1, 1 - step * d, (1 - step) * np.exp(-(d - 1) / fade))
    glow = np.zeros((H, W), np.float32)
    glow[20:340, 480:] = prof[480:]
    img += (300 - img) * glow[..., None]
    if sheet_from is not None:
        img[:, rim + sheet_from:] = grey
    if line_at is not None:
        img[:, rim + line_at] = line_grey
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("fade,sheet_from,grey", [(4, 14, 235), (6, 16, 235), (6, 14, 200)])
def test_glow_side_is_not_fooled_by_a_pale_object_beyond_the_fade(fade, sheet_from, grey):
    # The same side without the sheet is a rim for both finders; main's _glow_side still says so with the sheet.
    assert docfind._glow_side(_rim(fade), _RIM_QUAD)
    assert docfind._glow_side(_rim(fade, sheet_from, grey), _RIM_QUAD)


def test_a_page_on_a_clipboard_is_not_moved_out_onto_the_clip_end():
    # Review of finder-band. tune3 nested/1129 at 1280x720: an A4 page on a wooden clipboard flush with the page's
    # right side, the clip end (~0.2 of the page's length) above it, no reflection anywhere. Main: IoU 0.999, asked
    # (0.675). finder-band: _band_edge takes the clip end for a card's band and moves the top side up to the
    # clipboard's top edge: IoU 0.834 (asked and wrong).
    photo = imagegen.desk_photo(1129, "nested", (1280, 720), "tune3")
    found = docfind.detect(photo.image)
    assert found is not None
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.95


def test_a_page_flush_on_a_folder_of_its_width_is_not_a_card_body():
    # Composed: a white A4 page (240 x 340 px, tilted 0-8 degrees) on a mid-grey desk, lying on a folder/notebook of
    # exactly its width that reaches 0.2-0.3 of the page's length beyond its bottom. The page is the right answer;
    # every condition of _band_edge holds (a plain strip between the neighbours' extensions, a far step, the sides
    # going on, unlike the desk, the result 1.6-1.8 "card-shaped"), so finder-band moves it out onto the folder.
    rng = np.random.default_rng(7)
    for under_col, ang, frac in (((90, 40, 30), 8, 0.3), ((90, 40, 30), 0, 0.25), ((60, 200, 220), 5, 0.2)):
        img = np.clip(rng.normal(0, 3, (480, 640, 3)) + (120, 125, 120), 0, 255).astype(np.uint8)
        page = docfind.order_corners(cv2.boxPoints(((320, 200), (240, 340), ang)).astype(np.float32))
        tl, tr, br, bl = page
        under = np.array([tl, tr, br + frac * (br - tr), bl + frac * (bl - tl)])
        cv2.fillConvexPoly(img, np.round(under).astype(np.int32), under_col)
        cv2.fillConvexPoly(img, np.round(page).astype(np.int32), (235, 238, 236))
        assert docfind._band_edge(_carry_view(img), img, page) is None, (under_col, ang, frac)


# --- finder-glow2: a reflection straddling a page's real edge is no rim ---------------------------------------------


def test_a_reflection_straddling_a_pages_side_is_no_rim():
    # tune3:glare/1137 at 1920x1080: a lamp's reflection lies across the page's left side. The paper next to it is
    # blown out; the page's edge is a step in the glow's light (~100 grey levels within 2 working px) and the glow goes
    # on, dimmer, over the desk beyond. Main's _glow_side took the side for a reflection's rim: 0.997, asked (0.675).
    found = _finds_tuning_photo(1137, "glare", (1920, 1080), at_least=0.99, split="tune3")
    assert found.score >= docfind.CONFIDENT, found


def _straddled(fade: float, lift: float, W: int = 640, H: int = 360) -> np.ndarray:
    """A working image: a page (x 200-560, grey 215) on a desk (100); a reflection adds ``lift`` over x 470-560
    (the paper clips) and 0.7 of it, fading with scale ``fade`` px, over the desk beyond the page's right edge."""
    x = np.arange(W, dtype=np.float32)
    img = np.full((H, W, 3), 100, np.float32)
    img[40:320, 200:560] = 215
    band = np.zeros((H, W), np.float32)
    band[60:300, 470:] = lift * np.exp(-np.clip(x[470:] - 560, 0, None) / fade)
    band[:, 560:] *= 0.7
    img = cv2.GaussianBlur(img + band[..., None], (0, 0), 0.7)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("fade,lift", [(8, 90), (12, 120)])
def test_glow_side_sees_the_pages_step_inside_the_glow(fade, lift):
    # The answer's right side 2 px inside the page's edge (x 558; 1137's is 1-2 working px in): no crisp step within
    # 3 px of it, paper blown out 5 px in, none 2 px out, the glow 3 and 6 px out -- main's _glow_side said "rim".
    # The page's edge is a step of 0.5-0.6 of the fall from the clipped paper to the desk within 2 px: no rim.
    quad = np.array([[200, 40], [558, 40], [558, 320], [200, 320]], np.float64)
    assert not docfind._glow_side(_straddled(fade, lift), quad)


@pytest.mark.parametrize("fade,line_at,grey", [(6, 4, 30), (6, 5, 70), (4, 2, 30), (8, 2, 70)])
def test_a_dark_line_in_the_glow_past_a_rim_does_not_make_it_a_page_edge(fade, line_at, grey):
    # Review of finder-glow2. Without the line both finders call the side a rim (fade 4/6; fade 8 only with the
    # line, as on main).
    # The line makes a >= 0.55-of-the-fall drop within 2 px, 1 px in to 5 px out; the branch's _edge_in_fade
    # reads it as the page's edge in the glow and the rim is no longer asked. The glow comes back beyond the line:
    # a page's edge is a step down that stays down, a line is a dip.
    assert docfind._glow_side(_rim(fade, line_at=line_at, line_grey=grey), _RIM_QUAD)


@pytest.mark.xfail(strict=True, reason="known: a hard-edged reflection's rim (a window, an LED panel) reads as a "
                   "page's edge in the glow's light (review of finder-glow2); its halo fades like tune glare/1160's")
@pytest.mark.parametrize("fade", [6, 10])
def test_a_hard_edged_reflections_rim_is_still_a_rim(fade):
    # The page's edge (x 560) is under the blown-out patch; the answer's side (x 600) is the reflection's own hard
    # outer edge, its halo fading beyond. Main: rim (asked). Branch: the 0.6 step reads as a page's edge: confident.
    assert docfind._glow_side(_rim(fade, step=0.6), _RIM_QUAD)


@pytest.mark.parametrize("fade,off", [(8, 10), (10, 12), (12, 14)])
def test_a_side_on_the_glows_fade_well_beyond_its_clipped_patch_is_a_rim(fade, off):
    # finder-glare12 (tune:edge_glare/1103 at 12 MP: 0.873 at 0.79, confidently wrong). A round glow over the desk
    # beyond a card's side the reflection hides; the answer's side is a tangent to the glow's fade, its clipped patch
    # first 11 working px inside it. Main's _glow_side looks for the patch 5 px in only: "no rim", confident.
    quad = np.array([[200, 40], [600 + off, 40], [600 + off, 320], [200, 320]], np.float64)
    assert docfind._glow_side(_rim(fade), quad)


@pytest.mark.slow  # a 12 MP photo (at 2000x1500 and below the card is found on both)
def test_an_asked_card_on_striped_cloth_is_not_grown_onto_the_stripes():
    # Review of finder-glare12. tune edge_glare/1121 at 12 MP: an ID card on white-and-pink diagonal stripes, a
    # reflection over its right end, asked. _asked_glare let _follow_on grow it: its bottom side followed ~27 working
    # px past the card's corner along the stripes, whose white ones pass as paper (of the strip's part not blown out
    # only 0.77 is the paper's colour; FOLLOW_ASKED 0.85). main 0.980 at 0.68; the branch 0.906 at 0.68.
    _finds_tuning_photo(1121, "edge_glare", (4000, 3000), at_least=0.95)


def _soft_page_with_glare(blur: float, gap: int, W: int = 640, H: int = 360) -> np.ndarray:
    """A working image: a defocused page (x 200-560, grey 215, blurred ``blur`` px) on a desk (100); a reflection
    clips the paper from x 470 to ``gap`` px inside its right edge, fading over 3 px, none over the desk."""
    x = np.arange(W, dtype=np.float32)
    img = np.full((H, W, 3), 100, np.float32)
    img[40:320, 200:560] = 215
    img = cv2.GaussianBlur(img, (0, 0), blur)
    glow = np.zeros((H, W), np.float32)
    glow[60:300] = np.where((x >= 470) & (x < 560), np.exp(-np.clip(x - (560 - gap), 0, None) / 3), 0)
    img += (300 - img) * glow[..., None] * (img > 150)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 0.7), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("blur,gap", [(1.0, 8), (2.0, 10), (2.0, 14), (3.0, 12)])
def test_a_defocused_pages_edge_with_a_glare_inside_is_no_rim(blur, gap):
    # The guard for _glow_deep: the page's own soft edge, the side on its middle (x 560), a clipped patch 8-14 px
    # inside. Beyond it the desk is reached within a few px: no glow fades there. (Passes on main too.)
    quad = np.array([[200, 40], [560, 40], [560, 320], [200, 320]], np.float64)
    assert not docfind._glow_side(_soft_page_with_glare(blur, gap), quad)


def test_a_page_on_a_folder_asked_and_right_is_not_moved_onto_the_folder():
    # Review of finder-occl4. tune3 nested/1122 at 1280x720: a white page on a yellow folder, asked. The folder's strip
    # beyond the right side was read as a card's band, its strip below the bottom side as an object along the next
    # side; _band_across took both in. main 0.999 at 0.68; the branch 0.866 at 0.68.
    _finds_tuning_photo(1122, "nested", (1280, 720), at_least=0.95, split="tune3")


def _defocused_page_beside_a_pale_card(delta: float = -1.0):
    """tune2 defocus/1139 at 1280x720 (main: 0.917, asked but right), and on the desk top-right a flat card of nearly
    the desk's colour (its 75th percentile + ``delta``), blurred as the photo is (sigma 2 px). Truth: the page."""
    photo = imagegen.desk_photo(1139, "defocus", (1280, 720), "tune2")
    im0, (h, w) = photo.image, photo.image.shape[:2]
    card = np.array([[0.62, 0.08], [0.88, 0.09], [0.87, 0.38], [0.61, 0.37]]) * [w, h]
    mask = np.zeros((h, w), np.float32)
    cv2.fillConvexPoly(mask, card.astype(np.int32), 1.0, cv2.LINE_AA)
    mask = cv2.GaussianBlur(mask, (0, 0), 2.0)[..., None]
    colour = np.clip(np.percentile(im0.reshape(-1, 3), 75, axis=0) + delta, 0, 255).astype(np.float32)
    return np.clip(im0 * (1 - mask) + colour * mask, 0, 255).astype(np.uint8), photo.corners


@pytest.mark.parametrize("delta", [-1.0, -0.5])
def test_a_defocused_page_found_weakly_is_not_given_up_for_a_pale_card_beside_it(delta):
    # Review of finder-arabic12. The defocused page is found right but weakly (0.46 before the refinement): two of its
    # sides are steps, so it is no strip of cloth between rows of dots, all ramps (_faint_instead). The amplified
    # search takes the pale card beside it, crisp and apart. main 0.917 at 0.34; the branch the card, 0.000 at 0.585.
    image, truth = _defocused_page_beside_a_pale_card(delta)
    found = docfind.detect(image)
    assert found is not None and imagegen.quad_iou(found.corners, truth) >= 0.9, found
