"""The authorization matrix in docs/authorization.md, checked cell by cell
against every URL in Django's resolver."""

from __future__ import annotations

import fnmatch
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from appliance.accounts.models import Scope, User, all_scopes
from appliance.accounts.roles import Role
from appliance.accounts.services import create_user, issue_api_key
from appliance.annotation.models import Batch
from appliance.escalation import sealing
from appliance.escalation.models import EscalationRequest
from appliance.jobs import services as jobs
from appliance.jobs.models import Workload
from appliance.webhooks.models import Endpoint

pytestmark = pytest.mark.django_db(transaction=True)

MATRIX = Path(__file__).resolve().parent.parent / "docs" / "authorization.md"
PRINCIPALS = ["anonymous", *(role.value for role in Role)]
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<methods>[^|]+) \|(?P<cells>.+)\|$")


@dataclass(frozen=True)
class Row:
    name: str
    methods: tuple[str, ...]
    cells: dict[str, str]
    scope: str

    def matches(self, url_name: str) -> bool:
        return fnmatch.fnmatchcase(url_name, self.name)


def load_matrix() -> list[Row]:
    rows = []
    for line in MATRIX.read_text().splitlines():
        match = ROW.match(line.strip())
        if not match:
            continue
        cells = [cell.strip() for cell in match["cells"].split("|")]
        assert len(cells) == len(PRINCIPALS) + 1, line
        rows.append(
            Row(
                name=match["name"],
                methods=tuple(m.strip() for m in match["methods"].split(",")),
                cells=dict(zip(PRINCIPALS, cells[:-1], strict=True)),
                scope=cells[-1],
            )
        )
    return rows


ROWS = load_matrix()


def url_patterns(
    resolver: URLResolver | None = None, namespace: str = ""
) -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += url_patterns(entry, inner)
        else:
            found.append((f"{namespace}{entry.name or '(unnamed)'}", entry))
    return found


def row_for(url_name: str) -> Row | None:
    exact = [row for row in ROWS if row.name == url_name]
    if exact:
        return exact[0]
    return next((row for row in ROWS if row.matches(url_name)), None)


def test_every_url_has_a_row():
    missing = sorted(
        name
        for name, _ in url_patterns()
        if row_for(name) is None and not name.startswith("admin:")
    )
    assert missing == [], f"add these to {MATRIX.name}: {missing}"
    # The admin's unnamed catch-all is covered by the admin row too.
    assert row_for("admin:index") is not None


def test_every_row_names_a_url():
    names = [name for name, _ in url_patterns()]
    for row in ROWS:
        assert any(row.matches(name) for name in names), row.name


# Objects the URL's arguments point at, made for the requesting user.
def _job(user: User | None) -> str:
    if user is None:
        return str(uuid.uuid4())
    return str(jobs.submit(user, Workload.COMPLIANCE_CHECK, text="x", enqueue=False).id)


def _webhook(user: User | None) -> str:
    if user is None:
        return str(uuid.uuid4())
    endpoint = Endpoint.objects.create(
        owner=user, url="http://127.0.0.1:9/hook", secret_sealed=b"unused"
    )
    return str(endpoint.id)


