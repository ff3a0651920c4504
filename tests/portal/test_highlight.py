"""Cutting a checked text into highlighted segments."""

from __future__ import annotations

import pytest

from appliance.portal.highlight import segments


def finding(
    start: int | None, end: int | None, severity: str = "medium"
) -> dict[str, object]:
    return {"start": start, "end": end, "severity": severity}


def test_no_findings_one_plain_segment():
    result = segments("plain text", [])
    assert [(s.text, s.findings) for s in result] == [("plain text", [])]


def test_one_finding_marks_its_span():
    result = segments("we guarantee returns", [finding(3, 12, "high")])
    assert [(s.text, s.findings) for s in result] == [
        ("we ", []),
        ("guarantee", [1]),
        (" returns", []),
    ]
    assert result[1].severity == "high"


def test_overlapping_findings_share_segment():
    text = "abcdefghij"
    result = segments(text, [finding(2, 6, "low"), finding(4, 8, "high")])
    assert [(s.text, s.findings, s.severity) for s in result] == [
        ("ab", [], ""),
        ("cd", [1], "low"),
        ("ef", [1, 2], "high"),
        ("gh", [2], "high"),
        ("ij", [], ""),
    ]


@pytest.mark.parametrize(
    "bad",
    [finding(None, None), finding(5, 3), finding(-1, 2), finding(0, 99)],
)
def test_unusable_offsets_ignored(bad):
    result = segments("short text", [bad])
    assert [(s.text, s.findings) for s in result] == [("short text", [])]


def test_segments_rebuild_text():
    text = "x" * 50
    result = segments(text, [finding(0, 10), finding(5, 50), finding(20, 21)])
    assert "".join(s.text for s in result) == text
