"""The Presidio analyzer, built once per process.

Presidio's spaCy engine is given the installed package named by
``SPACY_MODEL`` explicitly; left to its defaults it would try to download
en_core_web_lg at run time, which an air-gapped appliance cannot do.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngineProvider

logger = logging.getLogger(__name__)

# Entities the appliance redacts. Dates, locations and nationalities are left
# in: compliance and HR text depends on them, and without context they
# identify nobody.
ENTITIES = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "US_SSN",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_BANK_NUMBER",
    "US_PASSPORT",
    "US_ITIN",
)
SCORE_THRESHOLD = 0.4
LANGUAGE = "en"

# spaCy's labels as Presidio entities; the labels ignored name no one.
NER_CONFIGURATION = {
    "model_to_presidio_entity_mapping": {
        "PERSON": "PERSON",
        "PER": "PERSON",
        "NORP": "NRP",
        "GPE": "LOCATION",
        "LOC": "LOCATION",
        "FAC": "LOCATION",
        "ORG": "ORGANIZATION",
        "DATE": "DATE_TIME",
        "TIME": "DATE_TIME",
    },
    "labels_to_ignore": [
        "CARDINAL",
        "ORDINAL",
        "MONEY",
        "PERCENT",
        "QUANTITY",
        "LAW",
        "WORK_OF_ART",
        "EVENT",
        "PRODUCT",
        "LANGUAGE",
    ],
}


@lru_cache(maxsize=1)
def get_analyzer() -> AnalyzerEngine:
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": LANGUAGE, "model_name": settings.SPACY_MODEL}],
            "ner_model_configuration": NER_CONFIGURATION,
        }
    )
    nlp_engine = provider.create_engine()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=nlp_engine)
    engine = AnalyzerEngine(
        registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE]
    )
    logger.info("analyzer ready with spaCy model %s", settings.SPACY_MODEL)
    return engine


def analyze(text: str) -> list[RecognizerResult]:
    return get_analyzer().analyze(
        text=text,
        language=LANGUAGE,
        entities=list(ENTITIES),
        score_threshold=SCORE_THRESHOLD,
    )
