"""Evaluate HR policy answers on real policies and questions.

    python benchmarks/hr_eval.py [--check] [--limit N] [--retrieval-only]
        [--questions FILE ...] [--policies DIR] [--engine-url URL]

The policies of benchmarks/data/hr/policies are indexed into a database of
the benchmark's own (var/hr-bench), every question is asked as a staff
member with the service the API uses, and the figures below are printed.
Unless --engine-url is given, a llama.cpp server with SmolLM2-135M-Instruct
is started; either way every request reaches it through a capturing proxy,
which is where leakage is measured.

- recall@5: answerable questions whose supporting sentence is inside one of
  the five retrieved passages;
- citation accuracy: answered answerable questions whose first citation is
  the expected document;
- wrong refusals: answerable questions refused;
- correct refusals: unanswerable questions refused;
- correctness: answerable questions answered with the expected fact in the
  answer or its quoted sentences: every number of the expected answer's
  first clause, or most words of the supporting sentence;
- leaks: personal details of a question (its ``personal`` list) found in any
  request the engine received.

--check exits 1 when a target is missed: recall@5 >= 0.9, citation accuracy
>= 0.9, wrong refusals <= 10 %, correct refusals >= 90 %, correctness >= 0.8,
no leaks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.audit_common import ROOT, hardware, setup, verdict

DATA = ROOT / "benchmarks" / "data" / "hr"
QUESTIONS = [DATA / "questions.jsonl", DATA / "questions_added.jsonl"]
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-case plain text: links become their text, quotes and markup go,
    whitespace collapses."""
    text = _LINK.sub(r"\1", text)
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"[*_`>#|]", " ", text)
    return " ".join(text.lower().split())


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def word_share(needle: str, haystack: str) -> float:
    wanted = _WORD.findall(normalize(needle))
    have = set(_WORD.findall(normalize(haystack)))
    return sum(w in have for w in wanted) / len(wanted) if wanted else 0.0


def contains_sentence(sentence: str, passage: str) -> bool:
    needle = normalize(sentence).rstrip(".")
    return needle in normalize(passage) or word_share(sentence, passage) >= 0.9


def fact_found(question: dict[str, Any], text: str) -> bool:
    expected = question.get("expected_answer", "")
    first_clause = re.split(r"[(;]| - ", expected, maxsplit=1)[0]
    wanted = numbers(first_clause)
    if wanted and wanted <= numbers(text):
        return True
    supporting = question.get("supporting_sentence") or ""
    return bool(supporting) and word_share(supporting, text) >= 0.7


@dataclass
class Tally:
    answerable: int = 0
    unanswerable: int = 0
    recalled: int = 0
    answered: int = 0
    cited_right: int = 0
    wrong_refusals: int = 0
    correct_refusals: int = 0
    correct: int = 0
    leaks: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


def load_questions(paths: list[Path], limit: int | None) -> list[dict[str, Any]]:
    questions = []
    for path in paths:
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            questions += [json.loads(line) for line in lines if line.strip()]
    return questions[:limit] if limit else questions


def ingest(policies: Path) -> Any:
    from django.core.management import call_command

    from appliance.accounts.services import create_user, install_roles
    from appliance.hr.models import Conversation, Policy

    Conversation.objects.all().delete()
    Policy.objects.all().delete()
    call_command("ingest_policies", str(policies), effective_from="2020-01-01")
    install_roles()
    from appliance.accounts.models import User

    User.objects.filter(username="hr-eval").delete()
    return create_user("hr-eval", roles=["staff"], password=None)


def evaluate(
    question: dict[str, Any], user: Any, tally: Tally, retrieval_only: bool
) -> None:
    from appliance.errors import ApplianceError
    from appliance.hr import answering

    started = time.monotonic()
    prepared = answering.prepare(user, question["question"])
    passages = [source.chunk.text for source in prepared.sources[:5]]
    answer: dict[str, Any] = {"refused": prepared.refused, "citations": []}
    if not retrieval_only:
        try:
            answer = answering.drain(prepared)
        except ApplianceError as exc:
            # An engine that times out fails this question, not the run.
            tally.misses.append(f"{question['id']}: failed ({exc.reason})")
            answer = {"refused": False, "citations": [], "answer": ""}
    else:
        answer["citations"] = [s.citation() for s in prepared.sources[:1]]
        answer["answer"] = ""
    tally.seconds.append(time.monotonic() - started)
    refused = bool(answer["refused"])

    if not question["answerable"]:
        tally.unanswerable += 1
        tally.correct_refusals += refused
        if not refused:
            tally.misses.append(f"{question['id']}: answered, should refuse")
        return
    tally.answerable += 1
    supporting = question.get("supporting_sentence") or ""
    if any(contains_sentence(supporting, text) for text in passages):
        tally.recalled += 1
    else:
        tally.misses.append(f"{question['id']}: supporting sentence not retrieved")
    if refused:
        tally.wrong_refusals += 1
        tally.misses.append(f"{question['id']}: refused")
        return
    tally.answered += 1
    expected_doc = Path(question.get("doc") or "").stem
    citations = answer["citations"]
    if citations and citations[0]["policy"] == expected_doc:
        tally.cited_right += 1
    else:
        tally.misses.append(f"{question['id']}: cited the wrong document")
    quotes = " ".join(c["quote"] for c in citations)
    if fact_found(question, f"{answer.get('answer', '')} {quotes}"):
        tally.correct += 1
    else:
        tally.misses.append(f"{question['id']}: expected fact missing")


