"""The page finder on the printed tablecloths of the second and third tuning splits (imagegen.desk_photo, split "tune2":
polka dots, leaves, argyle, 2026-12-06 night, branch finder-cloth; split "tune3": hexagon tiles, 2026-12-07, branch
finder-t3cloth), which the first tuning split never had."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from edge.devices.scanner import docfind
from tests.support import imagegen
from tests.support.finder_checks import finds_desk_photo


def test_a_page_on_argyle_is_not_extended_over_a_strip_of_the_cloth():
    # tune2 tablecloth seed 1013 at 1000x750: an A5 page on an argyle cloth. One of the cloth's lines beyond the
    # page's bottom side steps consistently, and the page's sides go on as steps past its corners to it: the line
    # search's growth step (docfind._extend) took the wedge of cloth in (base: IoU 0.75 at 0.92, confidently wrong).
    # Every colour in that wedge is the cloth's own, around the page (docfind._desk_strip): it is desk, not a band.
    found = finds_desk_photo(1013, "tablecloth", (1000, 750), at_least=0.95, split="tune2")
    assert found.score >= docfind.CONFIDENT


def test_a_frame_printed_near_a_defocused_page_edge_gives_way_to_the_page_though_a_stamp_covers_one_rim():
    # tune2 defocus seed 1000 at 1080p: an A6 page with a printed frame a few mm inside its edge, on a leaf-print
    # cloth, out of focus. The frame is the best outline; beyond three of its sides lies a calm rim of one colour and
    # the page's edge, but a stamp and a pen lie over the fourth rim, so the rim rule of docfind._beyond (every side a
    # calm rim) did not take the page (base: the frame, IoU 0.83, asked). The line beyond the fourth side as far out
    # as the others' rims closes the outline (docfind._covered_rim).
    finds_desk_photo(1000, "defocus", (1920, 1080), at_least=0.95, split="tune2")


# The review of finder-cloth (2026-12-06 night): ``_desk_strip`` sampled "the desk" beyond the side opposite the strip
# too, where more of the document may lie. A card with a band of one colour at its top and its bottom: the line
# search's winner is the body between them, and each band's growth was refused because the other band was "desk".


def two_band_card(seed: int, W: int = 1280, H: int = 720):
    """An ID card, a band at the top (22 %) and one of the same colour at the bottom (15 %), on a 'mid' desk."""
    rng = np.random.default_rng(seed)
    canvas = imagegen._background(rng, H, W, "mid")
    ppm = rng.uniform(4, 6) * W / 1280
    page = imagegen._render_page(rng, "id", 85.6, 54.0, ppm).astype(np.float32)
    h, w = page.shape[:2]
    band = rng.uniform(40, 200, 3)
    page[:int(h * 0.22)] = band
    page[h - int(h * 0.15):] = band
    ang = rng.normal(0, math.radians(8))
    c = np.array([W / 2 + rng.uniform(-0.1, 0.1) * W, H / 2 + rng.uniform(-0.1, 0.1) * H])
    pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    R = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    quad = pts @ R.T + c
    imagegen._paste(canvas, page, quad, shadow_px=2.0, shadow_strength=0.2, rng=rng)
    return imagegen._camera(rng, canvas, 0.5, 0, 2.0, 90), quad


@pytest.mark.parametrize("seed", [2, 4, 6, 8])
def test_two_band_card_is_right_not_asked(seed):
    # main (61c7a58): seed 2 0.997 at 0.54, 4 0.996 at 0.54, 6 0.999 at 0.60, 8 0.996 at 0.54 (asked);
    # before the merge (61c7a58^1): 0.78, 0.93, 0.92, 1.00 (right).
    image, quad = two_band_card(seed)
    found = docfind.detect(image)
    assert found is not None
    assert imagegen.quad_iou(found.corners, quad) >= 0.95
    assert found.score >= docfind.CONFIDENT


def test_desk_strip_does_not_sample_beyond_the_opposite_side():
    # The band beyond the body's top side is not "a piece of the desk" because a band of its colour lies beyond the
    # body's bottom side (working-size log-colour view, a body between two bands, on a grey desk).
    feat = np.full((240, 320, 3), np.log(120 + 16.0), np.float32)
    band = np.log(np.array([60, 150, 90], np.float32) + 16.0)
    feat[60:80, 80:240] = band                                             # top band
    feat[80:150, 80:240] = np.log(np.array([230, 230, 230], np.float32) + 16.0)  # body
    feat[150:170, 80:240] = band                                           # bottom band
    inner = np.array([[80, 80], [239, 80], [239, 149], [80, 149]], float)  # the body
    outer = np.array([[80, 60], [239, 60], [239, 149], [80, 149]], float)  # … grown over the top band
    assert not docfind._desk_strip(feat, outer, inner)


def test_a_card_on_polka_dots_is_the_card_not_its_photo_block():
    # tune2 tablecloth seed 1006 at 1080p: an ID card on a polka-dot cloth. The dots touching the card's sides
    # scallop them in the texture-free view, so no line follows them; the card's photo block is a perfect outline
    # and was the answer (main: IoU 0.16 at 0.68, asked and wrong). docfind._beyond finds the card's outline around
    # it, and the band between them is paper with print (docfind._printed_band): the card, asked.
    found = finds_desk_photo(1006, "tablecloth", (1920, 1080), at_least=0.9, split="tune2")
    assert found.score < docfind.CONFIDENT


def _sheet_with_block(print_on_band: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grey desk, a white sheet (outer) with a red block (inner) in it; the sheet's band around the block blank or
    printed with rows of dark strokes."""
    img = np.full((360, 640, 3), 120, np.uint8)
    outer = np.array([[160.0, 60.0], [480.0, 60.0], [480.0, 300.0], [160.0, 300.0]])
    inner = np.array([[200.0, 160.0], [300.0, 160.0], [300.0, 260.0], [200.0, 260.0]])
    img[60:301, 160:481] = 235
    if print_on_band:
        for y in range(80, 290, 12):
            for x in range(175, 470, 9):
                img[y:y + 3, x:x + 5] = 40
    img[160:261, 200:301] = (60, 60, 200)
    return img, outer, inner


