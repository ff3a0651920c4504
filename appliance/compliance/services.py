"""The compliance check: patterns and the model over a text, merged into a
schema-valid verdict.

Pipeline for one job: open the sealed input, redact it in the job's scope,
run every applicable rule's patterns over the original text, ask the model
about those rules over the redacted text (in chunks for long texts), and
merge (see ``merge``). A fail or needs_review verdict opens a review.
"""

from __future__ import annotations

import logging
from typing import Any

import jsonschema
from django.conf import settings
from django.utils import timezone

from appliance.audit.services import Actor, record
from appliance.compliance import prompts, reviews, store
from appliance.compliance.merge import merge_rule, overall_verdict
from appliance.compliance.patterns import PatternHit, match_rule
from appliance.compliance.prompts import ModelJudgment
from appliance.compliance.rulebook import DEFAULT_RULEBOOK, Rule, Rulebook
from appliance.compliance.schema import VERDICT_SCHEMA
from appliance.inference import client
from appliance.inference.registry import engine_for
from appliance.jobs import payloads
from appliance.jobs.execution import Lease
from appliance.jobs.models import Job, State, Workload
from appliance.privacy import residual
from appliance.privacy.redaction import TOKEN_PATTERN, Redaction, redact, reidentify_all

logger = logging.getLogger(__name__)


def scope_for(job_id: object) -> str:
    return f"job:{job_id}"


def check_options(
    rulebook_id: str = DEFAULT_RULEBOOK, **filters: str | None
) -> dict[str, Any]:
    """Build a job's options: the rulebook with its current version pinned,
    so that a job processed or retried later runs against the version that
    was current at submission, and the channel, product and audience given.
    Raises RulebookError for an unknown rulebook."""
    options: dict[str, Any] = {
        "rulebook": rulebook_id,
        "rulebook_version": store.load(rulebook_id).version,
    }
    options.update({name: value for name, value in filters.items() if value})
    return options


def rulebook_for(options: dict[str, Any]) -> Rulebook:
    """The rulebook version a job with ``options`` is checked against,
    limited to the rules that apply to its channel, product and audience."""
    rulebook = store.load(
        options.get("rulebook", DEFAULT_RULEBOOK), options.get("rulebook_version")
    )
    return rulebook.applicable(options)


def process_job(lease: Lease) -> dict[str, Any]:
    """Run the check for a claimed job and return the verdict to store."""
    job = lease.job
    text = payloads.read_input(job)["text"]
    rulebook = rulebook_for(job.options)

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
    result = check(text, redaction, rulebook, subject_id=str(job.id))
    reviews.open_review(job, result)
    return result


def check(
    text: str,
    redaction: Redaction,
    rulebook: Rulebook,
    *,
    subject_id: str,
    use_model: bool = True,
    screening: bool | None = None,
) -> dict[str, Any]:
    """Build the verdict for ``text`` (original) and its redaction. With
    ``use_model`` False only the patterns decide (the accuracy benchmark's
    baseline). ``screening`` overrides settings.COMPLIANCE_MODEL_SCREENING."""
    hits = {rule.id: match_rule(rule, text) for rule in rulebook.rules}
    judgments: dict[str, ModelJudgment] = {}
    usage = _usage(rulebook)
    asked = rules_to_ask(rulebook, hits, screening=screening) if use_model else []
    usage["rules_asked"] = [rule.id for rule in asked]
    if asked:
        subset = Rulebook(rulebook.id, rulebook.version, rulebook.title, tuple(asked))
        judgments = ask_model(redaction.text, subset, usage, subject_id=subject_id)
    findings: list[dict[str, Any]] = []
    for rule in rulebook.rules:
        judgment = judgments.get(rule.id)
        findings += merge_rule(rule, rulebook, hits[rule.id], judgment, text)

    verdict = overall_verdict(findings)
    result = {
        "verdict": verdict,
        "rulebook": {
            "id": rulebook.id,
            "version": rulebook.version,
            "content_hash": rulebook.content_hash,
        },
        "rules_checked": [rule.id for rule in rulebook.rules],
        "findings": findings,
        "model": usage,
        "redaction": {"entities": redaction.counts()},
        "suggest_escalation": verdict == "needs_review",
        "checked_at": timezone.now().isoformat(),
    }
    jsonschema.validate(result, VERDICT_SCHEMA)
    return result


def rules_to_ask(
    rulebook: Rulebook,
    hits: dict[str, list[PatternHit]],
    *,
    screening: bool | None = None,
) -> list[Rule]:
    """The rules whose findings the model's answer can change: those with
    weak hits and no strong one, and, with screening on, those with no hit
    at all. A strong hit fails whatever the model answers, so asking about
    it would only cost time."""
    if screening is None:
        screening = settings.COMPLIANCE_MODEL_SCREENING
    asked = []
    for rule in rulebook.rules:
        strengths = {hit.strength for hit in hits[rule.id]}
        if strengths == {"weak"} or (screening and not strengths):
            asked.append(rule)
    return asked


def _usage(rulebook: Rulebook) -> dict[str, Any]:
    engine = engine_for(Workload.COMPLIANCE_CHECK)
    return {
        "engine": engine.name,
        "kind": engine.kind,
        "model": engine.model,
        "model_version": engine.model_version,
        "engine_model": "",
        "prompt_hash": prompts.prompt_hash(rulebook),
        "schema_hash": prompts.schema_hash(rulebook),
        "calls": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "latency_ms": 0,
    }


def ask_model(
    redacted: str, rulebook: Rulebook, usage: dict[str, Any], *, subject_id: str
) -> dict[str, ModelJudgment]:
    """Ask the engine about every rule, one call per chunk of the text; add
    the calls to ``usage``. Over several chunks a rule keeps the most
    confident "violated" answer, else the first answer."""
    engine = engine_for(Workload.COMPLIANCE_CHECK)
    judgments: dict[str, ModelJudgment] = {}
    for chunk in prompts.chunks(redacted):
        request = prompts.build_request(chunk, rulebook)
        result = client.complete(
            engine,
            request,
            preflight=residual.ensure_clean,
            workload=Workload.COMPLIANCE_CHECK,
            subject_id=subject_id,
        )
        usage["engine_model"] = result.model
        usage["calls"] += 1
        usage["prompt_tokens"] += result.prompt_tokens
        usage["completion_tokens"] += result.completion_tokens
        usage["latency_ms"] += result.latency_ms
        for rule in rulebook.rules:
            judgment = prompts.read_judgment(result, rule)
            current = judgments.get(rule.id)
            if current is None or (
                judgment.violated
                and (
                    not current.violated
                    or (judgment.confidence or 0) > (current.confidence or 0)
                )
            ):
                judgments[rule.id] = judgment
    return judgments


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
