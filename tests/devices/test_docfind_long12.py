"""docfind on long till receipts (the `long_receipt` condition, aspect 3.5-8; branch finder-long12).

A till receipt is print to its margins: its flatness (the share of a ring inside its sides smooth once texture is
gone) was 0.14-0.55 where a page's is 0.8, and a long receipt outlined perfectly was "no page" or asked."""
from __future__ import annotations

import numpy as np

from edge.devices.scanner import docfind
from tests.support.finder_checks import finds_desk_photo


def test_long_receipt_print_to_its_margins_is_found():
    """tune long_receipt/1011 at 1080p (aspect 7.1 on a pale green desk): "no page" before, found confidently now."""
    found = finds_desk_photo(1011, "long_receipt", (1920, 1080), 0.95)
    assert found.score >= docfind.CONFIDENT


def test_elongated():
    """Shaped as a till receipt from LONG_ASPECT on, either way round; an A4 page is not."""
    assert docfind._elongated(np.array([[0, 0], [50, 0], [50, 400], [0, 400]], float))
    assert docfind._elongated(np.array([[0, 0], [400, 0], [400, 60], [0, 60]], float))
    assert not docfind._elongated(np.array([[0, 0], [210, 0], [210, 297], [0, 297]], float))


def test_long_receipt_cut_short_of_its_end_is_asked_and_grown():
    """tune3 long_receipt/1010 at 1080p (its QR end under a shade): the answer ended 30 px short of it, 0.90 at 0.86 on
    main. Its long sides go on past that end for less than the receipt's width (``_receipt_reach``): asked, and grown
    to the end."""
    found = finds_desk_photo(1010, "long_receipt", (1920, 1080), 0.95, "tune3")
    assert found.score < docfind.CONFIDENT


def test_receipt_reach():
    """LONG_REACH of the short side for a receipt's shape; no limit for a page's."""
    receipt = np.array([[0, 0], [60, 0], [60, 400], [0, 400]], float)
    assert docfind._receipt_reach(receipt) == docfind.LONG_REACH * 60
    assert docfind._receipt_reach(np.array([[0, 0], [210, 0], [210, 297], [0, 297]], float)) == float("inf")


# Review of long12: a ruler is long and thin, so shaped as a receipt (``_elongated``); the closing filled its ticks and
# its print-free flatness (0.77-0.80) ranked it as paper. The photos (the review's repro), built here.
def _ruler(canvas, r, width, both):
    """A pale ruler on ``canvas`` at the box ``r``: dark 2 px ticks from its edge along one long side (60, 15-45 % of
    its width deep) or both (150, 15-45 % and 15-30 %)."""
    import cv2

    cv2.fillPoly(canvas, [np.round(r).astype(np.int32)], (200, 215, 225), cv2.LINE_AA)
    i = int(np.argmax([np.linalg.norm(r[(k + 1) % 4] - r[k]) for k in range(4)]))
    runs = [(r[i], r[(i + 1) % 4], r[(i + 2) % 4])]
    if both:
        runs.append((r[(i + 2) % 4], r[(i + 3) % 4], r[i]))
    ticks = 150 if both else 60
    for j, (a, b, c) in enumerate(runs):
        inward = (c - b) / np.linalg.norm(c - b)
        for k in range(1, ticks):
            p = a + (b - a) * k / ticks
            ln = width * ((0.45 if k % 10 == 0 else 0.3 if k % 5 == 0 else 0.18) if j == 0 else
                          (0.3 if k % 10 == 0 else 0.15))
            cv2.line(canvas, tuple(np.round(p).astype(int)), tuple(np.round(p + inward * ln).astype(int)),
                     (30, 30, 30), 2, cv2.LINE_AA)