def test_printed_band_tells_a_card_body_from_a_blank_sheet_around_a_page():
    img, outer, inner = _sheet_with_block(print_on_band=True)
    assert docfind._printed_band(img, outer, inner)
    img, outer, inner = _sheet_with_block(print_on_band=False)
    assert not docfind._printed_band(img, outer, inner)


@pytest.mark.xfail(strict=True, reason="known: a white page on a pale-ground leaf print: no edge (finder-print)")
def test_a_white_page_on_a_pale_ground_leaf_print_is_found():
    # tune2 tablecloth seed 1030 at 720p: no page. The leaves' edges set Canny's thresholds (80th percentile 0.12); the
    # page's sides change by 0.02-0.03 per px and are no edge, so no line search keeps them (the truth, judged, would
    # be asked but right at 0.47). Regions free of edges in the texture-free view found it roughly but below NO_PAGE.
    finds_desk_photo(1030, "tablecloth", (1280, 720), at_least=0.9, split="tune2")


@pytest.mark.xfail(strict=True, reason="known: a curled page's shaded end left out, on argyle (finder-print)")
def test_a_curled_page_on_argyle_is_not_confidently_cut_at_its_shade():
    # tune2 tablecloth seed 1007 at 720p: the answer stops where the shaded curl begins (IoU 0.88 at 1.00).
    found = finds_desk_photo(1007, "tablecloth", (1280, 720), at_least=0.0, split="tune2")
    photo = imagegen.desk_photo(1007, "tablecloth", (1280, 720), "tune2")
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.9 or found.score < docfind.CONFIDENT


