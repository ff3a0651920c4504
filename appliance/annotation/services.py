"""File annotation: the rules and the model over one file, merged into a
schema-valid annotation.

Pipeline for one job: open the sealed file, extract its text, redact it in
the job's scope, run the rules over the original text (type, tags,
classification, retention, language) and ask the model about the opening of
the redacted text (summary, and a type or tags where the rules found none).
Whatever the model answers, the result is valid: a part that fails its checks
is replaced by the rules' answer or an extract of the text.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import jsonschema
from django.conf import settings
from django.utils import timezone

from appliance.annotation import prompts, reading, rules, writeback
from appliance.annotation.schema import result_schema
from appliance.annotation.taxonomy import Taxonomy, load
from appliance.audit.services import Actor, record
from appliance.documents.errors import FILE_TOO_LARGE, DocumentError
from appliance.errors import PermanentError
from appliance.inference import client
from appliance.inference.errors import EngineRejected, ModelOutputInvalid
from appliance.inference.registry import engine_for
from appliance.jobs import payloads
from appliance.jobs.execution import Lease
from appliance.jobs.models import Job, Reason, State, Workload
from appliance.privacy import residual
from appliance.privacy.redaction import TOKEN_PATTERN, Redaction, redact, reidentify_all

logger = logging.getLogger(__name__)

# Tags the model may add when the rules found none; a small model's long
# lists are mostly noise.
MAX_MODEL_TAGS = 2


def scope_for(job_id: object) -> str:
    return f"job:{job_id}"


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def process_job(lease: Lease) -> dict[str, Any]:
    """Annotate the file of a claimed job and return the result to store."""
    job = lease.job
    data = payloads.read_file(job)
    if data is None:
        raise PermanentError("The job holds no file.", reason=Reason.INVALID_INPUT)
    name = str(payloads.read_input(job)["source"].get("filename", ""))

    started = time.monotonic()
    document = reading.read(data)
    if len(document.text) > settings.MAX_INPUT_CHARS:
        raise DocumentError(
            f"The file holds {len(document.text)} characters of text, more than "
            f"the {settings.MAX_INPUT_CHARS} one annotation accepts. Split it.",
            reason=FILE_TOO_LARGE,
        )
    timings = {"extraction": _elapsed_ms(started), "redaction": 0, "inference": 0}

    cached = payloads.read_redacted(job)
    if cached is None:
        lease.advance(State.REDACTING)
        started = time.monotonic()
        redaction = redact(
            document.text, scope_id=scope_for(job.id), owner_id=job.owner_id
        )
        timings["redaction"] = _elapsed_ms(started)
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
    file_info = {
        "name": name,
        "content_type": document.content_type,
        "bytes": len(data),
        "pages": document.pages,
        "chars": len(document.text),
        "ocr": document.ocr,
        "attachments": document.attachments,
    }
    return annotate(
        document.text, redaction, file_info, subject_id=str(job.id), timings=timings
    )


def annotate(
    text: str,
    redaction: Redaction,
    file_info: dict[str, Any],
    *,
    subject_id: str,
    timings: dict[str, int],
) -> dict[str, Any]:
    """Build the annotation of ``text`` (original) and its redaction."""
    taxonomy = load()
    type_id, type_source = rules.document_type(
        taxonomy, text, file_info["content_type"]
    )
    tag_sources = dict.fromkeys(rules.tags(taxonomy, text), "rules")

    started = time.monotonic()
    proposal, usage = ask_model(redaction.text, taxonomy, subject_id=subject_id)
    timings["inference"] = _elapsed_ms(started)
    if type_source == "none" and proposal.document_type is not None:
        type_id, type_source = proposal.document_type, "model"
    if not tag_sources:
        tag_sources = dict.fromkeys(proposal.tags[:MAX_MODEL_TAGS], "model")
    summary = proposal.summary or prompts.extract_summary(redaction.text)

    pii = redaction.counts()
    level, reasons = rules.classify(taxonomy, text, pii, type_id)
    language, confidence = rules.language(text)
    result = {
        "document_type": type_id,
        "document_type_source": type_source,
        "summary": summary,
        "summary_source": "model" if proposal.summary else "extract",
        "tags": list(tag_sources),
        "tag_sources": tag_sources,
        "classification": level,
        "classification_reasons": reasons,
        "pii": pii,
        "pii_total": sum(pii.values()),
        "retention": rules.retention(taxonomy, text, type_id),
        "language": language,
        "language_confidence": confidence,
        "file": file_info,
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version},
        "model": usage,
        "timings_ms": timings,
        "annotated_at": timezone.now().isoformat(),
    }
    jsonschema.validate(result, result_schema(taxonomy))
    return result


def ask_model(
    redacted: str, taxonomy: Taxonomy, *, subject_id: str
) -> tuple[prompts.ModelAnnotation, dict[str, Any]]:
    """Ask the engine for a summary, a type and tags.

    An answer the engine rejects or that does not parse is a fallback, not a
    failure: the rules and an extract stand in for it. An engine that does
    not respond raises EngineUnavailable, so the job retries later.
    """
    engine = engine_for(Workload.ANNOTATION)
    usage: dict[str, Any] = {
        "engine": engine.name,
        "kind": engine.kind,
        "model": engine.model,
        "model_version": engine.model_version,
        "calls": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "latency_ms": 0,
        "fallback": None,
    }
    empty = prompts.ModelAnnotation(None, None, [])
    if not prompts.has_prose(redacted):
        usage["fallback"] = "no_text"
        return empty, usage

    request = prompts.build_request(redacted, taxonomy)
    try:
        result = client.complete(
            engine,
            request,
            preflight=residual.ensure_clean,
            workload=Workload.ANNOTATION,
            subject_id=subject_id,
        )
    except (ModelOutputInvalid, EngineRejected) as exc:
        logger.warning("model answer unusable (%s); using the rules", exc.reason)
        usage["calls"] = 1
        usage["fallback"] = exc.reason
        return empty, usage
    usage["calls"] = 1
    usage["prompt_tokens"] = result.prompt_tokens
    usage["completion_tokens"] = result.completion_tokens
    usage["latency_ms"] = result.latency_ms
    proposal = prompts.read_answer(result.parsed, redacted, taxonomy)
    if proposal.summary is None:
        usage["fallback"] = "summary_rejected"
    return proposal, usage


def result_for(job: Job, requester: Actor) -> dict[str, Any] | None:
    """Return the job's annotation to its owner, and None to anyone else or
    while there is no result. Pseudonyms in the summary are put back."""
    if job.workload != Workload.ANNOTATION or requester.pk != job.owner_id:
        return None
    result = payloads.read_result(job)
    if result is None:
        return None
    if TOKEN_PATTERN.search(result["summary"]):
        (result["summary"],) = reidentify_all(
            [result["summary"]], scope_id=scope_for(job.id), requester=requester
        )
    return result


def annotated_file(job: Job, requester: Actor) -> tuple[bytes, str, str] | None:
    """The job's file with its annotation written into it, its content type
    and its file name; None when ``requester`` may not read the annotation
    or there is none yet. Raises WritebackUnsupported for other file types."""
    result = result_for(job, requester)
    data = payloads.read_file(job)
    if result is None or data is None:
        return None
    content, content_type = writeback.write_back(data, result)
    return content, content_type, str(result["file"]["name"])