def _card_beside_ruler(angle, size=(1920, 1080), seed=13):
    """An ID card (420 x 265 px) on the light desk beside an 850 x 85 px ruler at ``angle``, ticked on both sides."""
    import math

    import cv2

    from tests.support import imagegen as ig

    W, H = size
    rng = np.random.default_rng(seed)
    canvas = ig._desk(rng, H, W, math.hypot(W, H) / 2000, "light", "tune").astype(np.float32)
    card = cv2.boxPoints(((650, 540), (420, 265), 6)).astype(np.float64)
    side = math.sqrt(cv2.contourArea(card.astype(np.float32)))
    ig._paste(canvas, ig._render_page(rng, "id", 85.6, 54, 1.3 * side / math.sqrt(85.6 * 54)), card,
              shadow_px=1.5, shadow_strength=0.2, rng=rng)
    _ruler(canvas, cv2.boxPoints(((1350, 540), (850, 85), angle)).astype(np.float64), 85, both=True)
    return ig._camera(rng, canvas, 0.6, 0.0, 2.0, 85), ig.order_corners(card)


def _empty_desk_ruler(size=(1920, 1080), seed=1):
    """The mid desk with nothing but a 900 x 90 px ruler at 8 degrees, ticked along one side."""
    import math

    import cv2

    from tests.support import imagegen as ig

    W, H = size
    rng = np.random.default_rng(seed)
    canvas = ig._desk(rng, H, W, math.hypot(W, H) / 2000, "mid", "tune").astype(np.float32)
    _ruler(canvas, cv2.boxPoints(((900, 700), (900, 90), 8)).astype(np.float64), 90, both=False)
    return ig._camera(rng, canvas, 0.6, 0.0, 2.0, 85)


def test_card_beside_a_ruler_is_the_card():
    """The review's card beside a ruler (80 degrees, ticks on both sides): main 0.957 at 0.79, long12 the ruler (0.000
    at 0.47). A ruler's ticks start at its edge, a receipt's print 3-6 mm in (``_plain_margins``): no print-free
    flatness for it, and the card is found, as confidently as on main."""
    from tests.support import imagegen as ig

    image, truth = _card_beside_ruler(80)
    found = docfind.detect(image)
    assert found is not None and ig.quad_iou(found.corners, truth) >= 0.9
    assert found.score >= docfind.CONFIDENT


def test_ruler_on_an_empty_desk_is_asked():
    """The review's empty mid desk with a ruler: main returns it asked (0.68), long12 straightened it at 1.00."""
    found = docfind.detect(_empty_desk_ruler())
    assert found is None or found.score < docfind.CONFIDENT


def test_plain_margins():
    """A pale strip with ticks from its long side has no plain margin; with a column of print 4 px in from its sides
    it has (working px)."""
    import cv2

    quad = np.array([[20, 20], [70, 20], [70, 320], [20, 320]], float)
    image = np.full((340, 100, 3), 90, np.uint8)
    cv2.rectangle(image, (20, 20), (70, 320), (220, 225, 230), -1)
    printed = image.copy()
    for y in range(30, 310, 6):
        cv2.line(printed, (25, y), (65, y), (40, 40, 40), 1)
    assert docfind._plain_margins(printed, quad)
    ticked = image.copy()
    for y in range(22, 320, 3):
        cv2.line(ticked, (20, y), (26, y), (40, 40, 40), 1)
    assert not docfind._plain_margins(ticked, quad)


def test_two_detects_in_two_threads_each_keep_their_own_print_free_mask():
    # The print-free mask is kept for the one detect call running in a thread (docfind._PRINT_FREE, thread-local) and
    # dropped when it returns: two long receipts found at once in two threads get the answers they get one by one.
    import threading

    from tests.support import imagegen

    photos = [imagegen.desk_photo(seed, "long_receipt", (1920, 1080), "tune") for seed in (1002, 1011)]
    alone = [docfind.detect(p.image) for p in photos]
    together: dict = {}
    threads = [threading.Thread(target=lambda i=i: together.__setitem__(i, docfind.detect(photos[i].image)))
               for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(2):
        assert np.array_equal(together[i].corners, alone[i].corners) and together[i].score == alone[i].score
    assert getattr(docfind._PRINT_FREE, "slot", None) is None