# --- review of finder-print: a document lying on a printed letter is the document, not the letter ---------------------
# _printed_band takes the well-outlined quad around the answer when the band between them is smooth paper with ink on it
# (a card's body around its photo block). A card or a receipt lying on a printed letter, a form or a newspaper has such
# a band too; the answer is then itself printed, which a photo block is not.

def _text(img, x0, y0, x1, y1, rng, row, height, density, ink=40):
    for y in range(y0, y1 - height, row):
        x = x0
        while x < x1 - 9:
            gw = int(rng.integers(4, 9))
            if rng.random() < density:
                img[y:y + height, x:x + gw] = ink
            x += gw + int(rng.integers(2, 5))


def _polka(rng, size=(1280, 720), ground=(200, 215, 230), dot=(60, 50, 150), r=14, pitch=44):
    w, h = size
    img = np.zeros((h, w, 3), np.float32)
    img[:] = ground
    for y in range(-pitch, h + pitch, pitch):
        for x in range(-pitch, w + pitch, pitch):
            off = pitch // 2 if (y // pitch) % 2 else 0
            cv2.circle(img, (int(x + off + rng.normal(0, 2)), int(y + rng.normal(0, 2))), r, dot, -1, cv2.LINE_AA)
    return img


def _card_on_printed_letter(seed: int, row: int = 20, height: int = 4, density: float = 0.6,
                           card=(200, 160, 120), card_printed: bool = True):
    """A polka-dot cloth (as tune2 tablecloth/1006), a printed letter (620x520 px) on it, and on the letter an ID card
    (330x200 px, tinted, printed, with a photo block) with a soft drop shadow. Truth: the card."""
    desk = _polka(np.random.default_rng(100 + seed))
    rng = np.random.default_rng(seed)
    ow, oh, iw, ih = 620, 520, 330, 200
    sheet = np.full((oh, ow, 3), 240, np.uint8)
    m = int(0.06 * oh)
    _text(sheet, m, m, ow - m, oh - m, rng, row, height, density)
    colour, card = card, np.zeros((ih, iw, 3), np.uint8)
    card[:] = colour
    if card_printed:  # its text and its photo block
        _text(card, int(0.1 * ih), int(0.1 * ih), iw - int(0.1 * ih), ih - int(0.1 * ih), rng, 14, 5, 0.75)
        card[int(ih * .2):int(ih * .8), int(iw * .06):int(iw * .35)] = (150, 120, 110)
    ox, oy = (ow - iw) / 2, (oh - ih) / 2
    shadow = np.zeros((oh, ow), np.float32)
    shadow[int(oy) + 3:int(oy) + ih + 3, int(ox) + 3:int(ox) + iw + 3] = 1
    sheet = sheet.astype(np.float32) * (1 - 0.15 * cv2.GaussianBlur(shadow, (0, 0), 3)[..., None])
    sheet[int(oy):int(oy) + ih, int(ox):int(ox) + iw] = card
    inner = np.array([[ox, oy], [ox + iw, oy], [ox + iw, oy + ih], [ox, oy + ih]], np.float32)
    src = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], np.float32)
    a = np.deg2rad(3.0 + rng.normal(0, 1))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = ((src - [ow / 2, oh / 2]) @ rot.T + [640, 360] + rng.normal(0, 6, (4, 2))).astype(np.float32)
    to_photo = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(sheet, to_photo, (1280, 720), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((oh, ow), np.float32), to_photo, (1280, 720))[..., None]
    img = desk * (1 - mask) + warped * mask
    img = cv2.GaussianBlur(img, (0, 0), 0.8) + rng.normal(0, 2, img.shape)
    truth = cv2.perspectiveTransform(inner[None], to_photo)[0].astype(float)
    return np.clip(img, 0, 255).astype(np.uint8), truth


