"""Span-level precision, recall and F2 of the appliance's analyzer on the
labelled corpus, beside stock Presidio's in the same run.

    python benchmarks/redaction_eval.py [--check] [--errors] [--tags hr,fault]
        [--by-tag names-]

Stock Presidio is presidio-analyzer's AnalyzerEngine with its defaults
(every predefined recognizer, score threshold 0) over the same spaCy model.
Its entity types are scored under ours where one is the other's
counterpart: DATE_TIME as DATE_OF_BIRTH (stock redacts every date),
US_BANK_NUMBER as ACCOUNT_NUMBER. Types with no counterpart in the corpus
(LOCATION, ORGANIZATION, NRP, URL, UK_NHS and so on) are not scored; a phone
number that stock labels UK_NHS therefore counts as a missed phone number.

``--by-tag PREFIX`` adds one line per tag that starts with PREFIX (the
kinds of name in the ``names-`` cases, say), scored over all entity types:
a tag of cases without entities shows its false positives.

``--check`` exits with status 1 when the appliance misses a target in
benchmarks/redaction_corpus.py, or takes more than 2 s on a case under
10,000 characters (the pathological strings of dots, "a." and brackets).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings.test")

import django

django.setup()

from django.conf import settings  # noqa: E402

from appliance.privacy import engines  # noqa: E402
from appliance.privacy.analyzer import Analyzer  # noqa: E402
from appliance.privacy.registry import Term, build_config, read_file  # noqa: E402
from benchmarks.redaction_corpus import (  # noqa: E402
    DENY_LIST,
    FIXED_FORMAT,
    FREE_FORM,
    Case,
    Counts,
    Scores,
    Span,
    evaluate,
    load,
    missed_targets,
)

# Cases shorter than this (the pathological 4 KB strings among them) must
# each be analyzed within MAX_SMALL_CASE_SECONDS.
SMALL_CASE = 10_000
MAX_SMALL_CASE_SECONDS = 2.0

STOCK_TYPES = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "US_SSN": "US_SSN",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_ITIN": "US_ITIN",
    "US_PASSPORT": "US_PASSPORT",
    "ABA_ROUTING_NUMBER": "ABA_ROUTING_NUMBER",
    "US_BANK_NUMBER": "ACCOUNT_NUMBER",
    "DATE_TIME": "DATE_OF_BIRTH",
}


def appliance_analyzer() -> Analyzer:
    """Build the analyzer as a US deployment runs it, with the corpus's code
    names on the deny-list."""
    config = build_config(
        read_file(),
        countries=["us"],
        terms=[Term("deny", name, "CODE_NAME") for name in DENY_LIST],
    )
    return engines.build(config)


def stock_analyzer():  # type: ignore[no-untyped-def]
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": settings.SPACY_MODEL}],
        }
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine())


def appliance_predictor(analyzer: Analyzer) -> Callable[[str], list[Span]]:
    def predict(text: str) -> list[Span]:
        return [Span(f.entity_type, f.start, f.end) for f in analyzer.analyze(text)]

    return predict


def stock_predictor(engine) -> Callable[[str], list[Span]]:  # type: ignore[no-untyped-def]
    def predict(text: str) -> list[Span]:
        results = engine.analyze(text=text, language="en")
        return [
            Span(STOCK_TYPES[r.entity_type], r.start, r.end)
            for r in results
            if r.entity_type in STOCK_TYPES
        ]

    return predict


def timed(  # type: ignore[no-untyped-def]
    predict: Callable[[str], list[Span]], times: list[tuple[int, float]]
):
    """``predict`` that appends (text length, seconds) to ``times``."""

    def wrapper(text: str) -> list[Span]:
        started = time.perf_counter()
        try:
            return predict(text)
        finally:
            times.append((len(text), time.perf_counter() - started))

    return wrapper


def remembered(
    predict: Callable[[str], list[Span]], memory: dict[str, list[Span]]
) -> Callable[[str], list[Span]]:
    """``predict`` that keeps each text's prediction in ``memory``."""

    def wrapper(text: str) -> list[Span]:
        memory[text] = predict(text)
        return memory[text]

    return wrapper


