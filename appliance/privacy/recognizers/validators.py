"""Checks that confirm a pattern match is a real identifier, by name.

Checksums and structure rules come from python-stdnum; IP addresses from the
standard library. A validator returns False for a value that cannot be the
identifier, and the match is dropped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import regex
from presidio_analyzer.predefined_recognizers import CryptoRecognizer
from stdnum import iban, luhn
from stdnum.exceptions import ValidationError
from stdnum.gb import nhs
from stdnum.us import itin, rtn, ssn

_NINO = regex.compile(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")
# Prefixes never issued as the first two letters of a National Insurance
# number (HM Revenue & Customs, National Insurance Manual NIM39110).
_NINO_NEVER = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())


def _stdnum(module: object) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            module.validate(value)  # type: ignore[attr-defined]
        except ValidationError:
            return False
        return True

    return check


# Issuer prefixes of the card networks: Visa, Mastercard (51-55, 2221-2720),
# American Express, Diners Club, Discover, JCB, UnionPay and Maestro.
_CARD_PREFIX = regex.compile(
    r"4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|3(?:0[0-5]|[68])|6(?:011|4[4-9]|5)"
    r"|35(?:2[89]|[3-8])|62|5[06-9]|6[0-9]"
)


def _card(value: str) -> bool:
    digits = _digits(value)
    return (
        13 <= len(digits) <= 19
        and bool(_CARD_PREFIX.match(digits))
        and luhn.is_valid(digits)
    )


def _ip_address(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    # 0.0.0.0, 255.255.255.255 and the like name no host.
    return not (address.is_unspecified or str(address) == "255.255.255.255")


def _gb_nino(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    return bool(_NINO.fullmatch(compact)) and compact[:2] not in _NINO_NEVER


def _bitcoin(value: str) -> bool:
    # Presidio's own Base58Check and Bech32 checks; the recognizer is built
    # once for them.
    return bool(_BITCOIN.validate_result(value))


_BITCOIN = CryptoRecognizer()


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": _card,
    "iban": lambda value: iban.is_valid(value.upper()),
    "us_ssn": lambda value: _stdnum(ssn)(_digits(value)),
    "us_itin": lambda value: _stdnum(itin)(_digits(value)),
    "aba_routing": lambda value: rtn.is_valid(_digits(value)),
    "gb_nhs": lambda value: nhs.is_valid(_digits(value)),
    "gb_nino": _gb_nino,
    "ip_address": _ip_address,
    "bitcoin": _bitcoin,
}

# Checksums make a match strong evidence on their own: a well-formed value
# passes one by chance about once in ten (Luhn) or far less often.
CHECKSUMS = frozenset({"luhn", "iban", "aba_routing", "gb_nhs", "bitcoin"})

# Validators whose failure a context word overrides; see
# BoundedPatternRecognizer.score.
OVERRIDABLE = frozenset({"luhn", "iban", "us_ssn", "us_itin", "aba_routing", "gb_nhs"})
