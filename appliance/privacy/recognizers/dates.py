"""Dates of birth: a date is one only when the nearest cue before it, or
right after it, is about birth ("born", "DOB", "birthday").

Dates are what HR and finance text is made of (effective dates, deadlines,
pay periods, "within 30 days"), and none of them identifies a person; so a
date with no birth cue, or whose nearest cue is an event such as "hired" or
"effective", stays in the text.
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from appliance.privacy.recognizers.base import (
    Settings,
    find_all,
    result,
    word_pattern,
)
from appliance.privacy.registry import RecognizerSpec

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|"
    r"Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_DATE = regex.compile(
    r"(?<![\w/.-])(?:"
    r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"  # 03/14/1985, 14.03.85
    r"|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"  # 1985-03-14
    r"|"
    + _MONTH
    + r"\.?[ \t]{1,2}"
    + _DAY
    + r"(?:,?[ \t]{1,2}\d{4})?"  # March 14, 1985
    r"|" + _DAY + r"[ \t]{1,2}(?:of[ \t]{1,2})?" + _MONTH + r"\.?(?:,?[ \t]{1,2}\d{4})?"
    r"|(?<=(?i:born|birth)[ \t]{1,2}(?:in[ \t]{1,2})?)(?:19|20)\d{2}"  # born in 1985
    r")(?![\w/])",
    regex.IGNORECASE,
)


_YEAR = regex.compile(r"\d{4}|[/.-]\d{2}$")


class DateOfBirthRecognizer(EntityRecognizer):
    def __init__(self, spec: RecognizerSpec, settings: Settings) -> None:
        super().__init__(supported_entities=[spec.entity], name=spec.name)
        self.spec = spec
        self.settings = settings
        self.birth = word_pattern(spec.context)
        self.event = word_pattern(spec.negative_context)

    def load(self) -> None:
        return

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        if self.birth is None:
            return []
        # Dates are scanned only near a birth cue, because a cue must lie
        # within the context window of a birth date.
        found = []
        scanned_to = 0
        for cue in find_all(self.birth, text, self.settings.timeout):
            window_start = max(scanned_to, cue.start() - self.settings.after - 40)
            window_end = min(len(text), cue.end() + self.settings.before + 40)
            if window_end <= window_start:
                continue
            for match in find_all(
                _DATE, text[window_start:window_end], self.settings.timeout
            ):
                start, end = match.start() + window_start, match.end() + window_start
                if self._is_birth_date(text, start, end):
                    found.append(
                        result(self.spec.entity, start, end, 0.9, self.spec.name)
                    )
            scanned_to = window_end
        return found

    def _is_birth_date(self, text: str, start: int, end: int) -> bool:
        if self.birth is None:
            return False
        # A day and month without a year ("birthday is March 3") names a
        # birth date only right after its cue; a holiday list's "Birthday of
        # ... January 15" does not.
        if not _YEAR.search(text[start:end]):
            return bool(self.birth.search(text[max(0, start - 16) : start]))
        before = text[max(0, start - self.settings.before) : start]
        birth = [m.end() for m in self.birth.finditer(before)]
        event = [m.end() for m in self.event.finditer(before)] if self.event else []
        if birth and (not event or max(birth) >= max(event)):
            return True
        # "03/14/1985 (date of birth)": a cue just after, with no event cue
        # before.
        after = text[end : end + self.settings.after]
        return not event and bool(self.birth.search(after))
