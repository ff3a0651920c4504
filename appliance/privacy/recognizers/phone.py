"""Phone numbers: candidate shapes found by bounded patterns, then checked
with the ``phonenumbers`` library (Google's libphonenumber metadata) for the
deployment's countries.

A number written in a phone shape, "(212) 555-0147" or "212.555.0147", is
redacted when it is a possible number for one of the countries; a bare run
of ten digits needs a word such as "phone" or "call" nearby, because account
and order numbers look the same. Numbers with a leading + are checked
against their own country code.
"""

from __future__ import annotations

import phonenumbers
import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from appliance.privacy.recognizers.base import (
    ContextWords,
    Settings,
    find_all,
    result,
)
from appliance.privacy.registry import RecognizerSpec

_EXTENSION = r"(?:[ \t]{0,2}(?:x|ext\.?|extension)[ \t]{0,2}\d{1,6})?"
# North American numbering plan, with separators or parentheses.
_NANP = regex.compile(
    r"(?<![\w+.-])(?:\+?1[ .-]{0,2})?(?:\(\d{3}\)[ .-]{0,2}|\d{3}[ .-]{1,2})"
    r"\d{3}[ .-]{1,2}\d{4}" + _EXTENSION + r"(?![\w-])",
    regex.IGNORECASE,
)
_BARE = regex.compile(r"(?<![\w+.-])(?:\+?1)?\d{10}(?![\w-])")
# A local number without its area code, "555-0147".
_LOCAL = regex.compile(r"(?<![\w+.()-])\d{3}[ .-]\d{4}(?![\w-])")
_INTERNATIONAL = regex.compile(
    r"(?<![\w+])(?:\+|00)\d{1,3}[ .-]{0,2}(?:\(\d{1,4}\)[ .-]{0,2})?\d{1,8}"
    r"(?:[ .-]{1,2}\d{1,8}){0,4}" + _EXTENSION + r"(?![\w-])",
    regex.IGNORECASE,
)
# National formats that start with a trunk 0, as most of Europe writes them.
_NATIONAL = regex.compile(
    r"(?<![\w+.-])\(?0\d{1,4}\)?(?:[ .-]{0,2}\d{2,5}){1,4}(?![\w-])"
)


class PhoneNumberRecognizer(EntityRecognizer):
    # Not "PhoneRecognizer": Presidio's registry looks predefined recognizers
    # up by class name among every EntityRecognizer subclass loaded, so a
    # second class of that name can replace Presidio's own in a stock
    # AnalyzerEngine built in the same process.
    def __init__(
        self, spec: RecognizerSpec, settings: Settings, countries: tuple[str, ...]
    ) -> None:
        super().__init__(supported_entities=[spec.entity], name=spec.name)
        self.spec = spec
        self.settings = settings
        self.regions = [c.upper().replace("UK", "GB") for c in countries] or ["US"]
        self.context_words = ContextWords(spec.context, (), settings)

    def load(self) -> None:
        return

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        found = []
        timeout = self.settings.timeout
        for match in find_all(_NANP, text, timeout):
            if self._possible(match.group(), ["US"]):
                found.append(self._result(match, 0.75))
        for match in find_all(_BARE, text, timeout):
            start, end = match.span()
            if self.context_words.has_positive(text, start, end) and self._possible(
                match.group(), ["US"]
            ):
                found.append(self._result(match, 0.7))
        # A number written with its country code is a phone number as soon
        # as its length fits that country's plan.
        # A run of digits after "00" is as often an account number, so that
        # form needs separators or a word such as "phone" nearby.
        for match in find_all(_LOCAL, text, timeout):
            start, end = match.span()
            if self.context_words.has_positive(text, start, end):
                found.append(self._result(match, 0.6))
        for match in find_all(_INTERNATIONAL, text, timeout):
            value = match.group()
            if value.startswith("00") and value.isdigit():
                start, end = match.span()
                if not self.context_words.has_positive(text, start, end):
                    continue
            number = self._parse(value, None)
            if number is not None and phonenumbers.is_possible_number(number):
                found.append(self._result(match, 0.8))
        national = [r for r in self.regions if r != "US"]
        if national:
            for match in find_all(_NATIONAL, text, timeout):
                if any(self._valid(match.group(), region) for region in national):
                    found.append(self._result(match, 0.7))
        return found

    def _result(self, match: regex.Match[str], score: float) -> RecognizerResult:
        start, end = match.span()
        return result(self.spec.entity, start, end, score, self.spec.name)

    @staticmethod
    def _parse(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
        if value.startswith("00"):
            value = "+" + value[2:]
        try:
            return phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return None

    def _possible(self, value: str, regions: list[str]) -> bool:
        number = self._parse(value, regions[0])
        return number is not None and phonenumbers.is_possible_number(number)

    def _valid(self, value: str, region: str | None) -> bool:
        number = self._parse(value, region)
        return number is not None and phonenumbers.is_valid_number(number)
