"""Names of people: spaCy's PERSON entities, cleaned, plus names that the
small statistical model misses but the text marks plainly.

Sources, each a separate score:
- spaCy PERSON spans, without titles, possessives and heading words;
- a title before a capitalized word ("Dr. Okafor");
- a form label or a salutation before it ("Employee: ...", "Dear ...");
- a listed given name followed by a capitalized word ("Maria Lopez"),
  also in capitals ("MARIA LOPEZ") when both parts are listed names, and a
  listed surname after a word that is no common English word ("Efua
  Mensah");
- a run of name-shaped words after a verb of contact or a role, under a
  sign-off, family name first with a comma, or at the start of a sentence
  followed by a verb (name_cues.py).

``spread`` then finds every other mention of a name, or of a distinctive
part of it, anywhere in the document, so "Lopez" later in a letter is
redacted as well as "Maria Lopez" at its top.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from appliance.privacy.recognizers import wordlists
from appliance.privacy.recognizers.base import Settings, find_all, result
from appliance.privacy.recognizers.name_cues import (
    CAPS_PART,
    PART,
    PARTICLE,
    Cue,
    NameWords,
)
from appliance.privacy.recognizers.name_tables import table_name_cells
from appliance.privacy.recognizers.wordlists import fold
from appliance.privacy.registry import RecognizerSpec

_TITLE = regex.compile(
    r"(?<![\w])(?i:" + "|".join(wordlists.TITLES) + r")\.?[ \t]{1,3}"
    r"(?P<name>(?:[A-Z]\.[ \t]?)?"
    + PART
    + r"(?:"
    + PARTICLE
    + r"?[ \t]{1,3}"
    + PART
    + r"){0,2})"
)
_LABEL = regex.compile(
    r"(?<![\w])(?i:name|full name|legal name|employee name|employee|manager|"
    r"supervisor|requested by|approved by|submitted by|reported by|"
    r"prepared by|attn|attention|from|to|cc|signed|candidate|applicant|"
    r"beneficiary|account holder|cardholder|card holder|payee|contact|"
    r"emergency contact|spouse|dependent|dependant|claimant|patient|"
    r"borrower|co-borrower|guarantor|client|customer|owner|witness)"
    r"[ \t]{0,2}[:][ \t]{0,3}(?P<name>"
    + PART
    + r"(?:[ \t]{1,3}(?:[A-Z]\.|"
    + PART
    + r")){0,3}|"
    + CAPS_PART
    + r"(?:[ \t]{1,3}"
    + CAPS_PART
    + r"){1,3}|"
    + PART
    + r",[ \t]{1,2}"
    + PART
    + r")"
)
# A verb or preposition that puts a lone given name in a person's place:
# "Meet Anna", "ask Priya", "cc Tom".
_CUE_NAME = regex.compile(
    r"(?<![\w])(?i:meet|ask|tell|call|email|e-mail|contact|ping|remind|told|"
    r"asked|met|thank|inform|notify|invite|called|emailed|texted|cc|with)"
    r"[ \t]{1,2}(?P<name>" + PART + r")(?![\w'])"
)
# Words that join the names of a list: "Maria, Tom and Priya".
_LIST_NEXT = regex.compile(
    r"(?:,[ \t]{0,2}(?:and[ \t]{1,2}|&[ \t]{0,2})?|[ \t]{1,2}(?:and|&|or)[ \t]{1,2})"
    r"(?P<name>" + PART + r")(?![\w'])"
)
_LIST_PREVIOUS = regex.compile(
    r"(?<![\w'])(?P<name>"
    + PART
    + r")(?:,[ \t]{0,2}|[ \t]{1,2}(?:and|&|or)[ \t]{1,2})$"
)
# Roles just before a name: "branch manager, Imogen Clarke".
_ROLE_BEFORE = regex.compile(
    r"(?i:manager|director|officer|employee|colleague|contact|client|customer|"
    r"candidate|applicant|supervisor|assistant|analyst|engineer|advisor|"
    r"adviser|specialist|representative|agent|owner|member|partner|lead|"
    r"head|chair|president)\.?,?[ \t]{1,3}$"
)
_GREETING = regex.compile(
    r"(?<![\w])(?:Dear|Hi|Hello|Hey|Thanks|Thank you|Regards|Sincerely|Best|"
    r"Cheers|Congratulations|Congrats|Welcome|Good morning|Good afternoon)"
    r"[,!]?[ \t]{0,2}\n?[ \t]{0,2}(?P<name>"
    + PART
    + r"(?:[ \t]{1,3}"
    + PART
    + r"){0,2})"
)
_PAIR = regex.compile(
    r"(?<![\w'-])(?P<first>\p{Lu}\p{Ll}{1,20}(?:-[\p{Lu}\p{Ll}]\p{Ll}{1,20})?)"
    r"(?:[ \t]{1,3}(?:\p{Lu}\.?|\p{Lu}\p{Ll}{1,20}))?" + PARTICLE + r"?"
    r"[ \t\n]{1,3}(?P<last>" + PART + r")(?![\w'])"
)
_CAPS_PAIR = regex.compile(
    r"(?<![\w'-])(?P<first>\p{Lu}{2,20})(?:[ \t]{1,3}\p{Lu}\.?)?[ \t]{1,3}"
    r"(?P<last>" + CAPS_PART + r")(?![\w'])"
)
_LOWER_WORD = regex.compile(r"(?<![\w'-])\p{Ll}{4,20}(?![\w'])")
# "sophy santino", "kevin o'brien", "mary-jane watson-parker".
_LOWER_PAIR = regex.compile(
    r"(?P<first>\p{Ll}{4,20}(?:-\p{Ll}{2,20})?)[ \t]{1,3}"
    r"(?P<last>(?:\p{Ll}')?\p{Ll}{3,25}(?:-\p{Ll}{2,25})?)(?![\w'-])"
)
_WORD = regex.compile(r"[\w'.-]+")
_BAD_CHARACTER = regex.compile(r"[^\p{L}\s.'-]")
# Last words of company names, which spaCy's small model often tags PERSON.
_COMPANY = regex.compile(
    r"(?i:bank|bancorp|kantonalbank|corp|corporation|inc|llc|llp|ltd|plc|gmbh|ag|"
    r"sa|group|capital|partners|holdings|trust|financial|securities|insurance|"
    r"fund|associates|consulting|solutions|systems|technologies|labs)\.?$"
)
# A lone word after these is a place or a company more often than a person.
_PLACE_BEFORE = regex.compile(r"(?i:\b(?:at|for|with|of|in)\s{1,3})$")
_POSSESSIVE = regex.compile(r"['\u2019]s?$")
_INITIAL = regex.compile(r"\p{Lu}\.")
_ONE_WORD = regex.compile(r"\p{L}[\p{L}'-]{1,30}")
# spaCy labels of places and organizations.
_NOT_PERSON_LABELS = frozenset(("GPE", "LOC", "FAC", "ORG", "NORP"))
# Scores of names found by their place, by how plainly it marks a person.
_CUE_SCORES = {Cue.PERSONAL: 0.8, Cue.CONTACT: 0.75, Cue.START: 0.7}


class PersonRecognizer(EntityRecognizer):
    def __init__(
        self, spec: RecognizerSpec, settings: Settings, allow: frozenset[str]
    ) -> None:
        super().__init__(supported_entities=[spec.entity], name=spec.name)
        self.spec = spec
        self.settings = settings
        self.allow = {term.lower() for term in allow}
        self.given_names = wordlists.given_names()
        self.surnames = wordlists.surnames()
        self.words = NameWords(self.given_names, self.surnames)

    def load(self) -> None:
        return

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        found = []
        if nlp_artifacts is not None:
            for entity in nlp_artifacts.entities:
                if entity.label_ in ("PERSON", "PER") and not self._is_place(
                    text, entity.start_char, entity.end_char
                ):
                    found += self._span(text, entity.start_char, entity.end_char, 0.85)
        timeout = self.settings.timeout
        for pattern, score in ((_TITLE, 0.9), (_LABEL, 0.85), (_GREETING, 0.8)):
            for match in find_all(pattern, text, timeout):
                # "Dear Valued Customer", "Regards, Accounts Payable": a
                # heading word first makes the rest a team or a company.
                first = fold(match.group("name").split()[0])
                if pattern is not _TITLE and first in wordlists.NOT_NAME_WORDS:
                    continue
                found += self._span(text, *match.span("name"), score)
        # Overlapped, so that "Call Rosa Martinez" is also tried from "Rosa".
        for match in find_all(_PAIR, text, timeout, overlapped=True):
            found += self._pair(text, match, caps=False)
        for match in find_all(_CAPS_PAIR, text, timeout, overlapped=True):
            found += self._pair(text, match, caps=True)
        for match in find_all(_CUE_NAME, text, timeout):
            if self._is_given_name(match.group("name")):
                found += self._span(text, *match.span("name"), 0.7)
        found += self._by_place(text, nlp_artifacts)
        found += self._alone(text)
        for match in find_all(_LOWER_WORD, text, timeout):
            if self.words.lower_case_given(match.group()):
                following = _LOWER_PAIR.match(text, match.start(), timeout=timeout)
                found += self._lower_pair(following) if following else []
        return found

    def _by_place(
        self, text: str, nlp_artifacts: NlpArtifacts | None
    ) -> list[RecognizerResult]:
        """Find names that their place in the text marks (name_cues.py).
        spaCy's place and organization entities veto a lone word found at
        the start of a sentence ("Zurich confirmed the claim"). Its labels of
        longer runs are left aside, because it labels many African and Asian
        names GPE or ORG ("Olusegun Adeyemi")."""
        timeout = self.settings.timeout
        places = {
            (entity.start_char, entity.end_char)
            for entity in (nlp_artifacts.entities if nlp_artifacts else [])
            if entity.label_ in _NOT_PERSON_LABELS
        }
        found = []
        for candidate in self.words.candidates(text, timeout):
            value = text[candidate.start : candidate.end]
            if not self.words.accepts(value, candidate.cue):
                continue
            if (
                candidate.cue is Cue.START
                and len(value.split()) == 1
                and (candidate.start, candidate.end) in places
            ):
                continue
            score = _CUE_SCORES[candidate.cue]
            if value.islower():  # "ask lakshmi narayanan"
                found += self._whole(candidate.start, candidate.end, value, score)
            else:
                found += self._span(text, candidate.start, candidate.end, score)
        for candidate in self.words.family_first_names(text, timeout):
            value = text[candidate.start : candidate.end]
            found += self._whole(candidate.start, candidate.end, value, 0.8)
        for start, end in table_name_cells(text, self.words):
            found += self._whole(start, end, text[start:end], 0.8)
        return found

    def _alone(self, text: str) -> list[RecognizerResult]:
        """A text that is one given name and nothing else, as a form field or
        a chat message holds it ("Priya", "john")."""
        value = text.strip(" \t\r\n.,;:!?")
        if not _ONE_WORD.fullmatch(value):
            return []
        if not self.words.lower_case_given(fold(value)):
            return []
        start = text.index(value)
        return self._whole(start, start + len(value), value, 0.6)

    def _whole(
        self, start: int, end: int, value: str, score: float
    ) -> list[RecognizerResult]:
        """Return a result for a name already judged whole, unless it is
        allowed or a company's."""
        if value.lower() in self.allow or _COMPANY.search(value):
            return []
        return [result(self.spec.entity, start, end, score, self.spec.name)]

    def _is_place(self, text: str, start: int, end: int) -> bool:
        """A single word that is no census name and either follows "at",
        "for", "in" ("worked at Contoso") or appears in lower case elsewhere
        in the text (a heading's "Weather" where the text contains "weather")."""
        value = text[start:end].strip().lower()
        if " " in value or value in self.given_names or value in self.surnames:
            return False
        if _PLACE_BEFORE.search(text[max(0, start - 8) : start]):
            return True
        lowered = regex.compile(r"(?<![\w])" + regex.escape(value) + r"(?![\w])")
        return bool(lowered.search(text))

    def _pair(
        self, text: str, match: regex.Match[str], *, caps: bool
    ) -> list[RecognizerResult]:
        first = fold(match.group("first").split("-")[0])
        last = fold(match.group("last"))
        if first in wordlists.NOT_NAME_WORDS or first in wordlists.STOP_WORDS:
            return []
        if first in wordlists.PLACE_FIRST_WORDS:
            return []
        if first not in self.given_names:
            return self._unknown_first(text, match, last)
        if caps and (
            first in wordlists.COMMON_WORD_NAMES or last in wordlists.NOT_NAME_WORDS
        ):
            return []
        score = 0.8 if last in self.surnames else 0.6
        return self._span(text, match.start(), match.end(), score)

    def _unknown_first(
        self, text: str, match: regex.Match[str], last: str
    ) -> list[RecognizerResult]:
        """Judge a capitalized pair whose first word is no census given name.

        It is a name when a surname is followed by a given name ("Nguyen Van
        Minh"). It is also one when it ends in a surname and is the whole
        text (a form field), follows a role ("manager, Imogen Clarke") or
        starts with a word that is no common English word ("Efua Mensah")."""
        first = fold(match.group("first").split("-")[0])
        if last in wordlists.NOT_NAME_WORDS or last in wordlists.COMMON_WORD_NAMES:
            return []
        start, end = match.span()
        # Family name first, as Vietnamese and Chinese names are written.
        if (
            first in self.surnames
            and last in self.given_names
            and not wordlists.is_common_word(first)
        ):
            return self._span(text, start, end, 0.6)
        alone = text.strip(" \t\n.,;:") == match.group().strip()
        # A form field holding only "Adeyemi Olusegun", family name first.
        if alone and self.words.listed(first) and self.words.name_like(last):
            return self._span(text, start, end, 0.6)
        if last not in self.surnames:
            return []
        if alone or _ROLE_BEFORE.search(text[max(0, start - 30) : start]):
            return self._span(text, start, end, 0.6)
        # Every word must pass, so that "Banco Popular de Puerto" and
        # "Microsoft Corporation Apple" in a table stay.
        words = self.words.parts(match.group())
        if (
            not wordlists.is_common_word(first)
            and all(self.words.name_like(word) for word in words)
            and last not in wordlists.PLACE_FIRST_WORDS
            and not wordlists.is_everyday_word(last)
        ):
            return self._span(text, start, end, 0.6)
        return []

    def _is_given_name(self, word: str) -> bool:
        bare = fold(word)
        return (
            bare in self.given_names
            and bare not in wordlists.COMMON_WORD_NAMES
            and bare not in wordlists.NOT_NAME_WORDS
            and bare not in wordlists.PLACE_NAMES
        )

    def _list_member(self, word: str) -> bool:
        """Return whether a word listed beside a found name is a name too:
        a given name, or a word that is no common English word nor a place."""
        if self._is_given_name(word):
            return True
        parts = self.words.parts(word)
        return bool(parts) and all(
            self.words.name_like(part)
            and not wordlists.is_common_word(part)
            and part not in wordlists.PLACE_FIRST_WORDS
            for part in parts
        )

    def _listed_with(
        self, text: str, people: list[RecognizerResult]
    ) -> list[RecognizerResult]:
        """Given names listed next to a found name: "Maria, Tom and Priya"."""
        found: list[RecognizerResult] = []
        frontier = list(people)
        for _ in range(6):  # a list of up to six names on either side
            added = []
            for person in frontier:
                following = _LIST_NEXT.match(text, person.end)
                if following and self._list_member(following.group("name")):
                    added += self._span(text, *following.span("name"), 0.7)
                window_start = max(0, person.start - 40)
                previous = _LIST_PREVIOUS.search(text[window_start : person.start])
                if previous and self._list_member(previous.group("name")):
                    start, end = previous.span("name")
                    added += self._span(
                        text, start + window_start, end + window_start, 0.7
                    )
            known = {(r.start, r.end) for r in found + people}
            frontier = [r for r in added if (r.start, r.end) not in known]
            if not frontier:
                break
            found += frontier
        return found

    def _lower_pair(self, match: regex.Match[str]) -> list[RecognizerResult]:
        """A name written in lower case ("sophy santino"): the first word a
        listed given name, the second a listed name, neither a common word.
        It scores just above the threshold."""
        last = match.group("last")
        first_part = last.replace("'", "").split("-")[0]
        if self.words.lower_case_listed(last) or self.words.lower_case_listed(
            first_part
        ):
            score = self.settings.threshold + 0.05
            return [result(self.spec.entity, *match.span(), score, self.spec.name)]
        return []

    def _span(
        self, text: str, start: int, end: int, score: float
    ) -> list[RecognizerResult]:
        """Trim a candidate to the name itself; [] when nothing name-like
        remains."""
        words = [
            (m.start() + start, m.end() + start)
            for m in _WORD.finditer(text[start:end])
        ]
        while words and self._is_filler(text[words[0][0] : words[0][1]]):
            words.pop(0)
        while words and self._is_filler(text[words[-1][0] : words[-1][1]]):
            words.pop()
        if not words or len(words) > 5:
            return []
        start, end = words[0][0], words[-1][1]
        value = text[start:end].rstrip(".-'")
        value = _POSSESSIVE.sub("", value) if not value.endswith(".") else value
        end = start + len(value)
        if not self._plausible(value):
            return []
        return [result(self.spec.entity, start, end, score, self.spec.name)]

    @staticmethod
    def _is_filler(word: str) -> bool:
        if _INITIAL.fullmatch(word):  # "A." in "A. K. Mensah"
            return False
        bare = word.strip(".'-").lower()
        return (
            bare in wordlists.NOT_NAME_WORDS
            or bare in wordlists.STOP_WORDS
            or bare in wordlists.TITLES
            or not bare
            or not word[0].isalpha()
        )

    def _plausible(self, value: str) -> bool:
        if len(value) < 2 or _BAD_CHARACTER.search(value) or _COMPANY.search(value):
            return False
        if value.lower() in self.allow:
            return False
        parts = value.split()
        if not any(part[0].isupper() for part in parts):
            return False
        # "Adobe Acrobat", "Valued": common words, none in the name lists.
        bare_parts = self.words.parts(value)
        if bare_parts and all(
            wordlists.is_common_word(p)
            and p not in self.given_names
            and p not in self.surnames
            for p in bare_parts
        ):
            return False
        # A lone word in capitals is an acronym unless it is a given name.
        return not (
            len(parts) == 1
            and value.isupper()
            and value.lower() not in self.given_names
        )

    def _spreads(self, part: str) -> bool:
        """Return whether a part of a found name is redacted wherever it
        stands alone. Surnames that are everyday words ("Valley", "West")
        and the first words of place names ("Puerto") are not."""
        part = part.strip(".,")
        bare = fold(part)
        return (
            len(part) >= 3
            and part[0].isupper()
            and (bare in self.given_names or bare in self.surnames)
            and bare not in wordlists.COMMON_WORD_NAMES
            and bare not in wordlists.NOT_NAME_WORDS
            and bare not in wordlists.PLACE_FIRST_WORDS
            and (bare in self.given_names or not wordlists.is_everyday_word(bare))
        )

    def spread(
        self, text: str, people: Iterable[RecognizerResult]
    ) -> list[RecognizerResult]:
        """Find other mentions of the names in ``people`` across ``text``,
        and given names listed next to them."""
        people = list(people)
        listed = self._listed_with(text, people)
        people += listed
        variants: set[str] = set()
        for person in people:
            name = text[person.start : person.end]
            if " " in name.strip() or self._spreads(name):
                variants.add(name)
            # A part alone counts only when it is a census name, so that a
            # mistaken "Economic Outlook" does not spread "Economic".
            variants.update(p.strip(".,") for p in name.split() if self._spreads(p))
        if not variants:
            return listed
        alternatives = sorted(
            (regex.escape(v) for v in variants), key=len, reverse=True
        )
        pattern = regex.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])")
        recognizer = f"{self.spec.name} (mention)"
        return listed + [
            result(self.spec.entity, match.start(), match.end(), 0.75, recognizer)
            for match in find_all(pattern, text, self.settings.timeout)
        ]
