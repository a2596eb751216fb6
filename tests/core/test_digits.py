"""Digits for Arabic text: Eastern Arabic, and numbers with separators kept in their written order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edge.core.digits import LRI, LRM, PDI, eastern_run, to_ascii, to_eastern

STRIP = dict.fromkeys(map(ord, LRI + PDI + LRM))


def test_a_request_number_is_an_isolated_left_to_right_run_with_marked_separators():
    assert eastern_run("007-261121-0001-5") == f"{LRI}٠٠٧{LRM}-{LRM}٢٦١١٢١{LRM}-{LRM}٠٠٠١{LRM}-{LRM}٥{PDI}"
    assert eastern_run("29*****0101") == f"{LRI}٢٩{LRM}*****{LRM}٠١٠١{PDI}"


def test_a_plain_number_or_a_text_without_digits_is_only_converted():
    assert eastern_run(3) == "٣" and eastern_run("2026") == "٢٠٢٦" and eastern_run("—") == "—"


@given(st.text(alphabet="0123456789-*: /.", max_size=30))
def test_what_is_drawn_is_the_number_itself(text):
    run = eastern_run(text)
    assert run.translate(STRIP) == to_eastern(text)
    assert to_ascii(run.translate(STRIP)) == text
    assert run.count(LRI) == run.count(PDI) <= 1
