"""The engines file: routes, and the start-up check that rejects mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from appliance.api.checks import check_engines
from appliance.inference import registry


@pytest.fixture
def engines_file(settings, tmp_path):
    path = tmp_path / "engines.yaml"
    settings.ENGINES_FILE = str(path)
    yield path
    registry.reset()


def write(path: Path, text: str) -> None:
    path.write_text(text)
    registry.reset()


def test_workload_routed_to_adapter(engines_file):
    write(
        engines_file,
        "engines:\n"
        "  gpu: {url: 'http://gpu.internal:8000/v1', kind: vllm, model: base}\n"
        "workloads:\n  compliance_check: {engine: gpu, model: compliance-lora}\n",
    )
    engine = registry.engine_for("compliance_check")
    assert (engine.name, engine.kind, engine.model) == (
        "gpu",
        "vllm",
        "compliance-lora",
    )
    assert check_engines() == []


def test_unknown_workload_fails_check(engines_file):
    write(engines_file, "workloads:\n  complaince_check: {engine: default}\n")
    errors = check_engines()
    assert [error.id for error in errors] == ["appliance.E002"]
    assert "complaince_check" in errors[0].msg


def test_unknown_engine_fails_check(engines_file):
    write(engines_file, "workloads:\n  compliance_check: {engine: nowhere}\n")
    errors = check_engines()
    assert [error.id for error in errors] == ["appliance.E001"]
    assert "'nowhere'" in errors[0].msg


def test_unreadable_key_file_named(engines_file, tmp_path):
    missing = tmp_path / "absent-key"
    write(
        engines_file,
        "engines:\n"
        "  gpu: {url: 'http://gpu/v1', kind: vllm, model: m,"
        f" api_key_file: '{missing}'}}\n",
    )
    with pytest.raises(ImproperlyConfigured, match=r"api_key_file .* cannot be read"):
        registry.all_engines()


def test_engine_repr_hides_api_key(engines_file):
    write(
        engines_file,
        "engines:\n"
        "  ext: {url: 'http://e/v1', kind: openai, model: m,"
        " api_key: sk-secret-value}\n",
    )
    engine = registry.all_engines()["ext"]
    assert engine.api_key == "sk-secret-value"
    assert "sk-secret-value" not in repr(engine)
