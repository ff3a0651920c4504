"""Fixtures for the privacy tests: analyzers built from recognizers.yaml,
with or without extra registry entries, and a clean slate for the analyzers
this process caches."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from appliance.privacy import engines
from appliance.privacy.analyzer import Analyzer
from appliance.privacy.registry import Override, Term, build_config, read_file


@pytest.fixture
def build_analyzer() -> Callable[..., Analyzer]:
    """Build an analyzer from the built-in registry file, for ``countries``,
    with ``overrides`` and ``terms`` added; no database needed."""

    def build(
        countries: tuple[str, ...] = ("us",),
        overrides: tuple[Override, ...] = (),
        terms: tuple[Term, ...] = (),
        **options: object,
    ) -> Analyzer:
        config = build_config(
            read_file(), countries=countries, overrides=overrides, terms=terms
        )
        analyzer = engines.build(config)
        for name, value in options.items():
            setattr(analyzer, name, value)
        return analyzer

    return build


@pytest.fixture(scope="session")
def us_analyzer() -> Analyzer:
    """The analyzer as a US deployment builds it from the file alone."""
    return engines.build(build_config(read_file(), countries=["us"]))


@pytest.fixture
def fresh_engines() -> Iterator[None]:
    """Forget this process's analyzers before and after the test, so that
    registry changes made by the test take effect and do not leak."""
    engines.reset()
    yield
    engines.reset()
