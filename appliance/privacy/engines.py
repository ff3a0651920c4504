"""The analyzers of this process, built once and rebuilt only when an
administrator changes the recognizer registry.

The spaCy pipeline is loaded once per process and kept across rebuilds. A
Celery worker builds them in each pool process on its first task; the
registry is checked for changes at most every PRIVACY_REGISTRY_REFRESH
seconds, which costs two small queries.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from spacy.language import Language

from appliance.privacy import overrides
from appliance.privacy.analyzer import Analyzer, ner_pipeline
from appliance.privacy.recognizers import Settings
from appliance.privacy.registry import RegistryConfig

logger = logging.getLogger(__name__)


@dataclass
class _Built:
    analyzer: Analyzer
    scanner: Analyzer
    version: tuple[int, str]
    checked: float


_lock = threading.Lock()
_built: _Built | None = None


@lru_cache(maxsize=1)
def nlp_pipeline() -> Language:
    nlp = ner_pipeline(settings.SPACY_MODEL)
    logger.info("spaCy model %s loaded with %s", settings.SPACY_MODEL, nlp.pipe_names)
    return nlp


def recognizer_settings(config: RegistryConfig) -> Settings:
    return Settings(
        timeout=settings.PRIVACY_REGEX_TIMEOUT,
        context_boost=config.context_boost,
        before=config.context_window[0],
        after=config.context_window[1],
        threshold=config.score_threshold,
    )


def build(config: RegistryConfig, *, with_nlp: bool = True) -> Analyzer:
    """Build an analyzer for ``config``. Without NLP it runs the identifier
    recognizers only (the last scan before a model call)."""
    return Analyzer(
        config,
        recognizer_settings(config),
        nlp=nlp_pipeline() if with_nlp else None,
        max_chars=settings.PRIVACY_MAX_CHARS,
        deadline=settings.PRIVACY_ANALYSIS_TIMEOUT,
    )


def _current() -> _Built:
    global _built
    now = time.monotonic()
    with _lock:
        built = _built
        if (
            built is not None
            and now - built.checked < settings.PRIVACY_REGISTRY_REFRESH
        ):
            return built
        version = overrides.stored_version()
        if built is None or built.version != version:
            config = overrides.current_config()
            built = _Built(build(config), build(config, with_nlp=False), version, now)
            logger.info(
                "recognizer registry %s built: %d recognizers for %s",
                config.fingerprint,
                len(built.analyzer.recognizers),
                ",".join(config.countries),
            )
        built.checked = now
        _built = built
        return built


def get_analyzer() -> Analyzer:
    return _current().analyzer


def get_scanner() -> Analyzer:
    """Return the identifier-only analyzer for the last scan before a model
    call."""
    return _current().scanner


def reset() -> None:
    """Forget the built analyzers, after the settings changed (tests)."""
    global _built
    with _lock:
        _built = None
