"""redact() and re-identification: offsets, foreign tokens, the forms in
which models write tokens back, and who may see the values."""

from __future__ import annotations

import pytest

from appliance.accounts.roles import Role
from appliance.audit.models import AuditEvent
from appliance.audit.services import read_fields
from appliance.privacy import engines
from appliance.privacy.errors import RedactionFailed, ReidentificationDenied
from appliance.privacy.redaction import redact, redact_stream, reidentify

TEXT = "Maria Lopez (SSN 536-22-8190) wrote to jordan.ellis@example.com."


@pytest.mark.django_db
def test_redact_replaces_and_maps_back(fresh_engines):
    redaction = redact(TEXT, scope_id="job:r1", owner_id=None)

    assert redaction.text == "<PERSON_1> (SSN <US_SSN_1>) wrote to <EMAIL_ADDRESS_1>."
    for entity in redaction.entities:
        assert redaction.original_span(entity.redacted_start, entity.redacted_end) == (
            entity.start,
            entity.end,
        )


@pytest.mark.django_db
def test_token_shaped_input_gets_own_token(fresh_engines, make_user):
    owner = make_user(Role.STAFF)
    text = "Maria Lopez replied to <PERSON_1> and to the example <PERSON_A>."

    redaction = redact(text, scope_id="job:r2", owner_id=owner.pk)

    assert (
        redaction.text
        == "<PERSON_1> replied to <PERSON_2> and to the example <PERSON_3>."
    )
    assert reidentify(redaction.text, scope_id="job:r2", requester=owner) == text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "written",
    [
        "<PERSON_1>",
        "<person_1>",
        "< PERSON_1 >",
        "<PERSON 1>",
        "<PERSON-1>",
        "[PERSON_1]",
        "{PERSON_1}",
        "PERSON_1",
        "<1_PERSON>",
        "<PER SON_1>",
        "<NAME_1>",
    ],
)
def test_reidentify_reads_mangled_tokens(fresh_engines, make_user, written):
    owner = make_user(Role.STAFF)
    redact("Maria Lopez called.", scope_id="job:r3", owner_id=owner.pk)

    restored = reidentify(f"Ask {written} today.", scope_id="job:r3", requester=owner)

    assert restored == "Ask Maria Lopez today."


@pytest.mark.django_db
def test_reidentify_leaves_unknown_and_reserved_tokens(fresh_engines, make_user):
    owner = make_user(Role.STAFF)
    redact("Maria Lopez called.", scope_id="job:r4", owner_id=owner.pk)
    text = "<PERSON_1> met <PERSON_7> and the example <PERSON_A>."

    restored = reidentify(text, scope_id="job:r4", requester=owner)

    assert restored == "Maria Lopez met <PERSON_7> and the example <PERSON_A>."
    event = AuditEvent.objects.filter(action="privacy.reidentified").last()
    assert event is not None
    assert read_fields(event)["details"] == {"tokens": 1, "unknown_tokens": 1}


# Transactional: the denial is written on the audit connection, in its own
# transaction, which a test wrapped in one transaction could not see.
@pytest.mark.django_db(transaction=True)
def test_reidentify_refuses_another_user(fresh_engines, make_user):
    owner = make_user(Role.STAFF)
    other = make_user(Role.STAFF)
    redaction = redact(TEXT, scope_id="job:r5", owner_id=owner.pk)

    with pytest.raises(ReidentificationDenied):
        reidentify(redaction.text, scope_id="job:r5", requester=other)

    denied = AuditEvent.objects.filter(action="privacy.reidentify_denied")
    assert denied.filter(actor_id=other.pk, object_id="job:r5").count() == 1


@pytest.mark.django_db
def test_analyzer_fault_raises_redaction_failed(fresh_engines, monkeypatch):
    analyzer = engines.get_analyzer()

    def broken(texts):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(analyzer, "analyze_batch", broken)

    with pytest.raises(RedactionFailed):
        redact(TEXT, scope_id="job:r6", owner_id=None)


@pytest.mark.django_db
def test_stream_redacts_entity_on_step_edge(fresh_engines):
    text = "x " * 300 + "Maria Lopez, SSN 536-22-8190. " + "y " * 300
    pieces = [text[i : i + 97] for i in range(0, len(text), 97)]

    parts = list(
        redact_stream(pieces, scope_id="job:r7", owner_id=None, step=600, lookahead=100)
    )

    joined = "".join(part.text for part in parts)
    assert len(parts) > 1
    assert joined == text.replace("Maria Lopez", "<PERSON_1>").replace(
        "536-22-8190", "<US_SSN_1>"
    )
