"""Health conditions tied to a person.

A condition from the configured list counts only when its sentence also
names or points at one person (a PERSON finding nearby, "he", "she", "my",
"the employee") and states that the person has it (diagnosed, treated for,
suffering from, on leave for, has). Policy text about conditions in general
("the plan covers cancer screening") stays in the text.
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from appliance.privacy.recognizers.base import (
    Settings,
    find_all,
    result,
    trie_pattern,
)
from appliance.privacy.registry import FLAGS, RecognizerSpec

_PERSON_CUE = regex.compile(
    r"(?<![\w])(?:he|she|him|her|his|hers|i|i'm|i've|my|me|mine|"
    r"(?:the|this|our|an|that)[ \t](?:employee|worker|associate|"
    r"team member|staff member|contractor|candidate|applicant|manager|"
    r"colleague|claimant|patient|individual)|"
    r"(?:his|her|my|their)[ \t](?:wife|husband|spouse|partner|son|"
    r"daughter|child|mother|father|parent))(?![\w])",
    regex.IGNORECASE,
)
_HAS_CUE = regex.compile(
    r"(?<![\w])(?:diagnos\w{0,6}|suffer\w{0,4}|treated|treatment|therapy|"
    r"living with|lives with|battling|fighting|recover\w{0,4}|undergo\w{0,5}|"
    r"underwent|surgery|has|have|had|having|developed|relapse\w{0,2}|"
    r"flare-up|episode|condition|leave|absence|accommodation|"
    r"hospitali[sz]ed|admitted|prescribed|medication|symptoms|sick|ill|"
    r"disclosed|informed|told|struggl\w{0,5}|affected by|due to|because of|"
    r"tested positive|positive for|isolating|quarantin\w{0,5}|reported|"
    r"injur\w{0,3}|suffered|sustained|broke|fractured)"
    r"(?![\w])",
    regex.IGNORECASE,
)
_SENTENCE_END = regex.compile(r"[.!?](?:\s|$)|\n\s*\n")


class HealthConditionRecognizer(EntityRecognizer):
    def __init__(self, spec: RecognizerSpec, settings: Settings) -> None:
        super().__init__(supported_entities=[spec.entity], name=spec.name)
        self.spec = spec
        self.settings = settings
        terms = {term.lower() for term in spec.terms}
        self.terms = (
            regex.compile(r"(?<![\w-])" + trie_pattern(terms) + r"(?![\w-])", FLAGS)
            if terms
            else None
        )

    def load(self) -> None:
        return

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        if self.terms is None:
            return []
        people = []
        if nlp_artifacts is not None:
            people = [
                (e.start_char, e.end_char)
                for e in nlp_artifacts.entities
                if e.label_ in ("PERSON", "PER")
            ]
        found = []
        for match in find_all(self.terms, text, self.settings.timeout):
            start, end = match.span()
            if self._tied_to_person(text, start, end, people):
                found.append(result(self.spec.entity, start, end, 0.8, self.spec.name))
        return found

    def _sentence(self, text: str, start: int, end: int) -> tuple[int, int]:
        window_start = max(0, start - 200)
        ends = list(_SENTENCE_END.finditer(text, window_start, start))
        sentence_start = ends[-1].end() if ends else window_start
        following = _SENTENCE_END.search(text, end, min(len(text), end + 200))
        return sentence_start, following.start() if following else min(
            len(text), end + 200
        )

    def _tied_to_person(
        self,
        text: str,
        start: int,
        end: int,
        people: list[tuple[int, int]],
    ) -> bool:
        sentence_start, sentence_end = self._sentence(text, start, end)
        sentence = text[sentence_start:sentence_end]
        named = any(sentence_start <= s and e <= sentence_end for s, e in people)
        if not named and not _PERSON_CUE.search(sentence):
            return False
        return bool(_HAS_CUE.search(sentence))