@pytest.mark.parametrize("seed, row, height, density", [
    (1, 20, 4, 0.6),   # finder-print before its review: the letter, 0.216 at 0.68 (the card: 0.986, asked)
    (0, 18, 3, 0.7),   # 0.320 (the card: 0.947)
    (2, 24, 4, 0.5),   # 0.234 (the card: 0.950)
])
def test_an_id_card_on_a_printed_letter_is_the_card(seed, row, height, density):
    img, truth = _card_on_printed_letter(seed, row, height, density)
    found = docfind.detect(img)
    assert found is not None
    assert imagegen.quad_iou(found.corners, truth) >= 0.9, (imagegen.quad_iou(found.corners, truth), found.score)


@pytest.mark.xfail(strict=True, reason="known: an unprinted card on a printed letter whose sides a cloth's dots break "
                                      "is taken for a photo block in a card (review of finder-print)")
@pytest.mark.parametrize("seed, colour", [
    (1, (200, 160, 120)),  # main before finder-print: 0.984 at 0.68; after: the letter, 0.223 at 0.68
    (2, (120, 200, 235)),  # 0.994 before; 0.293 after
])
def test_a_blank_card_or_note_on_a_printed_letter_is_the_card(seed, colour):
    # The same with an unprinted card (a sticky note, a blank index card): nothing inside the answer tells it from a
    # photo block, so the printed band alone swaps it for the letter (still asked: the operator drags the corners).
    img, truth = _card_on_printed_letter(seed, card=colour, card_printed=False)
    found = docfind.detect(img)
    assert found is not None
    assert imagegen.quad_iou(found.corners, truth) >= 0.9, (imagegen.quad_iou(found.corners, truth), found.score)

# The third tuning split's cloths (2026-12-07, branch finder-t3cloth): hexagons, vinyl tiles with thin lines between
# them, some inked in patches far larger than the desk sampled beside a page.


def test_a_page_on_hexagon_tiles_is_not_grown_over_a_strip_of_them():
    # tune3 tablecloth seed 1033 at 1280x720: a page on a hexagon cloth. Refined, the answer was grown once more
    # (docfind._regrow) over a strip of tiles beyond the page's right side, calm between the tiles' thin lines and
    # outlined by a line of them (base: IoU 0.84 at 1.00, confidently wrong). Every colour in it is the cloth's
    # around the page (docfind._desk_strip), checked now in docfind._grow as in docfind._extend.
    found = finds_desk_photo(1033, "tablecloth", (1280, 720), at_least=0.95, split="tune3")
    assert found.score >= docfind.CONFIDENT


def tiled_desk(lower: tuple[int, int, int]) -> np.ndarray:
    """A working-size log-colour view of a tiled cloth: tiles 6 px across with dark lines between them, pink above
    row 140 and of the colour ``lower`` below it (a patch of inked tiles), and a flat page at rows 80-149."""
    img = np.empty((240, 320, 3), np.float32)
    img[:] = (200, 180, 220)
    img[140:] = lower
    img[::6] *= 0.6
    img[:, ::6] *= 0.6
    img[80:150, 80:240] = (235, 235, 230)
    return cv2.GaussianBlur(np.log(img + 16.0), (0, 0), 1.0)


def test_desk_strip_knows_a_strip_of_tiles_of_another_patch_by_its_roughness():
    # tune3 tablecloth seed 1000 (1080p): the line search's growth step (docfind._extend) took a wedge of tiles beyond
    # the page's lower side (base: IoU 0.71 at 0.97, confidently wrong). The tiles there are of a patch unlike those
    # sampled beside the page's sides, so the palette check missed it; the strip is as rough as the desk beside the
    # page (docfind._rough_as_desk), which a card's band or a page's fold, paper, is not.
    feat = tiled_desk((150, 110, 190))
    inner = np.array([[80, 80], [239, 80], [239, 149], [80, 149]], float)   # the page
    outer = np.array([[80, 80], [239, 80], [239, 179], [80, 179]], float)   # … grown over tiles below it
    assert docfind._desk_strip(feat, outer, inner)


