"""Throughput and latency of the appliance's analyzer against stock Presidio
and against the floor, in one run.

    python benchmarks/redaction_speed.py [--check] [--rounds 3]

Three input sizes: short texts (the labelled corpus's cases of 80 to 200
characters), paragraphs (about 1,500 characters, cut from the public-domain
HR documents in data/public) and documents (about 50,000 characters: the
FOMC minutes of June 2023, and the HR documents joined). For each size:

- floor: spaCy's NER alone with the same model, over the same texts, with
  only the components NER needs, through ``nlp.pipe``;
- appliance: ``Analyzer.analyze_batch`` over the same texts (normalization,
  chunking, NER, every recognizer, merging, offset mapping);
- stock: presidio-analyzer's AnalyzerEngine with its defaults, one
  ``analyze`` call per text.

Throughput is texts per second over the whole list; latency is one call per
text (p50 and p95). Each round measures the three in turn, and each
system's fastest round counts (as timeit does), because load from other
processes on a shared machine only ever slows a round down. ``--check``
exits with status 1 when the appliance misses a target: throughput at least
2x stock's and within 1.5x of the floor's on paragraphs and documents, and
p95 latency of a short text at most 30 ms.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings.test")

import django

django.setup()

from django.conf import settings  # noqa: E402

from appliance.privacy.analyzer import ner_pipeline  # noqa: E402
from benchmarks.redaction_corpus import load  # noqa: E402
from benchmarks.redaction_eval import appliance_analyzer, stock_analyzer  # noqa: E402

PUBLIC = Path(__file__).resolve().parent / "data" / "public"
HR_DOCUMENTS = (
    "dol_whd_fact_sheet_28_fmla.md",
    "tts_leave_types.md",
    "tts_telework_guidance_2022.md",
    "tts_travel_reimbursement_faq.md",
)
PARAGRAPH_CHARS = 1_500
DOCUMENT_CHARS = 50_000

MIN_SPEEDUP_OVER_STOCK = 2.0
MAX_SLOWDOWN_FROM_FLOOR = 1.5
MAX_SHORT_P95_MS = 30.0


def short_texts() -> list[str]:
    return [c.text for c in load() if 80 <= len(c.text) <= 200]


def paragraphs() -> list[str]:
    """Consecutive lines of the HR documents, about 1,500 characters each."""
    found = []
    for name in HR_DOCUMENTS:
        current = ""
        for line in (PUBLIC / name).read_text(encoding="utf-8").splitlines(True):
            current += line
            if len(current) >= PARAGRAPH_CHARS:
                found.append(current)
                current = ""
    return found


def documents() -> list[str]:
    minutes = (PUBLIC / "fomc_minutes_2023-06-13_14.txt").read_text(encoding="utf-8")
    joined = "\n\n".join(
        (PUBLIC / name).read_text(encoding="utf-8") for name in HR_DOCUMENTS
    )
    while len(joined) < DOCUMENT_CHARS:
        joined += "\n\n" + joined
    return [minutes, joined[:DOCUMENT_CHARS]]


@dataclass
class Measure:
    throughput: float  # texts per second
    p50_ms: float
    p95_ms: float


def measure(
    batch: Callable[[Sequence[str]], Any],
    single: Callable[[str], Any],
    texts: list[str],
) -> Measure:
    started = time.perf_counter()
    batch(texts)
    throughput = len(texts) / (time.perf_counter() - started)
    latencies = []
    for text in texts:
        started = time.perf_counter()
        single(text)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    return Measure(throughput, statistics.median(latencies), p95)


def systems() -> dict[str, tuple[Callable[[Sequence[str]], Any], Callable[[str], Any]]]:
    nlp = ner_pipeline(settings.SPACY_MODEL)
    analyzer = appliance_analyzer()
    stock = stock_analyzer()

    def stock_one(text: str) -> Any:
        return stock.analyze(text=text, language="en")

    return {
        "floor": (lambda texts: list(nlp.pipe(texts)), nlp),
        "appliance": (analyzer.analyze_batch, analyzer.analyze),
        "stock": (lambda texts: [stock_one(t) for t in texts], stock_one),
    }


def run(rounds: int) -> dict[str, dict[str, Measure]]:
    inputs = {
        "short": short_texts(),
        "paragraph": paragraphs(),
        "document": documents(),
    }
    chosen = systems()
    for batch, _ in chosen.values():  # warm caches and lazy loads
        batch(inputs["short"][:5])
    results: dict[str, dict[str, Measure]] = {}
    for size, texts in inputs.items():
        average = sum(map(len, texts)) // len(texts)
        print(f"{size}: {len(texts)} texts, {average} chars each")
        per_system: dict[str, list[Measure]] = {name: [] for name in chosen}
        for _ in range(rounds):
            for name, (batch, single) in chosen.items():
                per_system[name].append(measure(batch, single, texts))
        results[size] = {
            name: max(found, key=lambda m: m.throughput)
            for name, found in per_system.items()
        }
    return results


def report(results: dict[str, dict[str, Measure]]) -> list[str]:
    """Print the table and return the targets missed."""
    print(f"{'size':<10} {'system':<10} {'texts/s':>9} {'p50 ms':>8} {'p95 ms':>8}")
    missed = []
    for size, by_system in results.items():
        for name, m in by_system.items():
            figures = f"{m.throughput:9.1f} {m.p50_ms:8.1f} {m.p95_ms:8.1f}"
            print(f"{size:<10} {name:<10} {figures}")
        ours = by_system["appliance"].throughput
        over_stock = ours / by_system["stock"].throughput
        from_floor = by_system["floor"].throughput / ours
        print(f"{size:<10} appliance/stock {over_stock:.2f}x, ", end="")
        print(f"floor/appliance {from_floor:.2f}x")
        if size in ("paragraph", "document"):
            if over_stock < MIN_SPEEDUP_OVER_STOCK:
                missed.append(f"{size}: {over_stock:.2f}x stock, target 2x")
            if from_floor > MAX_SLOWDOWN_FROM_FLOOR:
                missed.append(f"{size}: floor {from_floor:.2f}x faster, target 1.5x")
    p95 = results["short"]["appliance"].p95_ms
    if p95 > MAX_SHORT_P95_MS:
        missed.append(f"short p95 {p95:.1f} ms > {MAX_SHORT_P95_MS} ms")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 on a missed target"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size (best)")
    args = parser.parse_args()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    print(f"spaCy model {settings.SPACY_MODEL}, {os.cpu_count()} CPUs")
    missed = report(run(args.rounds))
    for line in missed:
        print(f"MISSED TARGET: {line}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