def _escalation(user: User | None) -> str:
    """A pending escalation request of ``user``'s, with a placeholder body."""
    if user is None:
        return str(uuid.uuid4())
    job = jobs.submit(user, Workload.COMPLIANCE_CHECK, text="x", enqueue=False)
    request = EscalationRequest(
        job=job,
        workload=job.workload,
        classification="internal",
        requester=user,
        scope_id=f"job:{job.id}",
        provider="frontier",
        model="frontier-large",
        body_sha256=hashlib.sha256(b"{}").hexdigest(),
        body_bytes=2,
        estimated_prompt_tokens=1,
        estimated_completion_tokens=1,
        estimated_cost=0,
        policy_version=1,
        evaluation={},
        approvals_required=1,
        state="pending",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    request.body_sealed = sealing.seal(request.id, sealing.BODY, b"{}")
    request.save()
    return str(request.id)


def _batch(user: User | None) -> str:
    if user is None:
        return str(uuid.uuid4())
    return str(Batch.objects.create(owner=user).id)


ARGUMENTS: dict[str, Callable[[User | None], Any]] = {
    "job_id": _job,
    "batch_id": _batch,
    "webhook_id": _webhook,
    "escalation_id": _escalation,
    # A made-up review: a reviewer gets past authorization and finds nothing.
    "review_id": lambda user: str(uuid.uuid4()),
    "index": lambda user: 0,
    "seq": lambda user: 1,
    # A made-up policy version and answer: allowed callers find nothing.
    "version_id": lambda user: 999_999_999,
    "turn_id": lambda user: str(uuid.uuid4()),
    "app_label": lambda user: "accounts",
}


def principal(name: str) -> User | None:
    if name == "anonymous":
        return None
    return create_user(f"{name}-{uuid.uuid4().hex[:6]}", roles=[Role(name)])


def target(url_name: str, pattern: URLPattern, owner: User | None) -> str | None:
    """A URL for the pattern, or None when its arguments cannot be made."""
    names = list(pattern.pattern.regex.groupindex)
    if any(name not in ARGUMENTS for name in names):
        return None
    kwargs = {name: ARGUMENTS[name](owner) for name in names}
    return reverse(url_name, kwargs=kwargs)


def send(client: Client, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, {}, content_type="application/json")


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "next=" in response.get("Location", "")


def check_cell(cell: str, response: Any, where: str) -> None:
    status = response.status_code
    if cell in ("allow", "own"):
        assert status not in (401, 403), where
        assert not is_login_redirect(response), where
    elif cell == "admin":
        # Signed in to the admin; a model page may still answer 403.
        assert status != 401, where
        assert not is_login_redirect(response), where
    elif cell == "login":
        assert is_login_redirect(response), f"{where}: {status}"
    else:
        assert status == int(cell), f"{where}: {status}"


CASES = [
    (name, pattern, row)
    for name, pattern in url_patterns()
    if (row := row_for(name)) is not None
]


@pytest.mark.parametrize("who", PRINCIPALS)
def test_matrix_cells(who, roles):
    user = principal(who)
    client = Client()
    if user is not None:
        client.force_login(user)
    checked = 0
    for name, pattern, row in CASES:
        url = target(name, pattern, user)
        if url is None:
            continue
        for method in row.methods:
            response = send(client, method, url)
            check_cell(row.cells[who], response, f"{who} {method} {name}")
            checked += 1
            if name.endswith("logout") and user is not None:
                client.force_login(user)
    assert checked > len(ROWS)


@pytest.mark.parametrize(
    "row", [row for row in ROWS if "own" in row.cells.values()], ids=lambda r: r.name
)
def test_another_users_object_is_not_found(row, roles):
    owner = principal(Role.STAFF)
    for who, cell in row.cells.items():
        if cell != "own":
            continue
        reader = principal(who)
        assert reader is not None
        client = Client()
        client.force_login(reader)
        for name, pattern, matched in CASES:
            if matched is not row or not pattern.pattern.regex.groupindex:
                continue
            url = target(name, pattern, owner)
            assert url is not None
            for method in row.methods:
                response = send(client, method, url)
                assert response.status_code == 404, f"{who} {method} {name}"


@pytest.mark.parametrize(
    "row", [row for row in ROWS if row.scope not in ("-", "any")], ids=lambda r: r.name
)
def test_key_needs_the_rows_scope(row, roles):
    allowed = next(who for who, cell in row.cells.items() if cell in ("allow", "own"))
    user = principal(allowed)
    assert user is not None
    others = [scope for scope in all_scopes() if scope != Scope(row.scope).value]
    without = issue_api_key(user, "without", scopes=others).plaintext
    only = issue_api_key(user, "only", scopes=[row.scope]).plaintext
    for name, pattern, matched in CASES:
        if matched is not row:
            continue
        url = target(name, pattern, user)
        assert url is not None
        for method in row.methods:
            refused = send(Client(HTTP_AUTHORIZATION=f"Bearer {without}"), method, url)
            assert refused.status_code == 403, f"{method} {name}"
            assert refused.json()["error"]["code"] == "insufficient_scope"
            passed = send(Client(HTTP_AUTHORIZATION=f"Bearer {only}"), method, url)
            assert passed.status_code not in (401, 403), f"{method} {name}"