def test_desk_strip_keeps_a_flat_band_on_tiles():
    # … while a flat band beyond the page (a card's band) on the same tiles is not the desk.
    feat = tiled_desk((150, 110, 190))
    feat[150:180, 80:240] = np.log(np.array([60, 90, 150], np.float32) + 16.0)
    inner = np.array([[80, 80], [239, 80], [239, 149], [80, 149]], float)
    outer = np.array([[80, 80], [239, 80], [239, 179], [80, 179]], float)
    assert not docfind._desk_strip(feat, outer, inner)


# --- review of finder-t3cloth: printed paper is rough too in the view _extend works on --------------------------------
# A receipt's printed half is as rough as a striped cloth in the blurred log colour (not the texture-free view), so
# _rough_as_desk called the strip from a receipt's middle to its end desk; it must also be rougher than the document.

def _raw_feat(image):
    """The working image's blurred log colour, as ``docfind._search`` gives ``_quad_search`` / ``_extend``."""
    h, w = image.shape[:2]
    k = docfind.WORK_SIDE / max(h, w)
    small = cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(np.log(small.astype(np.float32) + 16.0), (0, 0), 1.0), k


@pytest.mark.parametrize("split,seed,side", [("tune", 1002, 0), ("tune", 1002, 1)])
def test_a_printed_half_of_the_document_is_not_desk(split, seed, side):
    photo = imagegen.desk_photo(seed, "tablecloth", (1000, 750), split)
    feat, k = _raw_feat(photo.image)
    page = docfind.order_corners(photo.corners * k)
    inner = page.copy()   # the document with one side moved half way in: the strip between is document, not desk
    a, b = side, (side + 1) % 4
    inner[a] = page[a] + 0.5 * (page[(side + 3) % 4] - page[a])
    inner[b] = page[b] + 0.5 * (page[(side + 2) % 4] - page[b])
    assert not docfind._desk_strip(feat, page, inner)


def test_rough_as_desk_takes_a_float64_view_as_desk_strip_did():
    # main's _desk_strip took any float view; _rough_as_desk's cv2.Sobel(..., CV_32F) raises on float64
    rng = np.random.default_rng(0)
    feat = np.full((200, 300, 3), np.log(200.0)) + rng.normal(0, 0.3, (200, 300, 3))   # a rough desk, float64
    feat[40:160, 80:220] = np.log(235.0)                                               # a smooth page
    inner = np.array([[80, 40], [219, 40], [219, 119], [80, 119]], float)
    outer = np.array([[80, 40], [219, 40], [219, 159], [80, 159]], float)
    assert not docfind._desk_strip(feat, outer, inner)


def test_a_page_on_hexagons_whose_sides_run_along_tiles_of_its_colour_stays_confident():
    # tune3 curled seed 1101 at 1280x720: a page on a hexagon cloth of white and green tiles. Past its corners its
    # sides' lines run along tiles of the paper's own white, stepping one way and the other against the green ones;
    # counted as steps either way with the paper's colour inside (docfind._carries_either, before it asked for one
    # way all along a line), the right and confident answer (0.993 at 0.99) was asked.
    found = finds_desk_photo(1101, "curled", (1280, 720), at_least=0.97, split="tune3")
    assert found.score >= docfind.CONFIDENT


@pytest.mark.slow  # a 12 MP photo (the kind shows at 12 MP only)
def test_a_pale_page_on_pale_polka_dots_is_not_a_strip_of_the_cloth():
    # tune2 arabic/1115 at 12 MP (2026-12-07, finder-arabic12): a white letter on a pale green polka-dot cloth. Its
    # outline steps too little for the first search (near-step 0.41 in the texture-free view, under MIN_SCORE), which
    # took a strip of the cloth between rows of dots, its sides ramps (0.41, asked, IoU 0). The amplified search, run
    # only when nothing was found, finds the page crisp (0.64): it is the answer, asked (``docfind._faint_instead``).
    photo = imagegen.desk_photo(1115, "arabic", (4000, 3000), "tune2")
    found = docfind.detect(photo.image)
    assert found is not None and imagegen.quad_iou(found.corners, photo.corners) >= 0.9, found
    assert found.score < docfind.CONFIDENT


