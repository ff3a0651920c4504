"""With APPLIANCE_ESCALATION_APPROVER_OTP on, an approval needs a current
TOTP code from one of the approver's confirmed django-otp devices."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from appliance.audit.models import AuditEvent
from appliance.escalation import services
from appliance.escalation.errors import SecondFactorRequired
from appliance.escalation.models import EscalationRequest
from tests.escalation.conftest import MODEL, PROVIDER, finished_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending(people, provider, settings) -> EscalationRequest:
    settings.ESCALATION_APPROVER_OTP = True
    job = finished_job(people["requester"])
    return services.create(
        people["requester"],
        services.Proposal(job=job, provider=PROVIDER, model=MODEL),
    )


@pytest.mark.parametrize("otp", [None, "000000"])
def test_approval_without_valid_code_refused(pending, people, otp):
    TOTPDevice.objects.create(user=people["approver"], name="phone", confirmed=True)
    with pytest.raises(SecondFactorRequired):
        services.approve(
            pending,
            people["approver"],
            body_sha256=pending.body_sha256,
            reason="ok",
            otp=otp,
        )
    assert pending.approvals.count() == 0
    assert AuditEvent.objects.filter(action="escalation.second_factor_failed").exists()


def test_unconfirmed_device_does_not_count(pending, people):
    device = TOTPDevice.objects.create(
        user=people["approver"], name="phone", confirmed=False
    )
    with pytest.raises(SecondFactorRequired):
        services.approve(
            pending,
            people["approver"],
            body_sha256=pending.body_sha256,
            reason="ok",
            otp=str(totp(device.bin_key)).zfill(6),
        )


def test_current_code_approves(pending, people, api_client_for):
    device = TOTPDevice.objects.create(
        user=people["approver"], name="phone", confirmed=True
    )
    response = api_client_for(people["approver"]).post(
        f"/api/v1/escalations/{pending.id}/approve",
        {
            "body_sha256": pending.body_sha256,
            "reason": "Redacted; allowed.",
            "otp": str(totp(device.bin_key)).zfill(6),
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    approval = pending.approvals.get()
    assert approval.second_factor is True