def tag_report(cases: list[Case], prefix: str, memory: dict[str, list[Span]]) -> None:
    """Print figures per tag starting with ``prefix``, from the predictions
    already made."""
    tags = sorted(
        {tag for case in cases for tag in case.tags if tag.startswith(prefix)}
    )
    print(
        f"{'tag':<20} {'cases':>5} {'gold':>5}  {'P':>6} {'R':>6} {'F2':>6} {'FP':>4}"
    )
    for tag in tags:
        chosen = [case for case in cases if tag in case.tags]
        total = evaluate(chosen, lambda text: memory.get(text, [])).total()
        print(
            f"{tag:<20} {len(chosen):>5} {total.tp + total.fn:>5}  "
            f"{_figures(total)} {total.fp:>4}"
        )


def slowest_small_case(times: list[tuple[int, float]]) -> float:
    """Seconds of the slowest case under SMALL_CASE characters: the
    pathological strings of about 4 KB are among them."""
    return max((seconds for length, seconds in times if length < SMALL_CASE), default=0)


def _figures(counts: Counts) -> str:
    return f"{counts.precision:6.3f} {counts.recall:6.3f} {counts.f2:6.3f}"


def _timing(label: str, times: list[tuple[int, float]], scores: Scores) -> str:
    return (
        f"{label:<10} {sum(s for _, s in times):.1f} s in all, slowest case under "
        f"{SMALL_CASE} characters {slowest_small_case(times):.2f} s, slowest "
        f"{max(s for _, s in times):.2f} s, errors {dict(scores.errors)}"
    )


def _row(
    label: str, ours: Scores, stock: Scores | None, types: list[str] | None
) -> str:
    mine = ours.total(types)
    line = f"{label:<20} {mine.tp + mine.fn:>5}  {_figures(mine)}"
    if stock is not None:
        line += f"   {_figures(stock.total(types))}"
    return line


def report(ours: Scores, stock: Scores | None) -> None:
    header = f"{'entity':<20} {'gold':>5}  {'P':>6} {'R':>6} {'F2':>6}"
    if stock is not None:
        header += f"   {'stock P':>6} {'R':>6} {'F2':>6}"
    print(header)
    types = sorted(set(ours.by_type) | set(stock.by_type if stock else ()))
    for entity_type in types:
        print(_row(entity_type, ours, stock, [entity_type]))
    print(_row("fixed-format", ours, stock, list(FIXED_FORMAT)))
    print(_row("names+addresses", ours, stock, list(FREE_FORM)))
    print(_row("overall", ours, stock, None))


def print_errors(scores: Scores) -> None:
    for case_id, span, value in scores.misses:
        print(f"MISS {case_id} {span.type}: {value[:80]!r}")
    for case_id, span, value in scores.false_positives:
        print(f"FP   {case_id} {span.type}: {value[:80]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 on a missed target"
    )
    parser.add_argument(
        "--errors", action="store_true", help="list misses and false positives"
    )
    parser.add_argument("--no-stock", action="store_true", help="skip stock Presidio")
    parser.add_argument(
        "--tags", help="only cases with one of these tags (comma-separated)"
    )
    parser.add_argument(
        "--by-tag", metavar="PREFIX", help="figures per tag starting with PREFIX"
    )
    args = parser.parse_args()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    cases: list[Case] = load()
    if args.tags:
        wanted = set(args.tags.split(","))
        cases = [case for case in cases if wanted & set(case.tags)]
    print(
        f"{len(cases)} cases, {sum(len(c.entities) for c in cases)} labelled entities"
    )

    ours_times: list[tuple[int, float]] = []
    memory: dict[str, list[Span]] = {}
    predict = remembered(appliance_predictor(appliance_analyzer()), memory)
    ours = evaluate(cases, timed(predict, ours_times))
    stock = None
    stock_times: list[tuple[int, float]] = []
    if not args.no_stock:
        stock = evaluate(cases, timed(stock_predictor(stock_analyzer()), stock_times))
    report(ours, stock)
    print(_timing("appliance", ours_times, ours))
    if stock is not None:
        print(_timing("stock", stock_times, stock))
    if args.by_tag:
        tag_report(cases, args.by_tag, memory)
    if args.errors:
        print_errors(ours)

    missed = missed_targets(ours)
    if slowest_small_case(ours_times) > MAX_SMALL_CASE_SECONDS:
        missed.append(
            f"a case under {SMALL_CASE} characters took "
            f"{slowest_small_case(ours_times):.2f} s > {MAX_SMALL_CASE_SECONDS} s"
        )
    if ours.errors:
        missed.append(f"analyzer errors: {dict(ours.errors)}")
    for line in missed:
        print(f"MISSED TARGET: {line}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
