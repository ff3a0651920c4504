"""The last check before a payload leaves for a model: a scan of the exact
bytes for fixed-format identifiers (e-mail addresses, card numbers, SSNs,
IBANs, phone numbers, account and employee ids, deny-listed terms).

Every text in a payload has been redacted already, so this scan guards
against bugs, not content. It runs the registry's identifier recognizers
(no NLP pass), on normalized text, which keeps it cheap enough for every
call. A JSON payload is scanned string by string after decoding, because
JSON escapes non-ASCII characters: a card number in full-width digits
reads as ``\\uff14\\uff11...`` in the bytes.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

from appliance.privacy import engines
from appliance.privacy.errors import PayloadBlocked

logger = logging.getLogger(__name__)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def find_identifiers(text: str) -> Counter[str]:
    """Count identifier-type entities in ``text`` by type."""
    found: Counter[str] = Counter()
    for finding in engines.get_scanner().analyze(text):
        found[finding.entity_type] += 1
    return found


def scan_payload(payload: bytes) -> Counter[str]:
    """Count identifiers in every string of a JSON payload, or in the whole
    payload when it is not JSON."""
    text = payload.decode("utf-8")
    try:
        texts = list(_strings(json.loads(text)))
    except ValueError:
        texts = [text]
    found: Counter[str] = Counter()
    results = engines.get_scanner().analyze_batch(texts) if texts else []
    for findings in results:
        found.update(finding.entity_type for finding in findings)
    return found


def ensure_clean(payload: bytes) -> None:
    """Raise PayloadBlocked if the payload still holds an identifier."""
    try:
        found = scan_payload(payload)
    except Exception as exc:
        # A scan that cannot finish cannot vouch for the payload.
        logger.error("residual scan raised %s; payload blocked", type(exc).__name__)
        raise PayloadBlocked() from None
    if found:
        logger.warning("payload blocked: residual identifiers %s", dict(found))
        raise PayloadBlocked()
