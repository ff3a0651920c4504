"""External providers: OpenAI-compatible endpoints outside the building.

They are configured in the YAML file that APPLIANCE_ESCALATION_PROVIDERS_FILE
names (see deploy/escalation-providers.example.yaml), never in the database.
An API key comes from a file (``api_key_file``), so no key is stored in
plaintext where the appliance keeps its data. This module holds
configuration only: ``egress`` is the one module that sends to a provider.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Characters per token, for the estimate made before a request is approved.
# Four is the usual figure for English text with GPT-style tokenizers; the
# provider's count replaces the estimate once the answer arrives.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Price:
    """Prices per million tokens, in the budget's currency."""

    input: Decimal
    output: Decimal


@dataclass(frozen=True)
class Provider:
    name: str
    url: str
    models: dict[str, Price]
    timeout: float
    max_tokens: int
    api_key: str | None = None

    def __repr__(self) -> str:  # keeps the API key out of logs and tracebacks
        return f"Provider({self.name!r}, {self.url})"

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        price = self.models[model]
        total = (
            price.input * prompt_tokens + price.output * completion_tokens
        ) / Decimal(1_000_000)
        return total.quantize(Decimal("0.000001"))


def estimate_prompt_tokens(body: bytes) -> int:
    """An estimate of the prompt's tokens from the body's length."""
    return math.ceil(len(body.decode("utf-8")) / CHARS_PER_TOKEN)


def _price(provider: str, model: str, spec: Any) -> Price:
    spec = spec or {}
    try:
        return Price(
            input=Decimal(str(spec.get("input_per_million", 0))),
            output=Decimal(str(spec.get("output_per_million", 0))),
        )
    except ArithmeticError:
        raise ImproperlyConfigured(
            f"Escalation provider {provider!r}, model {model!r}: prices must be "
            "numbers (input_per_million, output_per_million)."
        ) from None


def _provider(name: str, spec: dict[str, Any]) -> Provider:
    url = str(spec.get("url", "")).rstrip("/")
    models = spec.get("models") or {}
    if not url or not models:
        raise ImproperlyConfigured(
            f"Escalation provider {name!r} needs a url and at least one model."
        )
    api_key = None
    key_file = spec.get("api_key_file")
    if key_file:
        try:
            api_key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"Escalation provider {name!r}: api_key_file {key_file!r} cannot "
                f"be read ({exc.strerror}). Fix the path or its permissions."
            ) from None
    return Provider(
        name=name,
        url=url,
        models={model: _price(name, model, price) for model, price in models.items()},
        timeout=float(spec.get("timeout", 120)),
        max_tokens=int(spec.get("max_tokens", 1024)),
        api_key=api_key,
    )


@lru_cache(maxsize=1)
def _load() -> dict[str, Provider]:
    path_setting = settings.ESCALATION_PROVIDERS_FILE
    if not path_setting:
        return {}
    path = Path(path_setting)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ImproperlyConfigured(
            f"APPLIANCE_ESCALATION_PROVIDERS_FILE {path} cannot be read: {exc}"
        ) from None
    providers = data.get("providers") or {}
    return {name: _provider(name, spec or {}) for name, spec in providers.items()}


def get(name: str) -> Provider | None:
    return _load().get(name)


def all_providers() -> dict[str, Provider]:
    return dict(_load())


def reset() -> None:
    """Forget the loaded file, after the settings changed (tests)."""
    _load.cache_clear()
