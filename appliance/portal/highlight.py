"""Split a checked text into plain and highlighted segments, one highlight
per span of text that one or more findings point at."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any


@dataclass
class Segment:
    text: str
    # 1-based numbers of the findings whose evidence covers this segment.
    findings: list[int] = field(default_factory=list)
    severity: str = ""


SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def segments(text: str, findings: list[dict[str, Any]]) -> list[Segment]:
    """Cut ``text`` at every finding's start and end offset. Overlapping
    findings share the segments they overlap on; offsets outside the text
    are ignored."""
    spans = [
        (number, finding)
        for number, finding in enumerate(findings, start=1)
        if _valid_span(finding, len(text))
    ]
    cuts = {0, len(text)}
    for _, finding in spans:
        cuts.update((finding["start"], finding["end"]))
    bounds = sorted(cuts)

    result: list[Segment] = []
    for start, end in pairwise(bounds):
        covering = [
            (number, finding)
            for number, finding in spans
            if finding["start"] <= start and end <= finding["end"]
        ]
        severities = [str(finding.get("severity", "")) for _, finding in covering]
        result.append(
            Segment(
                text=text[start:end],
                findings=[number for number, _ in covering],
                severity=max(severities, key=_rank, default=""),
            )
        )
    return result


def _valid_span(finding: dict[str, Any], length: int) -> bool:
    start, end = finding.get("start"), finding.get("end")
    return (
        isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= length
    )


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.get(severity, 0)
