"""Property-based fuzzing of the API from its own OpenAPI schema: whatever
schemathesis generates, no endpoint answers with a server error (a 503 with
Retry-After, for an engine that is down, is allowed). Chat runs against the
real engine, with answers capped by APPLIANCE_CHAT_MAX_TOKENS in the test
settings."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from appliance.accounts.roles import Role
from appliance.accounts.services import create_user, issue_api_key

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXAMPLES_PER_OPERATION = 25


def _is_positive_number(value: object) -> bool:
    try:
        return float(str(value)) > 0
    except ValueError:
        return False


def test_no_server_errors(roles, engine_url):
    user = create_user("fuzzer", roles=[Role.STAFF, Role.REVIEWER], password=None)
    key = issue_api_key(user, "fuzz", rate_limit_per_minute=100_000).plaintext
    schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= 8
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            # No worker runs here, so a valid wait would only hold the request
            # until it expires; invalid values still go through.
            if case.query and _is_positive_number(case.query.get("wait")):
                case.query["wait"] = 0
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            status = response.status_code
            statuses.setdefault(f"{case.method} {case.path}", set()).add(status)
            if status >= 500 and not (
                status == 503 and "Retry-After" in response.headers
            ):
                failures.append(
                    f"{case.method} {case.formatted_path}: {status} "
                    f"{response.text[:200]}"
                )

        fuzz()

    assert failures == []
    # The fuzz reached past validation: some generated requests succeeded.
    assert any(code < 300 for codes in statuses.values() for code in codes)
    assert len(statuses) == len(operations)
