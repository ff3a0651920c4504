"""Fixtures for the HR tests: the policies of benchmarks/data/hr in the
library, indexed in this process with the real embedding model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from appliance.accounts.models import Team
from appliance.hr import library
from appliance.hr.models import PolicyVersion

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "benchmarks" / "data" / "hr" / "policies"
PAST = date(2020, 1, 1)


@pytest.fixture
def add_policy(db: None) -> Callable[..., PolicyVersion]:
    """Add and index one policy version from text."""

    def add(
        text: str,
        *,
        title: str,
        version: str = "1",
        effective_from: date = PAST,
        key: str = "",
        teams: tuple[Team, ...] = (),
    ) -> PolicyVersion:
        upload = library.Upload(
            data=text.encode(),
            filename=f"{title}.md",
            title=title,
            version=version,
            effective_from=effective_from,
            policy_key=key,
            teams=teams,
        )
        added = library.add_version(upload, uploaded_by=None, enqueue=False)
        assert library.index_version(added.id) == "ready"
        added.refresh_from_db()
        return added

    return add


@pytest.fixture
def corpus(add_policy: Callable[..., PolicyVersion]) -> list[PolicyVersion]:
    """Every policy of the evaluation corpus, in effect since 2020."""
    from appliance.hr.management.commands.ingest_policies import title_of

    added = []
    for path in sorted(POLICIES.glob("*.md")):
        data = path.read_bytes()
        added.append(
            add_policy(data.decode(), title=title_of(data, path), key=path.stem)
        )
    return added
