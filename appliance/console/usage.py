"""Usage and cost of the local models, per workload and team.

The local cost of a token is the configured hourly cost of the inference
hardware divided by the tokens per hour it was measured to process: the
tokens of successful calls over the engine time they took (the sum of their
latencies). The same tokens are priced at the configured external model's
rates beside it; the ratio of the two is the appliance's evidence of its
economics. Calls are attributed to a team through the job, or the privacy
scope of a chat request, that they served.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from appliance.accounts.models import User
from appliance.inference.models import ModelCall
from appliance.jobs.models import Job
from appliance.privacy.models import VaultScope

UNATTRIBUTED = "(no team)"
MILLION = Decimal(1_000_000)


@dataclass
class Group:
    workload: str
    team: str
    requests: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latencies_ms: list[int] = field(default_factory=list)
    local_cost: Decimal = Decimal(0)
    external_cost: Decimal = Decimal(0)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def latency_p50_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None

    @property
    def latency_p95_ms(self) -> float | None:
        if len(self.latencies_ms) < 2:
            return self.latency_p50_ms
        return statistics.quantiles(self.latencies_ms, n=20)[-1]

    @property
    def ratio(self) -> float | None:
        if not self.local_cost:
            return None
        return float(self.external_cost / self.local_cost)


@dataclass
class Report:
    days: int
    currency: str
    hourly_cost: Decimal
    tokens_per_hour: float
    local_cost_per_million: Decimal
    external_input_per_million: Decimal
    external_output_per_million: Decimal
    groups: list[Group]
    by_workload: list[Group]
    total: Group


def _teams_for(subject_ids: set[str]) -> dict[str, str]:
    """Map job ids and chat scope ids to their team's name."""
    ids = []
    for subject in subject_ids:
        try:
            ids.append(uuid.UUID(subject))
        except ValueError:
            continue
    teams: dict[str, str] = {}
    for job_id, team in Job.objects.filter(id__in=ids).values_list("id", "team__name"):
        teams[str(job_id)] = team or UNATTRIBUTED
    owners = dict(VaultScope.objects.filter(id__in=ids).values_list("id", "owner_id"))
    team_of_user = dict(
        User.objects.filter(id__in=set(owners.values())).values_list("id", "team__name")
    )
    for scope_id, owner_id in owners.items():
        owner_team = team_of_user.get(owner_id) if owner_id is not None else None
        teams.setdefault(str(scope_id), owner_team or UNATTRIBUTED)
    return teams


def _external_cost(prompt_tokens: int, completion_tokens: int) -> Decimal:
    return (
        Decimal(prompt_tokens) * settings.EXTERNAL_PRICE_INPUT_PER_MTOK
        + Decimal(completion_tokens) * settings.EXTERNAL_PRICE_OUTPUT_PER_MTOK
    ) / MILLION


def report(days: int = 30) -> Report:
    since = timezone.now() - timedelta(days=days)
    rows = list(
        ModelCall.objects.filter(created_at__gte=since).values_list(
            "workload",
            "subject_id",
            "outcome",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
        )
    )
    teams = _teams_for({row[1] for row in rows})
    groups: dict[tuple[str, str], Group] = {}
    workloads: dict[str, Group] = {}
    total = Group(workload="all", team="all")
    busy_ms = 0
    for workload, subject, outcome, prompt, completion, latency in rows:
        team = teams.get(subject, UNATTRIBUTED)
        targets = (
            groups.setdefault((workload, team), Group(workload, team)),
            workloads.setdefault(workload, Group(workload, "all")),
            total,
        )
        for group in targets:
            group.requests += 1
            if outcome != ModelCall.Outcome.OK:
                group.failures += 1
                continue
            group.prompt_tokens += prompt
            group.completion_tokens += completion
            group.latencies_ms.append(latency)
        if outcome == ModelCall.Outcome.OK:
            busy_ms += latency

    hourly = settings.LOCAL_HOURLY_COST
    tokens_per_hour = total.tokens / (busy_ms / 3_600_000) if busy_ms else 0.0
    per_million = (
        hourly / Decimal(tokens_per_hour) * MILLION if tokens_per_hour else Decimal(0)
    )
    for group in [*groups.values(), *workloads.values(), total]:
        group.local_cost = Decimal(group.tokens) * per_million / MILLION
        group.external_cost = _external_cost(
            group.prompt_tokens, group.completion_tokens
        )
    return Report(
        days=days,
        currency=settings.COST_CURRENCY,
        hourly_cost=hourly,
        tokens_per_hour=tokens_per_hour,
        local_cost_per_million=per_million,
        external_input_per_million=settings.EXTERNAL_PRICE_INPUT_PER_MTOK,
        external_output_per_million=settings.EXTERNAL_PRICE_OUTPUT_PER_MTOK,
        groups=sorted(groups.values(), key=lambda g: (g.workload, g.team)),
        by_workload=sorted(workloads.values(), key=lambda g: g.workload),
        total=total,
    )
