"""Measure HR retrieval and answer latency.

    python benchmarks/hr_latency.py [--check] [--queries N] [--answers N]

Retrieval: 10,000 passages in a database of the benchmark's own
(var/hr-latency, built on the first run), made from the real policies of
benchmarks/data/hr: each policy passage is copied into many policy versions,
each copy with its embedding moved by a little noise so that the HNSW graph
holds 10,000 distinct vectors. One retrieval is what a question costs between
redaction and answering: embedding the redacted question in-process, the
vector and the full-text search, and the fusion.

Answers: time to the first streamed token (an answer opens with its quoted
source, known before the model is called), to the model's own first token,
and to the end of the answer, with the default model (SmolLM2-135M-Instruct
on llama.cpp, started here) and five passages in the prompt, from the start
of ``prepare`` (redaction included).

--check exits 1 when retrieval p95 exceeds 50 ms or time to first token p95
exceeds 3 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.audit_common import hardware, percentile, setup, verdict

PASSAGES = 10_000
NOISE = 0.02
AS_OF = date(2026, 6, 1)


def build_library() -> None:
    """Fill the library with PASSAGES passages, unless it has them already."""
    from django.core.management import call_command

    from appliance.hr.library import refresh_terms
    from appliance.hr.models import Chunk, IndexState, Policy, PolicyVersion

    if Chunk.objects.count() == PASSAGES:
        refresh_terms()
        return
    Policy.objects.all().delete()
    policies = Path(__file__).resolve().parent / "data" / "hr" / "policies"
    call_command("ingest_policies", str(policies), effective_from="2020-01-01")
    originals = list(Chunk.objects.all())
    rng = random.Random(7)
    copy = 0
    while Chunk.objects.count() < PASSAGES:
        copy += 1
        policy = Policy.objects.create(key=f"copy-{copy}")
        version = PolicyVersion.objects.create(
            policy=policy,
            title=f"Copy {copy}",
            version="1",
            effective_from=date(2020, 1, 1),
            text="",
            state=IndexState.READY,
        )
        missing = PASSAGES - Chunk.objects.count()
        Chunk.objects.bulk_create(
            [
                Chunk(
                    version=version,
                    ordinal=index,
                    section=original.section,
                    text=original.text,
                    embedding=_moved(list(original.embedding), rng),
                    sentence_vectors=bytes(original.sentence_vectors),
                )
                for index, original in enumerate(originals[:missing])
            ]
        )
    refresh_terms()


def _moved(vector: list[float], rng: random.Random) -> list[float]:
    moved = [x + rng.gauss(0.0, NOISE) for x in vector]
    norm = sum(x * x for x in moved) ** 0.5
    return [x / norm for x in moved]


def questions() -> list[str]:
    from benchmarks.hr_eval import QUESTIONS, load_questions

    return [item["question"] for item in load_questions(QUESTIONS, None)]


def time_retrieval(user: Any, count: int) -> list[float]:
    from appliance.hr import retrieval
    from appliance.privacy.redaction import redact

    texts = questions()
    redacted = [
        redact(text, scope_id="hr-latency", owner_id=user.pk).text for text in texts
    ]
    retrieval.retrieve(user, redacted[0], AS_OF, 5)
    timings = []
    for index in range(count):
        started = time.perf_counter()
        retrieval.retrieve(user, redacted[index % len(redacted)], AS_OF, 5)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_answers(user: Any, count: int) -> tuple[list[float], list[float], list[float]]:
    from django.conf import settings

    from appliance.hr import answering
    from appliance.inference import registry
    from tests.support.processes import start_engine

    engine = start_engine(name="hr-latency-engine")
    settings.ENGINE_DEFAULT = {**settings.ENGINE_DEFAULT, "url": engine.url}
    registry.reset()
    first_tokens: list[float] = []
    model_starts: list[float] = []
    totals: list[float] = []
    try:
        for text in questions():
            if len(totals) == count:
                break
            started = time.perf_counter()
            prepared = answering.prepare(user, text, as_of=AS_OF)
            if prepared.refused:
                continue
            first = None
            first_model = None
            tokens_seen = 0
            for event in prepared.events():
                if isinstance(event, answering.Token):
                    tokens_seen += 1
                    elapsed = time.perf_counter() - started
                    if first is None:
                        first = elapsed
                    # The first event is the quoted source; the model's own
                    # words start with the second.
                    if tokens_seen == 2:
                        first_model = elapsed
            totals.append(time.perf_counter() - started)
            first_tokens.append(first if first is not None else totals[-1])
            model_starts.append(first_model if first_model is not None else totals[-1])
    finally:
        engine.process.stop()
    return first_tokens, model_starts, totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="Exit 1 on a miss.")
    parser.add_argument("--queries", type=int, default=200, help="Retrievals timed.")
    parser.add_argument("--answers", type=int, default=10, help="Answers timed.")
    args = parser.parse_args()

    setup("hr-latency")
    from appliance.accounts.models import User
    from appliance.accounts.services import create_user, install_roles
    from appliance.hr.models import Chunk

    build_library()
    install_roles()
    user = User.objects.filter(username="hr-latency").first() or create_user(
        "hr-latency", roles=["staff"], password=None
    )
    retrieval_ms = time_retrieval(user, args.queries)
    first_tokens, model_starts, totals = time_answers(user, args.answers)

    print(f"HR latency on {hardware()}")
    print(f"passages: {Chunk.objects.count()}")
    print(
        f"retrieval ms ({len(retrieval_ms)} questions): "
        f"p50 {percentile(retrieval_ms, 0.5):.1f}, "
        f"p95 {percentile(retrieval_ms, 0.95):.1f}, max {max(retrieval_ms):.1f}"
    )
    print(
        f"time to first token s ({len(first_tokens)} answers): "
        f"p50 {percentile(first_tokens, 0.5):.2f}, "
        f"p95 {percentile(first_tokens, 0.95):.2f}"
    )
    print(
        f"time to the model's first token s: "
        f"p50 {percentile(model_starts, 0.5):.2f}, "
        f"p95 {percentile(model_starts, 0.95):.2f}"
    )
    print(
        f"total answer time s: p50 {percentile(totals, 0.5):.2f}, "
        f"p95 {percentile(totals, 0.95):.2f}"
    )
    if not args.check:
        return 0
    return verdict(
        [
            ("retrieval p95 <= 50 ms", percentile(retrieval_ms, 0.95) <= 50),
            (
                "time to first token p95 <= 3 s",
                bool(first_tokens) and percentile(first_tokens, 0.95) <= 3.0,
            ),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
