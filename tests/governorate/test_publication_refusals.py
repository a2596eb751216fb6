"""The van's refusal of a publication as not newer than the one it holds (governorate.refusals), word for word as
edge.sync.downlink says it: a van that holds it (no failure), not one that failed."""

from __future__ import annotations

from governorate import refusals

LARGEST = 2**63 - 1  # a publication's version: up to a signed 64-bit integer, 19 digits


def test_each_of_the_vans_not_newer_sentences_says_it_holds_the_publication():
    assert refusals.holds_it("catalogue v5 is not newer than v7")
    assert refusals.holds_it("holidays v3 are not newer than v3")
    assert refusals.holds_it("trust list v2 is not newer than the cached v9")
    assert not refusals.holds_it("catalogue v7 is not newer than v5")  # cannot come from the van
    assert not refusals.holds_it("catalogue v5 is invalid: x")
    assert not refusals.holds_it("the trust list is not signed by the governorate CA")
    assert not refusals.holds_it(None)


def test_a_refusal_of_a_version_of_nineteen_digits_is_read_as_not_newer():
    # Review: the pattern read at most 18 digits, so a refusal near the largest version was taken for a failure.
    assert len(str(LARGEST)) == 19
    assert refusals.holds_it(f"catalogue v{LARGEST} is not newer than v{LARGEST}")
    assert refusals.holds_it(f"trust list v{LARGEST - 1} is not newer than the cached v{LARGEST}")
    assert refusals.holds_it(f"holidays v7 are not newer than v{LARGEST}")
    assert not refusals.holds_it(f"catalogue v{LARGEST}0 is not newer than v{LARGEST}0")  # 20 digits: not the van's
