"""The typed environment readers: values, NAME_FILE secrets, and errors that
name the variable and the fix."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from appliance.settings.env import EnvReader


def reader(**values: str) -> EnvReader:
    return EnvReader({f"APPLIANCE_{key}": value for key, value in values.items()})


def test_int_parsed():
    assert reader(LIMIT="42").get_int("LIMIT", 1) == 42


def test_int_default_when_unset():
    assert reader().get_int("LIMIT", 7) == 7


def test_bad_int_names_variable():
    with pytest.raises(ImproperlyConfigured) as error:
        reader(LIMIT="ten").get_int("LIMIT", 10, unit="seconds")
    assert "APPLIANCE_LIMIT='ten' is not a whole number" in str(error.value)
    assert "APPLIANCE_LIMIT=10" in str(error.value)


def test_int_below_minimum_rejected():
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 5"):
        reader(LIMIT="1").get_int("LIMIT", 10, minimum=5)


@pytest.mark.parametrize(
    ("raw", "expected"), [("yes", True), ("0", False), ("True", True)]
)
def test_bool_parsed(raw, expected):
    assert reader(FLAG=raw).get_bool("FLAG", not expected) is expected


def test_bad_bool_rejected():
    with pytest.raises(
        ImproperlyConfigured, match="APPLIANCE_FLAG='maybe' is not a boolean"
    ):
        reader(FLAG="maybe").get_bool("FLAG", False)


def test_choice_rejects_unknown():
    with pytest.raises(ImproperlyConfigured, match="not one of llamacpp, vllm"):
        reader(KIND="tgi").get_choice("KIND", "llamacpp", ("llamacpp", "vllm"))


def test_secret_read_from_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-value\n")
    assert reader(SECRET_KEY_FILE=str(secret)).get_str("SECRET_KEY") == "s3cr3t-value"


def test_secret_file_missing_names_path(tmp_path):
    missing = tmp_path / "absent"
    with pytest.raises(ImproperlyConfigured) as error:
        reader(SECRET_KEY_FILE=str(missing)).get_str("SECRET_KEY")
    assert "APPLIANCE_SECRET_KEY_FILE" in str(error.value)
    assert "cannot be read" in str(error.value)


def test_value_and_file_together_rejected(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x")
    with pytest.raises(ImproperlyConfigured, match="Keep one of them"):
        reader(SECRET_KEY="y", SECRET_KEY_FILE=str(secret)).get_str("SECRET_KEY")


def test_dollar_value_kept_literally():
    assert reader(SECRET_KEY="$HOME").get_str("SECRET_KEY") == "$HOME"


def test_required_value_missing():
    with pytest.raises(ImproperlyConfigured, match="APPLIANCE_SECRET_KEY is required"):
        reader().get_str("SECRET_KEY")


def test_key_of_wrong_length_rejected():
    short = base64.b64encode(b"short").decode()
    with pytest.raises(ImproperlyConfigured) as error:
        reader(DATA_KEY=short).get_key("DATA_KEY")
    assert "32 random bytes in base64" in str(error.value)
    assert short not in str(error.value)


def test_database_url_parsed():
    config = reader(
        DATABASE_URL="postgresql://app:p%40ss@db.internal:5433/appliance"
    ).get_database("DATABASE_URL")
    assert config["NAME"] == "appliance"
    assert config["PASSWORD"] == "p@ss"
    assert config["PORT"] == 5433


def test_non_postgres_database_rejected():
    with pytest.raises(ImproperlyConfigured, match="must be a postgresql:// URL"):
        reader(DATABASE_URL="mysql://x@y/z").get_database("DATABASE_URL")
