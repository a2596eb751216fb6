"""docfind on an arm or a hand over a pale page, outlined instead of the page (the `occluder` condition; branch
finder-occl10).

A hand's skin steps far more against a pale desk than a white receipt's sides do, so the first search outlined the arm
(asked, IoU 0.03-0.16) and the amplified search, run only when nothing was found, never looked for the receipt
(``_object_instead``)."""

from __future__ import annotations

import numpy as np

from edge.devices.scanner import docfind
from tests.support.finder_checks import finds_desk_photo


def test_an_arm_over_a_pale_receipt_gives_way_to_the_receipt():
    """tune occluder/1197 at 1080p (an arm over a white receipt on a pale desk): the arm's outline, 0.16 at 0.53 on
    main; the receipt now (IoU >= 0.97), asked."""
    found = finds_desk_photo(1197, "occluder", (1920, 1080), 0.97)
    assert found.score < docfind.CONFIDENT


def test_a_hand_reaching_onto_a_receipt_gives_way_to_the_receipt():
    """tune occluder/1188 at 1080p (a hand over a receipt's top on a pale desk): the arm alone on main (0.03); the
    receipt cut where the hand lies now (0.72), asked."""
    found = finds_desk_photo(1188, "occluder", (1920, 1080), 0.7)
    assert found.score < docfind.CONFIDENT


def _scene(object_colour):
    """A 400 x 300 working image: a pale desk, a white page (100..220 x 80..260) and a 40 px wide bar of
    ``object_colour`` from the top of the photo onto the page's top side."""
    small = np.full((300, 400, 3), 200, np.uint8)
    small[80:260, 100:220] = 245
    small[0:120, 140:180] = object_colour
    return small


def test_inside_colour():
    """The median chroma and brightness inside a quad, 2 px in; grey photos have none."""
    small = _scene((60, 140, 200))
    chroma, bright = docfind._inside_colour(small, np.array([[140, 0], [179, 0], [179, 119], [140, 119]], float))
    assert chroma == 140 and abs(bright - 400 / 3) < 1
    chroma, bright = docfind._inside_colour(small, np.array([[100, 130], [219, 130], [219, 259], [100, 259]], float))
    assert chroma == 0 and bright == 245
    assert docfind._inside_colour(small[..., 0], np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)) == (0, 0)


def test_object_instead_leaves_a_confident_or_grey_answer():
    """Only an asked answer (NO_PAGE to CONFIDENT) whose inside is coloured is looked at again."""
    small = _scene((128, 128, 128))  # a grey bar: no colour, no second look
    bar = np.array([[140, 0], [179, 0], [179, 119], [140, 119]], float)
    assert docfind._object_instead(small, (bar, 0.5, 0.1, 0.5, 0)) is None
    assert docfind._object_instead(_scene((60, 140, 200)), (bar, 0.9, 0.1, 0.5, 0)) is None
    assert docfind._object_instead(small, None) is None
