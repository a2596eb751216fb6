"""The page finder on occluder photos at 1920x1080: a page cut by a shade's edge running from one of its own corners,
turned about that corner; a card cut at its code's edge, grown past the row of print (2026-12-07, branch
finder-occl9)."""

from __future__ import annotations

from edge.devices.scanner import docfind
from tests.support.finder_checks import finds_desk_photo


def test_a_page_cut_by_a_shade_from_its_own_corner_is_turned_about_it():
    # tune2 occluder seed 1242 at 1920x1080: a page on a mauve desk, a shade over its far part; the answer's side ran
    # from the page's own corner diagonally along the shade's edge (base: IoU 0.874, asked by docfind._cut_past). One
    # neighbour goes on past the cut, the other ends at its corner: docfind._pivot_on grows the one along the page's
    # edge under the shade, keeping the corner.
    found = finds_desk_photo(1242, "occluder", (1920, 1080), at_least=0.95, split="tune2")
    assert found.score < docfind.CONFIDENT


def test_a_card_cut_at_its_codes_edge_is_grown_past_the_print():
    # tune3 occluder seed 1235 at 1920x1080: an ID card (a band along its left side, a code at its top) on a pale
    # desk, a fork over the band; the answer, asked, ended at the code's lower edge (base: IoU 0.65). Both sides go on
    # past the cut, print just beyond it (docfind._print_past): grown along them to the card's top.
    found = finds_desk_photo(1235, "occluder", (1920, 1080), at_least=0.95, split="tune3")
    assert found.score < docfind.CONFIDENT
