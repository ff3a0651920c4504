"""The escalation commands: sign-in as a named account, list, show, approve,
reject, policy publication and the distillation export."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from appliance.accounts.roles import Role
from appliance.accounts.services import assign_role
from appliance.audit.models import AuditEvent
from appliance.escalation import egress, services
from appliance.escalation.models import EscalationRequest, PolicyVersion
from tests.escalation.conftest import MODEL, PROVIDER, finished_job

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def password_file(tmp_path: Path, people) -> Path:
    for user in people.values():
        user.set_password(PASSWORD)
        user.save()
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    return path


def run(*args: str, password_file: Path) -> str:
    out = io.StringIO()
    call_command(*args, "--password-file", str(password_file), stdout=out)
    return out.getvalue()


def pending(people) -> EscalationRequest:
    job = finished_job(people["requester"])
    return services.create(
        people["requester"],
        services.Proposal(job=job, provider=PROVIDER, model=MODEL),
    )


def test_wrong_password_refused_and_audited(people, password_file, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.write_text("not the password")
    with pytest.raises(CommandError, match="Sign-in as 'alex' failed"):
        run("escalations", "list", "--user", "alex", password_file=wrong)
    assert AuditEvent.objects.filter(action="auth.cli_denied").exists()


def test_show_prints_exact_body(people, provider, password_file):
    request = pending(people)
    output = run(
        "escalations",
        "show",
        str(request.id),
        "--user",
        "alex",
        password_file=password_file,
    )
    summary, body = output.split("--- body (exact bytes that will be sent) ---\n")
    assert json.loads(summary)["body_sha256"] == request.body_sha256
    assert body.rstrip("\n").encode() == services.body_of(request)


def test_approve_then_send(people, provider, password_file):
    request = pending(people)
    output = run(
        "escalations",
        "approve",
        str(request.id),
        "--sha256",
        request.body_sha256,
        "--reason",
        "Redacted; allowed.",
        "--user",
        "alex",
        password_file=password_file,
    )
    assert output.strip() == f"{request.id} is now approved."
    egress.send(str(request.id))
    assert provider.received() == [services.body_of(request)]


def test_requester_cannot_approve_own(people, provider, password_file):
    # Even an approver may not approve a request of their own.
    assign_role(people["requester"], Role.APPROVER)
    request = pending(people)
    with pytest.raises(CommandError, match="their own requests"):
        run(
            "escalations",
            "approve",
            str(request.id),
            "--sha256",
            request.body_sha256,
            "--reason",
            "mine",
            "--user",
            "rita",
            password_file=password_file,
        )
    assert EscalationRequest.objects.get(id=request.id).state == "pending"


def test_reject_and_list(people, provider, password_file):
    request = pending(people)
    run(
        "escalations",
        "reject",
        str(request.id),
        "--sha256",
        request.body_sha256,
        "--reason",
        "Not needed.",
        "--user",
        "alex",
        password_file=password_file,
    )
    listed = run(
        "escalations",
        "list",
        "--state",
        "rejected",
        "--user",
        "rita",
        password_file=password_file,
    )
    assert str(request.id) in listed
    assert egress.send(str(request.id)).state == "rejected"
    assert provider.received() == []


def test_policy_publish_needs_admin(people, password_file, tmp_path):
    current = run(
        "escalation_policy", "show", "--user", "ada", password_file=password_file
    )
    document = yaml.safe_load(current)
    document["workloads"]["compliance_check"]["rules"]["internal"]["approvals"] = 2
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document))

    with pytest.raises(CommandError, match="Only administrators"):
        run(
            "escalation_policy",
            "publish",
            str(path),
            "--user",
            "alex",
            password_file=password_file,
        )
    output = run(
        "escalation_policy",
        "publish",
        str(path),
        "--comment",
        "two approvals",
        "--user",
        "ada",
        password_file=password_file,
    )
    assert output.strip() == "Published escalation policy version 2."
    latest = PolicyVersion.objects.get(version=2)
    assert latest.created_by == people["admin"]
    rules = latest.document["workloads"]["compliance_check"]["rules"]
    assert rules["internal"]["approvals"] == 2
    assert AuditEvent.objects.filter(
        action="escalation.policy_published", object_id="2"
    ).exists()


def test_invalid_policy_not_published(people, password_file, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("classify: {default: internal}\nworkloads: {x: {}}\n")
    with pytest.raises(CommandError, match="Invalid policy at workloads/x"):
        run(
            "escalation_policy",
            "publish",
            str(path),
            "--user",
            "ada",
            password_file=password_file,
        )
    assert not PolicyVersion.objects.filter(version__gt=1).exists()


def test_export_needs_permission(people, password_file, tmp_path):
    output = tmp_path / "out.jsonl"
    with pytest.raises(CommandError, match="Only administrators"):
        run(
            "export_distillation",
            "--workload",
            "compliance_check",
            "--output",
            str(output),
            "--user",
            "rita",
            password_file=password_file,
        )
    assert not output.exists()


def test_export_skips_answers_with_identifiers(
    people, provider, password_file, tmp_path
):
    answers = ["<PERSON_1> made a promise.", "Write to jane.roe@example.com now."]
    for answer in answers:
        provider.answer = answer
        request = pending(people)
        services.approve(
            request, people["approver"], body_sha256=request.body_sha256, reason="ok"
        )
        egress.send(str(request.id))
        services.accept(
            EscalationRequest.objects.get(id=request.id), people["requester"]
        )

    output = tmp_path / "out.jsonl"
    printed = run(
        "export_distillation",
        "--workload",
        "compliance_check",
        "--output",
        str(output),
        "--user",
        "ada",
        password_file=password_file,
    )
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["messages"][-1]["content"] for line in lines] == [answers[0]]
    assert "1 left out" in printed
