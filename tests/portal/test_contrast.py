"""Colour contrast of the portal's stylesheet, by the WCAG 2.1 formula:
4.5:1 for text, 3:1 for the focus outline against what surrounds it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (
    Path(__file__).resolve().parents[2] / "appliance/portal/static/portal/portal.css"
).read_text()
VARIABLES = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-f]{6})", CSS))
WHITE = "#ffffff"
PAGE = "#f4f6f9"
MARK = "#ffe58a"
MARK_HIGH = "#ffd0d0"
MESSAGE = "#e8f0fb"


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("foreground", "background"),
    [
        ("ink", WHITE),
        ("ink", PAGE),
        ("ink", MARK),
        ("ink", MARK_HIGH),
        ("muted", WHITE),
        ("muted", PAGE),
        ("link", WHITE),
        ("link", PAGE),
        ("link", MARK),
        ("link", MARK_HIGH),
        ("link", MESSAGE),
        ("fail", WHITE),
    ],
)
def test_text_contrast(foreground, background):
    assert contrast(VARIABLES[foreground], background) >= 4.5


@pytest.mark.parametrize("badge", ["fail", "review", "pass", "link", "brand"])
def test_white_text_on_badges(badge):
    assert contrast(WHITE, VARIABLES[badge]) >= 4.5


@pytest.mark.parametrize("background", [WHITE, PAGE, "brand"])
def test_focus_outline_visible(background):
    colour = VARIABLES.get(background, background)
    assert contrast(VARIABLES["focus"], colour) >= 3.0


def test_stylesheet_colours_found():
    assert set(VARIABLES) >= {"ink", "muted", "link", "focus", "fail", "brand"}