def _faint_page_on_polka() -> tuple[np.ndarray, np.ndarray]:
    """A working-size view (640x480): a pale page on a pale polka-dot cloth, its sides crisp. Truth: the page."""
    rng = np.random.default_rng(3)
    img = _polka(rng, (640, 480), ground=(215, 221, 212), dot=(75, 55, 80), r=3, pitch=20)
    quad = np.array([[80, 45], [380, 55], [370, 450], [75, 440]], np.float32)
    cv2.fillConvexPoly(img, quad.astype(np.int32), (236, 229, 233), cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 0.7) + rng.normal(0, 1.5, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), quad


def test_faint_instead_takes_a_crisp_page_apart_from_a_weak_answer_of_ramps():
    small, page = _faint_page_on_polka()
    strip = np.array([[470, 60], [560, 60], [550, 420], [480, 420]], np.float64)  # across the dots: no step anywhere
    assert not docfind._crisp(small, strip)
    taken = docfind._faint_instead(small, (strip, 0.41, 0.1, 0.5, 0.0))
    assert taken is not None and imagegen.quad_iou(taken[0], page) >= 0.95
    assert docfind.NO_PAGE <= taken[1] < docfind.CONFIDENT
    # not instead of an answer surer than FAINT_WEAK, nor of the page itself found weakly (not apart)
    assert docfind._faint_instead(small, (strip, 0.6, 0.1, 0.5, 0.0)) is None
    assert docfind._faint_instead(small, (page.astype(np.float64), 0.41, 0.1, 0.5, 0.0)) is None


def test_a_confident_page_with_a_stripe_beside_its_side_taken_in_is_asked():
    # tune3 occluder seed 1189 at 1080p: a pale page on a purple, blue and green striped cloth, a pen over its left
    # side. A stripe beyond the page's right side was taken for the side (base: IoU 0.881 at 0.96, confidently wrong).
    # docfind._desk_inside passes there, but docfind._desk_wedge cuts nothing on a printed cloth (WEDGE_SPREAD); the
    # strip inside that side is of the cloth's print colours (docfind._cloth_inside): asked (finder-occl6).
    found = finds_desk_photo(1189, "occluder", (1920, 1080), at_least=0.85, split="tune3")
    assert found.score < docfind.CONFIDENT


def test_a_confident_page_with_a_strip_of_argyle_beside_its_side_taken_in_is_asked():
    # tune2 occluder seed 1104 at 1080p: a lilac page on argyle, a dark phone over its bottom side; a strip of the
    # argyle below that side was taken in (base: IoU 0.912 at 0.95). The strip is of the cloth's colours: asked.
    found = finds_desk_photo(1104, "occluder", (1920, 1080), at_least=0.85, split="tune2")
    assert found.score < docfind.CONFIDENT


