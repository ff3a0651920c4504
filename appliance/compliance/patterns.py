"""The deterministic layer: each rule's patterns over the original text."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.compliance.rulebook import Rule


@dataclass(frozen=True)
class PatternHit:
    rule_id: str
    strength: str  # "strong" or "weak"
    start: int
    end: int


def match_rule(rule: Rule, text: str) -> list[PatternHit]:
    """Return the rule's pattern hits in ``text``.

    A rule with ``context`` patterns has no hits unless one of them matches
    somewhere in the text. An ``unless`` match cancels the strong hits it
    overlaps ("returns are not guaranteed") and, wherever it is in the text,
    every weak hit (a risk disclosure anywhere covers a performance figure
    anywhere). With ``unless_scope`` "text" it cancels strong hits anywhere
    as well.
    """
    if rule.context and not any(pattern.search(text) for pattern in rule.context):
        return []
    exceptions = [
        (m.start(), m.end()) for pattern in rule.unless for m in pattern.finditer(text)
    ]
    if exceptions and rule.unless_scope == "text":
        return []
    hits = [
        PatternHit(rule.id, "strong", m.start(), m.end())
        for pattern in rule.strong
        for m in pattern.finditer(text)
        if not any(m.start() < end and start < m.end() for start, end in exceptions)
    ]
    if not exceptions:
        hits += [
            PatternHit(rule.id, "weak", m.start(), m.end())
            for pattern in rule.weak
            for m in pattern.finditer(text)
        ]
    return _merge(hits)


def _merge(hits: list[PatternHit]) -> list[PatternHit]:
    """Merge overlapping hits; a merged hit is strong if any part was."""
    merged: list[PatternHit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if merged and hit.start < merged[-1].end:
            last = merged[-1]
            strength = "strong" if "strong" in (last.strength, hit.strength) else "weak"
            merged[-1] = PatternHit(
                last.rule_id, strength, last.start, max(last.end, hit.end)
            )
        else:
            merged.append(hit)
    return merged
