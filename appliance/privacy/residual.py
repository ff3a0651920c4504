"""The last check before a payload leaves for a model: a scan of the exact
bytes for identifiers that must never be sent (e-mail addresses, card
numbers, SSNs, IBANs, phone numbers, IP addresses).

Every text in a payload has been redacted already, so this scan guards
against bugs, not content. It uses Presidio's pattern recognizers only (no
NLP pass), which keeps it cheap enough to run on every call.
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

from appliance.privacy.errors import PayloadBlocked

logger = logging.getLogger(__name__)

MIN_SCORE = 0.5


@lru_cache(maxsize=1)
def _recognizers() -> tuple[EntityRecognizer, ...]:
    return (
        EmailRecognizer(),
        CreditCardRecognizer(),
        UsSsnRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        PhoneRecognizer(),
    )


def find_identifiers(text: str) -> Counter[str]:
    """Count identifier-type entities in ``text`` by type."""
    found: Counter[str] = Counter()
    for recognizer in _recognizers():
        # Pattern recognizers use NLP artifacts only to boost scores from
        # context words, and accept None.
        results = recognizer.analyze(
            text,
            entities=recognizer.supported_entities,
            nlp_artifacts=None,  # type: ignore[arg-type]
        )
        for result in results or []:
            if result.score >= MIN_SCORE:
                found[result.entity_type] += 1
    return found


def ensure_clean(payload: bytes) -> None:
    """Raise PayloadBlocked if the payload still holds an identifier."""
    try:
        found = find_identifiers(payload.decode("utf-8"))
    except Exception as exc:
        logger.error("residual scan raised %s; payload blocked", type(exc).__name__)
        raise PayloadBlocked() from None
    if found:
        logger.warning("payload blocked: residual identifiers %s", dict(found))
        raise PayloadBlocked()