def check_leaks(questions: list[dict[str, Any]], bodies: list[bytes]) -> list[str]:
    sent = "\n".join(body.decode("utf-8", errors="replace") for body in bodies)
    sent = json.dumps(sent, ensure_ascii=False).lower() + sent.lower()
    leaks = []
    for question in questions:
        for detail in question.get("personal", []):
            if detail.lower() in sent:
                leaks.append(f"{question['id']}: {detail!r}")
    return leaks


def run(args: argparse.Namespace) -> int:
    setup("hr-bench")
    from django.conf import settings

    from appliance.inference import registry
    from tests.support.engine_proxy import EngineProxy

    questions = load_questions(args.questions or QUESTIONS, args.limit)
    user = ingest(args.policies)
    engine = None
    upstream = args.engine_url
    if upstream is None and not args.retrieval_only:
        from tests.support.processes import start_engine

        engine = start_engine(name="hr-eval-engine")
        upstream = engine.url
    tally = Tally()
    try:
        with EngineProxy(upstream) as proxy:
            settings.ENGINE_DEFAULT = {**settings.ENGINE_DEFAULT, "url": proxy.url}
            registry.reset()
            for question in questions:
                evaluate(question, user, tally, args.retrieval_only)
            tally.leaks = check_leaks(questions, proxy.requests)
            requests = len(proxy.requests)
    finally:
        if engine is not None:
            engine.process.stop()
    return report(tally, requests, args)


def report(tally: Tally, requests: int, args: argparse.Namespace) -> int:
    answerable = max(tally.answerable, 1)
    recall = tally.recalled / answerable
    citation = tally.cited_right / max(tally.answered, 1)
    wrong = tally.wrong_refusals / answerable
    right = tally.correct_refusals / max(tally.unanswerable, 1)
    correctness = tally.correct / answerable
    print(f"HR evaluation on {hardware()}")
    print(
        f"questions: {tally.answerable} answerable, {tally.unanswerable} "
        f"unanswerable; engine requests: {requests}"
    )
    print(f"recall@5           {recall:.3f}")
    print(f"citation accuracy  {citation:.3f}")
    print(f"wrong refusals     {wrong:.3f} ({tally.wrong_refusals})")
    print(f"correct refusals   {right:.3f} ({tally.correct_refusals})")
    print(f"correctness        {correctness:.3f}")
    print(f"leaks              {len(tally.leaks)}")
    for leak in tally.leaks:
        print(f"  leak {leak}")
    seconds = sorted(tally.seconds)
    if seconds:
        print(f"seconds per question: median {seconds[len(seconds) // 2]:.2f}")
    for miss in tally.misses:
        print(f"  miss {miss}")
    if not args.check:
        return 0
    checks = [
        ("recall@5 >= 0.9", recall >= 0.9),
        ("citation accuracy >= 0.9", citation >= 0.9),
        ("wrong refusals <= 10%", wrong <= 0.10),
        ("correct refusals >= 90%", right >= 0.90),
        ("no leaks", not tally.leaks),
    ]
    if not args.retrieval_only:
        checks.insert(4, ("correctness >= 0.8", correctness >= 0.8))
    return verdict(checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="Exit 1 on a miss.")
    parser.add_argument("--limit", type=int, help="Ask only the first N questions.")
    parser.add_argument(
        "--questions", type=Path, action="append", help="JSON lines of questions."
    )
    parser.add_argument("--policies", type=Path, default=DATA / "policies")
    parser.add_argument("--engine-url", help="Use this engine (base URL with /v1).")
    parser.add_argument(
        "--retrieval-only",
        action="store_true",
        help="Skip the model: measure retrieval, citations and refusals only.",
    )
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
