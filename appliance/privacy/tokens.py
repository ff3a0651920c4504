"""Pseudonym tokens: the form the vault issues, the reserved form that
prompts use for examples, and the forms models write tokens back in.

The vault issues ``<TYPE_N>``: an entity type in capitals and a positive
number, such as ``<PERSON_1>``. Few-shot examples in prompts use the
reserved form ``<TYPE_X>``, a letter in place of the number
(``example_placeholder("PERSON", 1)`` is ``<PERSON_A>``), which the vault
never issues and re-identification never replaces; so an example person and
a real one never share a token in one prompt.
"""

from __future__ import annotations

import string

import regex

ENTITY_TYPE = regex.compile(r"[A-Z]{2,30}(?:_[A-Z]{2,30}){0,4}")
# A token exactly as issued, or a reserved placeholder, as found in input.
ISSUED = regex.compile(r"<([A-Z]{2,30}(?:_[A-Z]{2,30}){0,4})_(\d{1,7})>")
RESERVED = regex.compile(r"<([A-Z]{2,30}(?:_[A-Z]{2,30}){0,4})_([A-Z]{1,3})>")
# Tokens as models write them back: any case, spaces or hyphens for the
# underscores, blanks inside the brackets, square or curly brackets, a
# missing bracket, the number before the type.
_NAME = r"[A-Za-z]{2,30}(?:[ _-]{1,2}[A-Za-z]{2,30}){0,4}"
LOOSE = regex.compile(
    r"(?:[<\[{]{1,2}[ \t]{0,2}(?:(?P<type>" + _NAME + r")[ _-]{0,2}(?P<number>\d{1,7})"
    r"|(?P<number2>\d{1,7})[ _-]{1,2}(?P<type2>" + _NAME + r"))[ \t]{0,2}[>\]}]{0,2}"
    r"|(?<![\w<\[{])(?P<type3>[A-Za-z]{2,30}(?:_[A-Za-z]{2,30}){0,4})_(?P<number3>\d{1,7})"
    r"[>\]}]{0,2}(?![\w]))"
)
# Names models use for an entity type in place of the one issued.
SYNONYMS = {
    "NAME": "PERSON",
    "PER": "PERSON",
    "EMAIL": "EMAIL_ADDRESS",
    "PHONE": "PHONE_NUMBER",
    "SSN": "US_SSN",
    "ADDRESS": "STREET_ADDRESS",
    "CARD": "CREDIT_CARD",
    "IBAN": "IBAN_CODE",
    "DOB": "DATE_OF_BIRTH",
}


def issued_token(entity_type: str, number: int) -> str:
    """Format the token the vault issues; raise ValueError for anything that
    would not read back as one."""
    if not ENTITY_TYPE.fullmatch(entity_type) or number < 1:
        raise ValueError(f"cannot issue a token for {entity_type!r} {number}")
    return f"<{entity_type}_{number}>"


def example_placeholder(entity_type: str, index: int) -> str:
    """Format the reserved placeholder for the ``index``-th (from 1) example
    entity of a type: A to Z, then AA, AB and so on."""
    if not ENTITY_TYPE.fullmatch(entity_type) or index < 1:
        raise ValueError(f"no placeholder for {entity_type!r} {index}")
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = string.ascii_uppercase[remainder] + letters
    return f"<{entity_type}_{letters}>"


def is_reserved(text: str) -> bool:
    return bool(RESERVED.fullmatch(text))


def squash(entity_type: str) -> str:
    """Remove case and separators from an entity type, for comparing the
    type a model wrote with the one issued."""
    return regex.sub(r"[ _-]", "", entity_type).upper()


def read_loose(match: regex.Match[str]) -> tuple[str, int]:
    """Return the squashed type and the number of a LOOSE match."""
    entity_type = match.group("type") or match.group("type2") or match.group("type3")
    number = match.group("number") or match.group("number2") or match.group("number3")
    squashed = squash(entity_type)
    return squash(SYNONYMS.get(squashed, squashed)), int(number)
