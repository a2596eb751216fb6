"""docfind on long till receipts whose short ends were left out of the line search (branch finder-long15).

A receipt's end is as short as it is wide and parallel to its print rows: the line rankings (length, evidence,
evidence off its family, PICK each) left it out, and the receipt's quadrilateral was never formed. The outermost
lines crossing a receipt-shaped pair of leading lines are kept too (``_receipt_ends``)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge.devices.scanner import docfind
from tests.support.finder_checks import finds_desk_photo


def test_long_receipt_with_its_end_ranked_out_is_found():
    """tune2 long_receipt/1007 at 1080p (a clean receipt, aspect 7.6, on a plum desk): its QR end's line ranked 24th,
    57th and 23rd, the receipt was never a candidate and the answer was "no page"; found confidently now."""
    found = finds_desk_photo(1007, "long_receipt", (1920, 1080), 0.95, "tune2")
    assert found.score >= docfind.CONFIDENT


def test_pale_long_receipt_is_not_cut_at_a_dashed_row():
    """tune long_receipt/1028 at 1080p (a pale receipt on a pale desk): cut at a dashed row across it, 0.87 at 0.79
    (confidently wrong); its end's line kept, the whole receipt is found."""
    finds_desk_photo(1028, "long_receipt", (1920, 1080), 0.95)


def _lines_on(feat: np.ndarray, segments) -> list:
    """``_Line``s through the given (x0, y0, x1, y1) segments, as the line search makes them (normal, rho, length)."""
    out = []
    for x0, y0, x1, y1 in segments:
        d = np.array([x1 - x0, y1 - y0], float)
        length = float(np.linalg.norm(d))
        n = np.array([-d[1], d[0]]) / length
        out.append(docfind._Line(n, float(n @ [x0, y0]), length, np.zeros(6)))
    return out


def _ends_of(image: np.ndarray, segments) -> list[tuple]:
    feat = cv2.GaussianBlur(np.log(image.astype(np.float32) + 16.0), (0, 0), 1.0)
    lines = _lines_on(feat, segments)
    starts, P, N, _, lens = docfind._profiles(feat, lines)
    rows = np.arange(len(lines))
    evidence = np.maximum(P[rows, lens - 1], N[rows, lens - 1])
    return [segments[i] for i in docfind._receipt_ends(lines, starts, P, N, lens, evidence)]


def _receipt(width: int, length: int) -> tuple[np.ndarray, list]:
    """A pale strip (``width`` x ``length`` px) upright on a dark desk with three bold dark rows printed across it; the
    lines through its sides, its ends, its rows and a desk line beyond it."""
    image = np.full((400, 640, 3), 60, np.uint8)
    x0, y0 = 200, 40
    cv2.rectangle(image, (x0, y0), (x0 + width, y0 + length), (235, 235, 235), -1)
    rows = [y0 + length * k // 4 for k in (1, 2, 3)]
    for y in rows:  # (bold rows: a step at each of their edges, as the 9 px median leaves a header or a QR block)
        cv2.rectangle(image, (x0 + 3, y), (x0 + width - 3, y + 10), (40, 40, 40), -1)
    segments = [
        (x0, y0, x0, y0 + length),
        (x0 + width, y0, x0 + width, y0 + length),  # long sides
        (x0, y0, x0 + width, y0),
        (x0, y0 + length, x0 + width, y0 + length),
    ]  # ends
    segments += [(x0, y, x0 + width, y) for y in rows]
    segments += [(20, 380, 120, 380)]  # beyond it, on the desk
    return image, segments


def test_receipt_ends_are_its_outermost_crossing_lines():
    """A receipt's two ends are kept, not its print rows nor a desk line beyond it."""
    image, segments = _receipt(50, 320)
    assert sorted(_ends_of(image, segments)) == sorted(segments[2:4])


def test_no_receipt_ends_for_an_unprinted_strip():
    """A strip with nothing printed across it between its ends (a ruler's back, a pen, a phone) keeps no extra lines."""
    image, segments = _receipt(50, 320)
    image[:, :] = 60
    cv2.rectangle(image, (200, 40), (250, 360), (235, 235, 235), -1)
    assert _ends_of(image, segments) == []


def test_no_receipt_ends_for_a_page_shaped_strip():
    """A strip under LONG_ASPECT times longer than wide (a page's shape) keeps no extra lines."""
    image, segments = _receipt(150, 320)
    assert _ends_of(image, segments) == []


def test_no_receipt_ends_for_lines_running_on_across_the_desk():
    """Crossing lines that step on beyond the pair's long sides (a gingham cloth's check lines: the same cloth either
    side of the pair) are no receipt's ends (tests/devices/test_docfind.py's receipt on the tablecloth, seed 1 at
    1000x750: 0.985 -> 0.273 when they were kept)."""
    image, segments = _receipt(50, 320)
    image[:40, 140:311] = 140  # cloth bands above and below the strip: its end lines step on across the desk
    image[360:, 140:311] = 140
    assert _ends_of(image, segments) == []


def test_receipt_ends_tilted():
    """The same at a slant (the ends found by where they cross the long sides, whichever way the normals point)."""
    image, segments = _receipt(50, 320)
    centre = (225.0, 200.0)
    turn = cv2.getRotationMatrix2D(centre, 25, 1.0)
    image = cv2.warpAffine(image, turn, (640, 400), borderValue=(60, 60, 60))
    moved = [
        tuple(float(v) for v in (turn @ [x0, y0, 1]).tolist() + (turn @ [x1, y1, 1]).tolist())
        for x0, y0, x1, y1 in segments
    ]
    ends = _ends_of(image, moved)
    assert sorted(ends) == sorted(moved[2:4])
    assert math.isclose(abs(_lines_on(image, ends)[0].normal @ _lines_on(image, moved[:1])[0].normal), 0, abs_tol=1e-6)


def test_no_receipt_end_beyond_its_end_where_a_desk_line_leaves_the_photo():
    """A desk line just beyond a receipt's end that runs off the photo past one long side is not taken for its end:
    beyond that side only the part in the photo is seen stepping (the rest is outside, not stopped), so the share is
    of that part (tune2 long_receipt/1044: a desk line off the receipt's end at the photo's border was kept, 0.997 ->
    0.957 portrait, right at 0.90 -> asked at 0.68 at 1080p)."""
    image = np.full((400, 270, 3), 60, np.uint8)
    x0, y0, width, length = 200, 30, 50, 320
    cv2.rectangle(image, (x0, y0), (x0 + width, y0 + length), (235, 235, 235), -1)
    rows = [y0 + length * k // 4 for k in (1, 2, 3)]
    for y in rows:
        cv2.rectangle(image, (x0 + 3, y), (x0 + width - 3, y + 10), (40, 40, 40), -1)
    band = y0 + length + 14  # a paler desk band from under the receipt's end off the photo's right border
    image[y0 + length + 4:band, x0:] = 140
    segments = [(x0, y0, x0, y0 + length), (x0 + width, y0, x0 + width, y0 + length),
                (x0, y0, x0 + width, y0), (x0, y0 + length, x0 + width, y0 + length)]
    segments += [(x0, y, x0 + width, y) for y in rows] + [(x0, band, x0 + width, band)]
    assert segments[-1] not in _ends_of(image, segments)
