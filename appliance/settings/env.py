"""Typed readers for the appliance's environment variables.

Every variable carries the ``APPLIANCE_`` prefix. A secret may be given as
``APPLIANCE_NAME_FILE``, the path of a file whose contents (without the
trailing newline) are used instead. Setting both is an error. Every reader
raises ``ImproperlyConfigured`` naming the variable, the bad value (never for
secrets) and the fix, so a bad value stops start-up instead of surfacing later.

django-environ parses database URLs; the readers here are our own because its
``Env`` expands values that start with ``$`` and keeps the newline of secret
files, both wrong for generated keys.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import environ  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured

PREFIX = "APPLIANCE_"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvReader:
    """Reads prefixed variables from a mapping (``os.environ`` by default)."""

    def __init__(self, environ_: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ_ is None else environ_

    def name(self, key: str) -> str:
        return PREFIX + key

    def raw(self, key: str, *, secret: bool = False) -> str | None:
        """Return the variable's text, from ``NAME_FILE`` when that is set."""
        name = self.name(key)
        file_name = name + "_FILE"
        value = self.environ.get(name)
        path = self.environ.get(file_name)
        if value is not None and path is not None:
            raise ImproperlyConfigured(
                f"Both {name} and {file_name} are set. Keep one of them."
            )
        if path is None:
            return value if value != "" else None
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{file_name} points to {path!r}, which cannot be read "
                f"({exc.strerror}). Fix the path or the file's permissions."
            ) from None
        text = text.rstrip("\r\n")
        if not text:
            raise ImproperlyConfigured(
                f"{file_name} points to {path!r}, which is empty. "
                f"Write the {'secret' if secret else 'value'} into that file."
            )
        return text

    def is_set(self, key: str) -> bool:
        return self.raw(key) is not None

    def get_str(
        self, key: str, default: str | None = None, *, secret: bool = False
    ) -> str:
        value = self.raw(key, secret=secret)
        if value is not None:
            return value
        if default is None:
            raise ImproperlyConfigured(f"{self.name(key)} is required but not set.")
        return default

    def get_optional_str(self, key: str, *, secret: bool = False) -> str | None:
        return self.raw(key, secret=secret)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{self.name(key)}={value!r} is not a boolean. Use true or false."
        )

    def get_int(
        self,
        key: str,
        default: int,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        unit: str = "",
    ) -> int:
        value = self.raw(key)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(
                f"{self.name(key)}={value!r} is not a whole number. "
                f"Set it like {self.name(key)}={default}{unit and ' (' + unit + ')'}."
            ) from None
        self._check_range(key, number, minimum, maximum, unit)
        return number

    def get_float(
        self,
        key: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        unit: str = "",
    ) -> float:
        value = self.raw(key)
        if value is None:
            return default
        try:
            number = float(value.strip())
        except ValueError:
            raise ImproperlyConfigured(
                f"{self.name(key)}={value!r} is not a number. "
                f"Set it like {self.name(key)}={default}{unit and ' (' + unit + ')'}."
            ) from None
        self._check_range(key, number, minimum, maximum, unit)
        return number

    def get_list(self, key: str, default: list[str]) -> list[str]:
        value = self.raw(key)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def get_choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get_str(key, default).strip().lower()
        if value not in choices:
            raise ImproperlyConfigured(
                f"{self.name(key)}={value!r} is not one of {', '.join(choices)}."
            )
        return value

    def get_database(self, key: str) -> dict[str, Any]:
        """Parse a ``postgres://`` URL into a Django ``DATABASES`` entry."""
        url = self.get_str(key, secret=True)
        if not url.startswith(("postgres://", "postgresql://")):
            raise ImproperlyConfigured(
                f"{self.name(key)} must be a postgresql:// URL, for example "
                "postgresql://appliance:PASSWORD@db.internal:5432/appliance."
            )
        config: dict[str, Any] = environ.Env.db_url_config(url)
        return config

    def get_key(self, key: str, *, length: int = 32) -> bytes | None:
        """Decode a base64 key of ``length`` bytes, or None when unset."""
        value = self.raw(key, secret=True)
        if value is None:
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) != length:
            raise ImproperlyConfigured(
                f"{self.name(key)} must be {length} random bytes in base64. "
                'Generate one with: python -c "import base64, os; '
                f'print(base64.b64encode(os.urandom({length})).decode())"'
            )
        return decoded

    def get_keys(self, key: str, *, length: int = 32) -> list[bytes]:
        """Decode a comma-separated list of base64 keys of ``length`` bytes."""
        value = self.raw(key, secret=True)
        if value is None:
            return []
        keys = []
        for item in value.split(","):
            try:
                decoded = base64.b64decode(item.strip(), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            if len(decoded) != length:
                raise ImproperlyConfigured(
                    f"{self.name(key)} must list base64 keys of {length} bytes, "
                    "separated by commas."
                )
            keys.append(decoded)
        return keys

    def _check_range(
        self,
        key: str,
        number: float,
        minimum: float | None,
        maximum: float | None,
        unit: str,
    ) -> None:
        suffix = f" {unit}" if unit else ""
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(
                f"{self.name(key)}={number} is below the minimum of {minimum}{suffix}."
            )
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(
                f"{self.name(key)}={number} is above the maximum of {maximum}{suffix}."
            )


env = EnvReader()
