"""Running the compliance check over benchmark cases, inside a configured
Django (the benchmark script or a pytest test sets it up)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from django.conf import settings

from appliance.compliance import services, store
from appliance.inference import registry
from appliance.privacy.redaction import Redaction, redact
from benchmarks.compliance_cases import Case, Outcome, evaluate


class EngineSession:
    """Point the engine registry at ``url``, or at a llama.cpp server with
    the test model started here and stopped on exit."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.process: Any = None
        self.original: dict[str, Any] = {}

    def __enter__(self) -> EngineSession:
        if self.url is None:
            from tests.support.processes import start_engine

            engine = start_engine(name="benchmark-engine")
            self.process = engine.process
            self.url = engine.url
        self.original = dict(settings.ENGINE_DEFAULT)
        use_engine(self.url)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        settings.ENGINE_DEFAULT = self.original
        registry.reset()
        if self.process is not None:
            self.process.stop()


def use_engine(url: str) -> None:
    from appliance.launcher import MODEL_ALIAS

    settings.ENGINE_DEFAULT = {
        **settings.ENGINE_DEFAULT,
        "url": url,
        "model": MODEL_ALIAS,
        "kind": "llamacpp",
    }
    registry.reset()


class CaseChecker:
    """Checks cases through ``services.check``, redacting each text once."""

    def __init__(self, *, screening: bool = False) -> None:
        self.redactions: dict[str, Redaction] = {}
        self.screening = screening

    def __call__(self, case: Case, use_model: bool) -> dict[str, Any]:
        scope = f"benchmark:{case.id}"
        if case.id not in self.redactions:
            self.redactions[case.id] = redact(case.text, scope_id=scope, owner_id=None)
        return services.check(
            case.text,
            self.redactions[case.id],
            store.load(case.rulebook),
            subject_id=scope,
            use_model=use_model,
            screening=self.screening,
        )


def run_both(
    cases: list[Case], *, screening: bool = False
) -> tuple[list[Outcome], list[Outcome], list[str]]:
    """Return the outcomes with patterns only, with the model, and the ids
    of every rule of the rulebooks the cases use."""
    checker = CaseChecker(screening=screening)
    baseline = evaluate(cases, checker, use_model=False)
    full = evaluate(cases, checker, use_model=True)
    rule_ids = sorted(
        {
            rule.id
            for rulebook_id in {case.rulebook for case in cases}
            for rule in store.load(rulebook_id).rules
        }
    )
    return baseline, full, rule_ids
