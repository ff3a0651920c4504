"""Normalization before analysis, and the map back to the original text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.privacy.normalization import LONG_WORD, normalize

ZERO_WIDTH = "\u200b"


@pytest.mark.parametrize(
    ("original", "normalized"),
    [
        ("536\u200b-22-8190", "536-22-8190"),
        ("\uff14\uff11\uff11\uff11 1111", "4111 1111"),
        ("j\u043ehn@example.com", "john@example.com"),
        ("536\u201322\u20138190", "536-22-8190"),
        ("Jo\u00adanna", "Joanna"),
        ("\u202e536-22-8190\u202c", "536-22-8190"),
        ("123-45-\n6789", "123-45-6789"),
        ("4111 1111\n1111 1111", "4111 1111 1111 1111"),
        ("Dear Maria\nLopez,", "Dear Maria Lopez,"),
        ("Name: Maria\nDepartment: HR", "Name: Maria\nDepartment: HR"),
        ("## Leave\nEmployees may", "## Leave\nEmployees may"),
        ("SSN 123-45-67O9", "SSN 123-45-6709"),
        ("bc1qy5l643", "bc1qy5l643"),
        ("Name | Email\nAda Obi | a@x.example", "Name | Email\nAda Obi | a@x.example"),
        ("name,email\nAda Obi,a@x.example", "name,email\nAda Obi,a@x.example"),
        ("Name\tTeam\nAda Obi\tRisk", "Name\tTeam\nAda Obi\tRisk"),
        ("the fee of $1,200 is\ndue today", "the fee of $1,200 is due today"),
    ],
)
def test_normalize_table(original, normalized):
    assert normalize(original).text == normalized


def test_span_maps_back_over_removed_characters():
    original = "SSN: 536\u200b-22-8190."
    result = normalize(original)
    start = result.text.index("536")
    end = start + len("536-22-8190")

    mapped = result.to_original(start, end)

    assert original[mapped[0] : mapped[1]] == "536\u200b-22-8190"


def test_span_maps_back_over_joined_line_break():
    original = "call (212) 555-\n0139 now"
    result = normalize(original)
    start = result.text.index("(212)")
    end = result.text.index(" now")

    assert result.to_original(start, end) == (5, original.index(" now"))


def test_span_maps_back_over_expanded_character():
    original = "\ufb01le by Maria"  # the ligature "fi" becomes two letters
    result = normalize(original)

    assert result.text == "file by Maria"
    start = result.text.index("Maria")
    mapped = result.to_original(start, start + 5)
    assert original[mapped[0] : mapped[1]] == "Maria"


def test_nlp_variant_splits_long_symbol_runs():
    text = "(" * (LONG_WORD * 3) + " Maria"
    result = normalize(text)

    assert len(result.nlp_text) == len(result.text)
    assert "(" not in result.nlp_text
    assert result.nlp_text.endswith(" Maria")


def test_nlp_variant_keeps_ordinary_words():
    text = "Maria Lopez lives at 1428 Elm Street."

    assert normalize(text).nlp_text == text


@given(
    st.lists(
        st.sampled_from(
            ["a", "1", "-", " ", "\n", ZERO_WIDTH, "\uff15", "\u00ad", "é"]
        ),
        max_size=60,
    )
)
def test_every_normalized_span_maps_inside_the_original(pieces):
    original = "".join(pieces)
    result = normalize(original)
    for start in range(len(result.text)):
        for end in range(start + 1, len(result.text) + 1):
            mapped_start, mapped_end = result.to_original(start, end)
            assert 0 <= mapped_start <= len(original)
            assert mapped_start <= mapped_end <= len(original)
