"""Labelled texts and scoring for the compliance accuracy benchmark.

The cases are the real regulator-quoted texts in samples/compliance (labels
in benchmarks/data/compliance/corpus_labels.yaml) and the hand-written
cases in benchmarks/data/compliance/cases.yaml. ``evaluate`` runs the same
``compliance.services.check`` the workers run, once with patterns only and
once with the model, so the report shows what the model adds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "compliance"
CORPUS = ROOT / "samples" / "compliance"

# Targets checked by --check and by the CI subset test.
MIN_FAIL_PRECISION = 0.9
MIN_FLAGGED_RECALL = 0.9
MAX_REVIEW_SHARE = 0.2


@dataclass(frozen=True)
class Case:
    id: str
    rulebook: str
    text: str
    violates: frozenset[str]
    origin: str  # "corpus" or "written"

    @property
    def compliant(self) -> bool:
        return not self.violates


def load_cases(corpus: Path = CORPUS, cases: Path = DATA / "cases.yaml") -> list[Case]:
    """Return the labelled corpus texts, then the written cases."""
    labels = yaml.safe_load((DATA / "corpus_labels.yaml").read_text())
    index = [
        json.loads(line)
        for line in (corpus / "index.jsonl").read_text().splitlines()
        if line.strip()
    ]
    loaded = []
    for entry in index:
        if entry["id"] not in labels["labels"]:
            raise ValueError(f"corpus text {entry['id']} has no rule labels")
        loaded.append(
            Case(
                id=entry["id"],
                rulebook=labels["rulebook"],
                text=(corpus / Path(entry["file"]).name).read_text(),
                violates=frozenset(labels["labels"][entry["id"]]),
                origin="corpus",
            )
        )
    for item in yaml.safe_load(cases.read_text())["cases"]:
        loaded.append(
            Case(
                id=str(item["id"]),
                rulebook=str(item["rulebook"]),
                text=str(item["text"]),
                violates=frozenset(item["violates"]),
                origin="written",
            )
        )
    return loaded


def subset(cases: list[Case], every: int) -> list[Case]:
    """Every corpus text and every ``every``-th written case."""
    written = [case for case in cases if case.origin == "written"]
    return [case for case in cases if case.origin == "corpus"] + written[::every]


@dataclass
class Outcome:
    case: Case
    verdict: str
    # Rule id -> "fail" or "needs_review" (the worse of its findings).
    rules: dict[str, str]
    model_calls: int = 0


@dataclass
class Scores:
    texts: int = 0
    fails: int = 0
    true_fails: int = 0
    reviews: int = 0
    model_calls: int = 0
    non_compliant: int = 0
    flagged_non_compliant: int = 0
    per_rule: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def fail_precision(self) -> float:
        return self.true_fails / self.fails if self.fails else 1.0

    @property
    def flagged_recall(self) -> float:
        if not self.non_compliant:
            return 1.0
        return self.flagged_non_compliant / self.non_compliant

    @property
    def review_share(self) -> float:
        return self.reviews / self.texts if self.texts else 0.0

    def misses(self) -> list[str]:
        """The targets this run misses, as sentences."""
        missed = []
        if self.fail_precision < MIN_FAIL_PRECISION:
            missed.append(
                f"fail precision {self.fail_precision:.3f} < {MIN_FAIL_PRECISION}"
            )
        if self.flagged_recall < MIN_FLAGGED_RECALL:
            missed.append(
                f"fail+needs_review recall {self.flagged_recall:.3f} "
                f"< {MIN_FLAGGED_RECALL}"
            )
        if self.review_share >= MAX_REVIEW_SHARE:
            missed.append(
                f"needs_review share {self.review_share:.3f} >= {MAX_REVIEW_SHARE}"
            )
        return missed


def outcome_of(case: Case, result: dict[str, Any]) -> Outcome:
    rules: dict[str, str] = {}
    for finding in result["findings"]:
        if rules.get(finding["rule_id"]) != "fail":
            rules[finding["rule_id"]] = finding["status"]
    return Outcome(case, result["verdict"], rules, result["model"]["calls"])


def score(outcomes: Iterable[Outcome], rule_ids: Iterable[str]) -> Scores:
    scores = Scores()
    for rule_id in rule_ids:
        scores.per_rule[rule_id] = {"tp": 0, "fp": 0, "fn": 0, "flag_tp": 0}
    for outcome in outcomes:
        case = outcome.case
        scores.texts += 1
        scores.fails += outcome.verdict == "fail"
        scores.true_fails += outcome.verdict == "fail" and not case.compliant
        scores.reviews += outcome.verdict == "needs_review"
        scores.model_calls += outcome.model_calls
        if not case.compliant:
            scores.non_compliant += 1
            scores.flagged_non_compliant += outcome.verdict != "pass"
        for rule_id, counts in scores.per_rule.items():
            failed = outcome.rules.get(rule_id) == "fail"
            flagged = rule_id in outcome.rules
            expected = rule_id in case.violates
            counts["tp"] += failed and expected
            counts["fp"] += failed and not expected
            counts["fn"] += expected and not failed
            counts["flag_tp"] += flagged and expected
    return scores


def evaluate(
    cases: list[Case],
    check: Callable[[Case, bool], dict[str, Any]],
    *,
    use_model: bool,
) -> list[Outcome]:
    """Run ``check(case, use_model)`` over every case."""
    return [outcome_of(case, check(case, use_model)) for case in cases]


def report(name: str, scores: Scores) -> list[str]:
    """Format the scores as lines of text."""
    lines = [
        f"{name}: {scores.texts} texts, {scores.non_compliant} non-compliant",
        f"  fail precision            {scores.fail_precision:.3f} "
        f"({scores.true_fails}/{scores.fails})",
        f"  fail+needs_review recall  {scores.flagged_recall:.3f} "
        f"({scores.flagged_non_compliant}/{scores.non_compliant})",
        f"  needs_review share        {scores.review_share:.3f} "
        f"({scores.reviews}/{scores.texts})",
        f"  model calls               {scores.model_calls}",
        "  rule       fail-precision  fail-recall  flagged-recall",
    ]
    for rule_id, counts in sorted(scores.per_rule.items()):
        failed = counts["tp"] + counts["fp"]
        expected = counts["tp"] + counts["fn"]
        precision = counts["tp"] / failed if failed else float("nan")
        recall = counts["tp"] / expected if expected else float("nan")
        flagged = counts["flag_tp"] / expected if expected else float("nan")
        lines.append(
            f"  {rule_id:<10} {precision:>14.3f} {recall:>12.3f} {flagged:>15.3f}"
        )
    return lines


def differences(baseline: list[Outcome], full: list[Outcome]) -> list[str]:
    """The cases whose verdict the model changed, one line each."""
    lines = []
    for before, after in zip(baseline, full, strict=True):
        if before.verdict != after.verdict:
            label = "compliant" if before.case.compliant else "non-compliant"
            lines.append(
                f"  {before.case.id:<8} {label:<14} {before.verdict} -> {after.verdict}"
            )
    return lines