def _striped_view(colours, width=12):
    """A texture-free view (240x320, float32) of vertical stripes of ``colours`` (log colour), a pale page on it."""
    flat = np.zeros((240, 320, 3), np.float32)
    for x in range(0, 320, width):
        flat[:, x:x + width] = colours[(x // width) % len(colours)]
    flat[60:180, 100:220] = (5.4, 5.4, 5.4)
    return flat


@pytest.mark.parametrize("colours, out, expected", [
    (((4.6, 3.9, 4.8), (4.9, 4.2, 3.6), (4.1, 4.7, 3.9)), 0, False),   # printed stripes, the page itself
    (((4.6, 3.9, 4.8), (4.9, 4.2, 3.6), (4.1, 4.7, 3.9)), 9, True),    # … a stripe beside its right side taken in
    (((4.6, 4.2, 3.9), (4.65, 4.25, 3.95)), 9, False),                   # wood's narrow palette: _desk_wedge's ground
])
def test_cloth_inside_finds_a_strip_of_printed_cloth_inside_a_side(colours, out, expected):
    flat = _striped_view(colours)
    quad = np.array([[100, 60], [220 + out, 60], [220 + out, 180], [100, 180]], np.float64) - 0.5
    assert docfind._cloth_inside(flat, quad) is expected


@pytest.mark.parametrize("left, seen", [(100, False), (80, True)])
def test_cloth_inside_leaves_a_side_whose_desk_beyond_is_out_of_the_photo(left, seen):
    # A side near the photo's border: beyond it only the border repeated, no desk seen; a dark strip inside it may be
    # the page's shade (real jscanify/test4.JPG, a page on a shaded black desk, was asked by the first version). The
    # same strip 20 px further from the border, the cloth seen beyond it: found.
    flat = _striped_view(((4.6, 3.9, 4.8), (4.9, 4.2, 3.6), (4.1, 4.7, 3.9)))
    flat[60:180, 100:220] = flat[60:180, 0:120]  # the stripes again where _striped_view put its page
    flat[:, 300:] = (4.6, 3.9, 4.8)
    flat[60:180, left:left + 200] = (5.4, 5.4, 5.4)
    # (the answer's side on a stripe's edge, x = 288 for left 80, which runs on past its corners: review of occl6)
    quad = np.array([[left, 60], [left + 208, 60], [left + 208, 180], [left, 180]], np.float64) - 0.5
    assert docfind._cloth_inside(flat, quad) is seen


def _band_inside(image, corners, side, width, colour):
    """``image`` with a band ``width`` px wide of ``colour`` painted inside the page along its side ``side`` (a
    letterhead's bar, a form's header printed to the page's edge)."""
    q = imagegen.order_corners(corners).astype(np.float64)
    a, b = q[side], q[(side + 1) % 4]
    d = (b - a) / np.linalg.norm(b - a)
    n = np.array([-d[1], d[0]])
    n = -n if (q.mean(0) - a) @ n < 0 else n
    band, page = np.zeros(image.shape[:2], np.uint8), np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(band, np.round(np.array([a, b, b + width * n, a + width * n]) * 16).astype(np.int32), 1,
                       cv2.LINE_AA, 4)
    cv2.fillConvexPoly(page, np.round(q * 16).astype(np.int32), 1, cv2.LINE_AA, 4)
    out = image.copy()
    out[(band & page) > 0] = colour
    return out


def _lamp(image, low=0.5):
    """A desk lamp's fall-off: bright at the top right, down to ``low`` far from it (about 2.7x across the photo)."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    field = np.clip(1.35 - np.hypot(xx - w * 0.9, yy - h * 0.1) / np.hypot(w, h), low, 1.5)[..., None]
    return np.clip(image.astype(np.float32) * field, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed, condition, split, lamp, side, colour", [
    (1102, "plain", "tune", True, 1, (30, 45, 27)),
    (1101, "tablecloth", "tune3", False, 0, (161, 240, 170)),
    (1101, "tablecloth", "tune3", False, 3, (157, 145, 110)),
])
def test_a_page_with_a_band_of_the_desks_colour_printed_at_its_edge_stays_confident(seed, condition, split, lamp,
                                                                                      side, colour):
    # Review of finder-occl6: a page with a band printed to one side's edge in a colour found in the desk: a plain
    # dark desk under a lamp (its fall-off spreads the desk's colours past WEDGE_SPREAD: a "printed cloth"), a band of
    # a woven tablecloth's colour. _cloth_inside asked them (0.998 / 0.997 / 0.995 at 1.00 -> 0.68). A stripe's edge
    # runs on past the page's corners one way; a page's edge ends there (_side_goes_on, CLOTH_CARRY).
    photo = imagegen.desk_photo(seed, condition, (1280, 720), split)
    image = _lamp(photo.image) if lamp else photo.image
    found = docfind.detect(_band_inside(image, photo.corners, side, 20 if lamp else 30, colour))
    assert found is not None and imagegen.quad_iou(found.corners, photo.corners) >= 0.97, found
    assert found.score >= docfind.CONFIDENT, found.score
