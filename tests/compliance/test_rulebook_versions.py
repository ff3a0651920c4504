"""Rulebooks as versioned data: the seed, new versions for every edit made
in the admin, and checks bound to the version they ran against."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.compliance import store
from appliance.compliance.models import Rule, Rulebook, RulebookVersion
from appliance.compliance.rulebook import RULEBOOK_DIR, RulebookError
from appliance.compliance.services import rulebook_for
from appliance.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    return client


def current_rule(rule_id: str, rulebook: str = "financial-communications") -> Rule:
    book = Rulebook.objects.get(slug=rulebook)
    return Rule.objects.get(version=book.current, rule_id=rule_id)


def form_data(rule: Rule, **changes: object) -> dict[str, str]:
    values: dict[str, object] = {
        "rule_id": rule.rule_id,
        "title": rule.title,
        "severity": rule.severity,
        "description": rule.description,
        "instruction": rule.instruction,
        "examples": rule.examples,
        "strong": rule.strong,
        "weak": rule.weak,
        "unless": rule.unless,
        "unless_scope": rule.unless_scope,
        "context": rule.context,
        "channels": rule.channels,
        "products": rule.products,
        "audiences": rule.audiences,
        **changes,
    }
    return {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }


def test_seeded_rulebooks_present(db):
    assert set(store.rulebook_ids()) == {"financial-communications", "data-handling"}
    financial = store.load("financial-communications")
    assert [rule.id for rule in financial.rules] == [f"FIN-00{n}" for n in range(1, 9)]
    assert financial.version == "1"
    assert len(financial.content_hash) == 64


def test_load_rulebooks_is_idempotent(db):
    before = RulebookVersion.objects.count()
    out = io.StringIO()
    call_command("load_rulebooks", stdout=out)
    assert "up to date" in out.getvalue()
    assert RulebookVersion.objects.count() == before


def test_changed_file_creates_version(db, tmp_path):
    source = RULEBOOK_DIR / "data_handling.yaml"
    changed = source.read_text().replace(
        "title: Request for passwords, PINs or identifiers",
        "title: Requests for credentials",
    )
    (tmp_path / "data_handling.yaml").write_text(changed)
    created = store.load_rulebook_files(tmp_path)
    assert [version.number for version in created] == [2]
    assert store.load("data-handling").rule("DATA-002").title == (
        "Requests for credentials"
    )
    assert store.load("data-handling", 1).rule("DATA-002").title != (
        "Requests for credentials"
    )


def test_admin_edit_creates_version(admin_client):
    rule = current_rule("FIN-008")
    response = admin_client.post(
        f"/admin/compliance/rule/{rule.pk}/change/",
        form_data(rule, title="Claims of conflict-free advice"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    book = Rulebook.objects.get(slug="financial-communications")
    assert book.current is not None
    assert book.current.number == 2
    assert current_rule("FIN-008").title == "Claims of conflict-free advice"
    old = Rule.objects.get(pk=rule.pk)
    assert old.title != "Claims of conflict-free advice"
    assert old.version.number == 1
    assert store.load("financial-communications", 1).rule("FIN-008").title == (
        old.title
    )
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "compliance.rulebook_versioned" in actions
    assert "admin.changed" in actions


def test_admin_rejects_invalid_pattern(admin_client):
    rule = current_rule("FIN-008")
    response = admin_client.post(
        f"/admin/compliance/rule/{rule.pk}/change/",
        form_data(rule, strong=["(unclosed"]),
    )
    assert response.status_code == 200
    assert "invalid pattern" in response.content.decode()
    current = Rulebook.objects.get(slug="financial-communications").current
    assert current is not None
    assert current.number == 1


def test_old_version_rule_not_editable(make_user):
    admin_client = Client(raise_request_exception=False)
    admin_client.force_login(make_user(Role.ADMIN))
    rule = current_rule("FIN-008")
    store.revise_rule(rule, store.rule_data(rule) | {"title": "Renamed"}, None)
    response = admin_client.post(
        f"/admin/compliance/rule/{rule.pk}/change/", form_data(rule, title="Again")
    )
    assert response.status_code == 403
    with pytest.raises(RulebookError, match="no longer current"):
        store.revise_rule(rule, store.rule_data(rule), None)


def test_admin_delete_creates_version(admin_client):
    rule = current_rule("DATA-003", "data-handling")
    response = admin_client.post(
        f"/admin/compliance/rule/{rule.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert [r.id for r in store.load("data-handling").rules] == [
        "DATA-001",
        "DATA-002",
    ]
    assert Rule.objects.filter(pk=rule.pk).exists()


def test_staff_cannot_edit_rules(make_user):
    client = Client()
    client.force_login(make_user(Role.STAFF))
    rule = current_rule("FIN-001")
    response = client.get(f"/admin/compliance/rule/{rule.pk}/change/")
    assert response.status_code == 302  # to the admin login page


def test_applicability_filters_rules(db):
    rule = current_rule("FIN-003")
    store.revise_rule(
        rule, store.rule_data(rule) | {"applies_to": {"channels": ["social"]}}, None
    )
    by_email = rulebook_for(
        {"rulebook": "financial-communications", "channel": "email"}
    )
    social = rulebook_for({"rulebook": "financial-communications", "channel": "social"})
    unset = rulebook_for({"rulebook": "financial-communications"})
    assert "FIN-003" not in [r.id for r in by_email.rules]
    assert "FIN-003" in [r.id for r in social.rules]
    assert "FIN-003" in [r.id for r in unset.rules]
    assert by_email.version == "2"


def test_submission_pins_current_version(make_user, api_client_for):
    client = api_client_for(make_user(Role.STAFF))
    response = client.post(
        "/api/v1/compliance-checks",
        {"text": "Hello.", "rulebook": "data-handling", "channel": "email"},
        format="json",
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(id=response.json()["id"])
    assert job.options == {
        "rulebook": "data-handling",
        "rulebook_version": "1",
        "channel": "email",
    }

    rule = current_rule("DATA-001", "data-handling")
    store.revise_rule(rule, store.rule_data(rule) | {"title": "Identifiers"}, None)
    assert rulebook_for(job.options).version == "1"
