"""Merging one rule's pattern hits and model judgment into findings.

The deterministic patterns carry the clear cases, because the small CPU
model misjudges plain violations. So a strong pattern hit fails whatever
the model answers; a weak hit fails only when the model confirms it with
enough confidence, and goes to review otherwise; and the model alone, on a
rule no pattern matched, can only send the text to review, and only with
high confidence. Confidence is the engine's token probability, never a
figure the model writes.
"""

from __future__ import annotations

from typing import Any

from appliance.compliance.patterns import PatternHit
from appliance.compliance.prompts import ModelJudgment
from appliance.compliance.rulebook import Rule, Rulebook

# A weak pattern hit fails when the engine's probability for "violated" is at
# least this; below it the finding goes to review. SmolLM2-135M answered
# "violated" with probabilities of 0.56 to 0.64 on compliant texts with weak
# hits, so a lower bar would let its noise fail them.
AGREEMENT_CONFIDENCE = 0.8
# A model-only finding (no pattern hit) goes to review when the engine's
# probability for "violated" is at least this. Below it the model's "true" is
# treated as noise.
# NOTE: a guess, set well above the 0.56-0.64 that SmolLM2-135M gave on the
# texts probed; screening was not run over the benchmark (docs/compliance.md).
MODEL_ONLY_CONFIDENCE = 0.97


def merge_rule(
    rule: Rule,
    rulebook: Rulebook,
    hits: list[PatternHit],
    judgment: ModelJudgment | None,
    text: str,
) -> list[dict[str, Any]]:
    """Turn one rule's pattern hits and model judgment into findings.
    ``judgment`` is None when the model was not asked (patterns only)."""
    probability = judgment.violation_probability if judgment else None
    agrees = judgment is not None and (probability or 0) >= AGREEMENT_CONFIDENCE
    findings = []
    for hit in hits:
        if hit.strength == "strong":
            status = "fail"
            explanation = "A strong pattern for this rule matched"
        elif agrees:
            status = "fail"
            explanation = "A pattern for this rule matched and the model agreed"
        else:
            status = "needs_review"
            explanation = (
                "A weak pattern for this rule matched but the model did not confirm it"
            )
        finding = _finding(rule, rulebook, status, "pattern", hit, text, probability)
        finding["explanation"] = f"{explanation}: {rule.title.lower()}."
        findings.append(finding)
    if hits or judgment is None or (probability or 0) < MODEL_ONLY_CONFIDENCE:
        return findings

    # The model names no span, so a model-only finding has no evidence offsets.
    finding = _finding(rule, rulebook, "needs_review", "model", None, text, probability)
    finding["explanation"] = (
        f"The model flagged this rule without a matching pattern: {rule.title.lower()}."
    )
    return [finding]


def _finding(
    rule: Rule,
    rulebook: Rulebook,
    status: str,
    source: str,
    hit: PatternHit | None,
    text: str,
    probability: float | None,
) -> dict[str, Any]:
    start = hit.start if hit else None
    end = hit.end if hit else None
    return {
        "rule_id": rule.id,
        "rulebook_version": rulebook.version,
        "title": rule.title,
        "severity": rule.severity,
        "status": status,
        "source": source,
        "strength": hit.strength if hit else None,
        "start": start,
        "end": end,
        "evidence": text[start:end] if hit else None,
        "explanation": "",
        "confidence": probability,
    }


def overall_verdict(findings: list[dict[str, Any]]) -> str:
    statuses = {finding["status"] for finding in findings}
    if "fail" in statuses:
        return "fail"
    if "needs_review" in statuses:
        return "needs_review"
    return "pass"
