"""docfind's speed-ups of 2026-12-07 (branch finder-speed11): the faster helpers give the same values to the bit as
the code they replace (the finder's answers must not move; bench/finder_compare.py --eps 0 checks whole photos)."""
from __future__ import annotations

import cv2
import numpy as np

from edge.devices.scanner import docfind


def test_fit_one_equals_fit_many_to_the_bit():
    """One line's refit (the merge of chain segments) gives ``_fit_many``'s normal and offset exactly."""
    rng = np.random.default_rng(11)
    for _ in range(500):
        pts = rng.uniform(0, 640, 2) + rng.normal(0, 3, (rng.integers(2, 60), 2))
        w = rng.uniform(0.1, 40, len(pts))
        x, y = pts[:, 0], pts[:, 1]
        sums = np.array([w.sum(), (w * x).sum(), (w * y).sum(), (w * x * x).sum(), (w * x * y).sum(),
                         (w * y * y).sum()])
        n, r = docfind._fit_many(sums[None])
        (nx, ny), rho = docfind._fit_one(sums)
        assert (nx, ny, rho) == (n[0, 0], n[0, 1], r[0])


def test_vertex_places_finds_every_pass_of_a_chain():
    """A chain passing a pixel twice (an edge one pixel thick is walked out and back) lists both places, ascending,
    on its own chain only."""
    chain = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [2, 0], [1, 0]], np.int32)
    other = np.array([[1, 0], [5, 5]], np.int32)
    poly = np.array([[0, 0], [3, 0], [1, 0]], np.int32)
    pts, places, lo, hi, firsts = docfind._vertex_places([chain, other], [poly, other[:1]])
    assert firsts == [0, len(chain)]
    assert np.array_equal(pts, np.concatenate([chain, other]))
    assert [places[lo[v]:hi[v]] for v in range(4)] == [[0], [3], [1, 5], [6]]


def _segments_one_by_one(edges):
    """``_segments`` as it was before 2026-12-07: each vertex looked up along its chain on its own."""
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    pieces, lengths, ends = [], [], []
    for c in contours:
        if len(c) < 2 * docfind.MIN_SEGMENT:
            continue
        approx = cv2.approxPolyDP(c, 1.5, False).reshape(-1, 2)
        seg_len = np.hypot(*(approx[1:] - approx[:-1]).T)
        c = c.reshape(-1, 2)
        codes = c[:, 0].astype(np.int64) * 65536 + c[:, 1]
        prev = 0
        for k in np.flatnonzero(seg_len >= docfind.MIN_SEGMENT):
            hits = np.flatnonzero(codes[prev:] == int(approx[k, 0]) * 65536 + int(approx[k, 1]))
            if len(hits) == 0:
                continue
            a = prev + int(hits[0])
            hits = np.flatnonzero(codes[a + 1:] == int(approx[k + 1, 0]) * 65536 + int(approx[k + 1, 1]))
            if len(hits) == 0:
                continue
            b = a + 1 + int(hits[0])
            prev = b
            pieces.append(c[a:b + 1])
            lengths.append(seg_len[k])
            ends.append(approx[k:k + 2])
    return pieces, np.array(lengths, np.float64), np.array(ends, np.float64).reshape(-1, 2, 2)


def test_segments_as_one_by_one():
    """The straight pieces of a page's outline, a crossing and noise: the same as looked up one at a time."""
    rng = np.random.default_rng(3)
    edges = np.zeros((240, 320), np.uint8)
    cv2.polylines(edges, [np.array([[40, 30], [280, 50], [260, 200], [50, 190]], np.int32)], True, 255, 1)
    cv2.line(edges, (10, 120), (310, 110), 255, 1)
    cv2.ellipse(edges, (160, 120), (60, 30), 15, 0, 300, 255, 1)
    edges[rng.random(edges.shape) < 0.01] = 255
    got, want = docfind._segments(edges), _segments_one_by_one(edges)
    assert len(got[0]) == len(want[0]) > 4
    assert all(np.array_equal(a, b) for a, b in zip(got[0], want[0], strict=True))
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])
