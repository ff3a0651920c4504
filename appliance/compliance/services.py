"""The compliance check: patterns and the model over a text, merged into a
schema-valid verdict.

Pipeline for one job: open the sealed input, redact it in the job's scope,
run every rule's patterns over the original text, ask the model about every
rule over the redacted text (in chunks for long texts), and merge. The
deterministic patterns carry the clear cases; the model adds doubt, which
goes to review rather than to a verdict of its own.
"""

from __future__ import annotations

import logging
from typing import Any

import jsonschema
from django.utils import timezone

from appliance.audit.services import Actor, record
from appliance.compliance import prompts
from appliance.compliance.patterns import PatternHit, match_rule
from appliance.compliance.prompts import ModelJudgment
from appliance.compliance.rulebook import DEFAULT_RULEBOOK, Rule, Rulebook, load
from appliance.compliance.schema import VERDICT_SCHEMA
from appliance.inference import client
from appliance.inference.registry import engine_for
from appliance.jobs import payloads
from appliance.jobs.execution import Lease
from appliance.jobs.models import Job, State, Workload
from appliance.privacy import residual
from appliance.privacy.redaction import TOKEN_PATTERN, Redaction, redact, reidentify_all

logger = logging.getLogger(__name__)

# A model-only finding (no pattern hit) goes to review only at or above this
# confidence; below it the model's "true" is treated as noise.
MODEL_ONLY_CONFIDENCE = 0.75
# A weak pattern hit with the model agreeing below this confidence goes to
# review instead of failing.
AGREEMENT_CONFIDENCE = 0.6


def scope_for(job_id: object) -> str:
    return f"job:{job_id}"


def process_job(lease: Lease) -> dict[str, Any]:
    """Run the check for a claimed job and return the verdict to store."""
    job = lease.job
    text = payloads.read_input(job)["text"]
    rulebook = load(job.options.get("rulebook", DEFAULT_RULEBOOK))

    cached = payloads.read_redacted(job)
    if cached is None:
        lease.advance(State.REDACTING)
        redaction = redact(text, scope_id=scope_for(job.id), owner_id=job.owner_id)
        lease.store_redacted(redaction.to_dict())
        record(
            "job.redacted",
            actor=job.owner,
            object_type="job",
            object_id=job.id,
            details={"entities": redaction.counts()},
        )
    else:
        redaction = Redaction.from_dict(cached)

    lease.advance(State.INFERRING)
    return check(text, redaction, rulebook, subject_id=str(job.id))


def check(
    text: str, redaction: Redaction, rulebook: Rulebook, *, subject_id: str
) -> dict[str, Any]:
    """Build the verdict for ``text`` (original) and its redaction."""
    hits = {rule.id: match_rule(rule, text) for rule in rulebook.rules}
    judgments, usage = ask_model(redaction.text, rulebook, subject_id=subject_id)
    findings: list[dict[str, Any]] = []
    for rule in rulebook.rules:
        findings += merge_rule(rule, hits[rule.id], judgments[rule.id], text)

    statuses = {finding["status"] for finding in findings}
    if "fail" in statuses:
        verdict = "fail"
    elif "needs_review" in statuses:
        verdict = "needs_review"
    else:
        verdict = "pass"
    result = {
        "verdict": verdict,
        "rulebook": {"id": rulebook.id, "version": rulebook.version},
        "findings": findings,
        "model": usage,
        "redaction": {"entities": redaction.counts()},
        "checked_at": timezone.now().isoformat(),
    }
    jsonschema.validate(result, VERDICT_SCHEMA)
    return result


def ask_model(
    redacted: str, rulebook: Rulebook, *, subject_id: str
) -> tuple[dict[str, ModelJudgment], dict[str, Any]]:
    """Ask the engine about every rule, one call per chunk of the text."""
    engine = engine_for(Workload.COMPLIANCE_CHECK)
    judgments = {
        rule.id: ModelJudgment(violated=False, confidence=None)
        for rule in rulebook.rules
    }
    usage: dict[str, Any] = {
        "engine": engine.name,
        "kind": engine.kind,
        "model": engine.model,
        "model_version": engine.model_version,
        "calls": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "latency_ms": 0,
    }
    for chunk in prompts.chunks(redacted):
        request = prompts.build_request(chunk, rulebook)
        result = client.complete(
            engine,
            request,
            preflight=residual.ensure_clean,
            workload=Workload.COMPLIANCE_CHECK,
            subject_id=subject_id,
        )
        usage["calls"] += 1
        usage["prompt_tokens"] += result.prompt_tokens
        usage["completion_tokens"] += result.completion_tokens
        usage["latency_ms"] += result.latency_ms
        for rule in rulebook.rules:
            judgment = prompts.read_judgment(result, rule)
            current = judgments[rule.id]
            if (
                judgment.violated
                and (
                    not current.violated
                    or (judgment.confidence or 0) > (current.confidence or 0)
                )
            ) or (not current.violated and current.confidence is None):
                judgments[rule.id] = judgment
    return judgments, usage


def merge_rule(
    rule: Rule,
    hits: list[PatternHit],
    judgment: ModelJudgment,
    text: str,
) -> list[dict[str, Any]]:
    """Turn one rule's pattern hits and model judgment into findings."""
    confidence = judgment.confidence
    agrees = judgment.violated and (confidence or 0) >= AGREEMENT_CONFIDENCE
    findings = []
    for hit in hits:
        if hit.strength == "strong":
            status = "fail"
            explanation = "A pattern for this rule matched"
        elif agrees:
            status = "fail"
            explanation = "A pattern for this rule matched and the model agreed"
        else:
            status = "needs_review"
            explanation = (
                "A pattern for this rule matched but the model did not confirm it"
            )
        findings.append(
            _finding(
                rule,
                status,
                "pattern",
                hit.start,
                hit.end,
                text,
                confidence,
                f"{explanation}: {rule.title.lower()}.",
            )
        )
    if hits or not judgment.violated or (confidence or 0) < MODEL_ONLY_CONFIDENCE:
        return findings

    # The model names no span, so a model-only finding has no evidence offsets.
    findings.append(
        _finding(
            rule,
            "needs_review",
            "model",
            None,
            None,
            text,
            confidence,
            f"The model flagged this rule without a matching pattern: "
            f"{rule.title.lower()}.",
        )
    )
    return findings


def _finding(
    rule: Rule,
    status: str,
    source: str,
    start: int | None,
    end: int | None,
    text: str,
    confidence: float | None,
    explanation: str,
) -> dict[str, Any]:
    return {
        "rule_id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "status": status,
        "source": source,
        "start": start,
        "end": end,
        "evidence": text[start:end] if start is not None and end is not None else None,
        "explanation": explanation,
        "confidence": confidence,
    }


def result_for(job: Job, requester: Actor) -> dict[str, Any] | None:
    """Return the job's verdict to its owner or to the reviewer it is routed
    to, and None to anyone else or while there is no result. Pseudonyms are
    put back for the owner only."""
    if requester.pk not in (job.owner_id, job.reviewer_id):
        return None
    result = payloads.read_result(job)
    if result is None or requester.pk != job.owner_id:
        return result
    findings = result.get("findings", [])
    texts = [finding["explanation"] for finding in findings]
    if any(TOKEN_PATTERN.search(text) for text in texts):
        restored = reidentify_all(
            texts, scope_id=scope_for(job.id), requester=requester
        )
        for finding, text in zip(findings, restored, strict=True):
            finding["explanation"] = text
    return result
