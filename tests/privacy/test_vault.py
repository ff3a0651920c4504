"""The pseudonym vault: stable tokens per scope, canonical values, sealed
storage, crypto-shredding and the reserved placeholder form."""

from __future__ import annotations

import pytest
from django.db import connection

from appliance.privacy import tokens, vault
from appliance.privacy.models import VaultEntry, VaultScope


@pytest.mark.django_db
def test_same_value_same_token_in_scope():
    first = vault.tokens_for("scope:a", None, [("PERSON", "Maria Lopez")])
    second = vault.tokens_for("scope:a", None, [("PERSON", "MARIA  LOPEZ")])

    assert first[("PERSON", "Maria Lopez")] == "<PERSON_1>"
    assert second[("PERSON", "MARIA  LOPEZ")] == "<PERSON_1>"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("entity_type", "one", "other"),
    [
        ("US_SSN", "536-22-8190", "536 22 8190"),
        ("PHONE_NUMBER", "(212) 555-0147", "+1 212.555.0147"),
        ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32", "gb82west12345698765432"),
        ("CREDIT_CARD", "4111 1111 1111 1111", "\uff14111-1111-1111-1111"),
        ("PERSON", "Maria Lopez's", "Maria Lopez"),
    ],
)
def test_canonical_forms_share_token(entity_type, one, other):
    issued = vault.tokens_for(
        "scope:forms", None, [(entity_type, one), (entity_type, other)]
    )

    assert issued[(entity_type, one)] == issued[(entity_type, other)]


@pytest.mark.django_db
def test_numbers_count_per_type():
    issued = vault.tokens_for(
        "scope:b",
        None,
        [
            ("PERSON", "Ann Lee"),
            ("PERSON", "Bo Chen"),
            ("EMAIL_ADDRESS", "a@example.com"),
        ],
    )

    assert sorted(issued.values()) == ["<EMAIL_ADDRESS_1>", "<PERSON_1>", "<PERSON_2>"]


@pytest.mark.django_db
def test_scopes_do_not_share_lookups():
    vault.tokens_for("scope:x", None, [("PERSON", "Maria Lopez")])
    vault.tokens_for("scope:y", None, [("PERSON", "Maria Lopez")])

    lookups = list(VaultEntry.objects.values_list("lookup", flat=True))
    assert len(lookups) == 2
    assert lookups[0] != lookups[1]


@pytest.mark.django_db
def test_values_stored_sealed():
    vault.tokens_for("scope:sealed", None, [("PERSON", "Harriet Quinlan")])

    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM privacy_vaultentry t")
        rows = " ".join(row[0] for row in cursor.fetchall())
    assert "Harriet" not in rows
    assert b"Harriet".hex() not in rows


@pytest.mark.django_db
def test_destroyed_scope_cannot_be_read():
    vault.tokens_for("scope:gone", None, [("PERSON", "Maria Lopez")])
    vault.destroy_scope("scope:gone")
    scope = VaultScope.objects.get(id="scope:gone")

    with pytest.raises(vault.ScopeDestroyed):
        vault.values_for(scope)


def test_example_placeholders_use_letters():
    assert tokens.example_placeholder("PERSON", 1) == "<PERSON_A>"
    assert tokens.example_placeholder("EMAIL_ADDRESS", 27) == "<EMAIL_ADDRESS_AA>"
    assert tokens.is_reserved("<PERSON_B>")


def test_issued_tokens_never_reserved():
    issued = [tokens.issued_token("PERSON", n) for n in range(1, 200)]

    assert not any(tokens.is_reserved(token) for token in issued)


@pytest.mark.parametrize("entity_type", ["PERSON_1", "person", "", "A"])
def test_unusable_entity_type_rejected(entity_type):
    with pytest.raises(ValueError):
        tokens.issued_token(entity_type, 1)
