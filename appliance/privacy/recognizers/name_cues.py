"""Names that the text marks by their place rather than by the name lists:
after a verb of contact, a self-introduction or a role ("please call ...",
"I'm ...", "our advisor ..."), under a sign-off, in a form field or JSON
key, family name first with a comma, and at the start of a sentence before
a verb, before "'s" or addressed ("Olusola, please ...").

A candidate is a run of name-shaped words. ``NameWords`` judges each word
by the name lists and by how common it is in English: a word that is a
listed name, or that is no common English word ("Olumide", "Fashola"), can
be part of a name; a common English word ("Prevention"), a heading or
organization word ("Payroll", "Reserve"), a month or a stop word cannot.
How much of that a candidate needs depends on how plainly its place marks
a person.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

import regex

from appliance.privacy.recognizers import wordlists
from appliance.privacy.recognizers.base import find_all, match_at, trie_pattern
from appliance.privacy.recognizers.wordlists import fold

# One word of a name: "Adeyemi", "Jean-Luc", "Min-jun", "O'Sullivan",
# "McKenzie", "al-Rashid", "Dubois-Lefèvre".
PREFIX = r"(?:Mc|Mac|O'|D'|Di|De|Da|Le|La|Van|Von|Al-|El-|al-|el-)?"
PART = PREFIX + r"\p{Lu}\p{Ll}{1,25}(?:[-'][\p{Lu}\p{Ll}]\p{Ll}{1,25}){0,2}"
CAPS_PART = r"\p{Lu}{2,25}(?:[-']\p{Lu}{2,25})?"
LOWER_PART = r"(?:\p{Ll}')?\p{Ll}{3,25}(?:-\p{Ll}{2,25})?"
# Particles inside names: "Pieter van der Merwe", "Nuala Ní Bhriain",
# "Ahmad bin Ismail", "María de la Cruz".
PARTICLE = (
    r"(?:[ \t]{1,2}(?:van der|van den|van de|van|von der|von|de la|de los|"
    r"de las|del|della|de|da|di|du|dos|das|bin|binti|bint|ibn|abu|al|el|le|"
    r"la|ter|ten|y|Ní|Nic|Ó|Uí|ni|nic))"
)
_GAP = r"[ \t]{1,3}"
# Up to two initials may come first: "J. Okafor", "A. K. Mensah".
_RUN = (
    r"(?:\p{Lu}\.[ \t]{0,2}){0,2}"
    + PART
    + r"(?:"
    + PARTICLE
    + r"?"
    + _GAP
    + PART
    + r"){0,3}"
)
_CAPS_RUN = CAPS_PART + r"(?:" + _GAP + CAPS_PART + r"){0,3}"
_LOWER_RUN = LOWER_PART + r"(?:" + _GAP + LOWER_PART + r")?"
_NAME_RUN = r"(?P<name>" + _RUN + r"|" + _CAPS_RUN + r"|" + _LOWER_RUN + r")"
_WORDS = regex.compile(r"[\p{L}]+(?:['][\p{L}]+)?")


class Cue(IntEnum):
    """Strength of the evidence that a candidate's place gives for a person."""

    START = 1  # start of a sentence, followed by a verb
    CONTACT = 2  # after a verb of contact: call, email, from, per
    PERSONAL = 3  # after a role, a salutation or "ask", "thank", "cc"


# Verbs and prepositions after which a name is common but so is a company,
# a team or a place: only a name of two words, or a listed given name,
# counts after them.
CONTACT_WORDS = (
    "call", "called", "phone", "phoned", "ring", "email", "emailed", "e-mail",
    "mail", "contact", "contacted", "message", "messaged", "text", "texted",
    "notify", "inform", "invite", "meet", "met", "per", "from", "by", "with",
    "this is", "spoke to", "spoke with", "speak to", "speak with", "talk to",
    "talk with", "talked to", "talked with", "according to", "reach",
    "reached", "forward to", "send to", "sent to", "signed by", "care of",
    "c/o",
)  # fmt: skip
# Words that put a person after them: roles, salutations and verbs that
# take a person. A lone word after them counts when it is no common word.
PERSONAL_WORDS = (
    "ask", "asked", "tell", "told", "cc", "bcc", "thank", "thanks",
    "remind", "reminded", "ping", "pinged", "my name is", "name is",
    "i am", "i'm",
    "dear", "hi", "hello", "hey", "advisor", "adviser", "manager",
    "employee", "colleague", "coworker", "co-worker", "nurse", "patient",
    "doctor", "physician", "surgeon", "therapist", "client", "customer",
    "accountant", "handler", "officer", "agent", "representative",
    "supervisor", "director", "assistant", "analyst", "lawyer", "attorney",
    "solicitor", "tenant", "landlord", "borrower", "applicant", "candidate",
    "beneficiary", "executor", "trustee", "spouse", "wife", "husband",
    "partner", "son", "daughter", "mother", "father", "brother", "sister",
    "intern", "contractor", "consultant", "caseworker", "banker", "broker",
    "planner", "auditor", "investigator", "reviewer", "approver", "witness",
    "cardholder", "account holder", "claimant", "caller", "recipient",
    "guardian", "caregiver", "teammate", "teller", "underwriter",
)  # fmt: skip
# Cue words are found first and the name after each is matched in place:
# two simple scans cost about half of one scan for both.
_CUE = regex.compile(
    r"(?i)\b(?:"
    + trie_pattern(CONTACT_WORDS + PERSONAL_WORDS).replace(r"\ ", _GAP)
    + r")\b"
)
_AFTER_CUE = regex.compile(r"[,:]?" + _GAP + _NAME_RUN + r"(?![\w'])")
# A sign-off and the name under it, blank lines allowed, or after a comma
# on the same line where normalization joined a wrapped line.
_SIGN_OFF = regex.compile(
    r"(?m)^[ \t]{0,8}(?i:(?:kind|best|warm|warmest|many)[ \t]{1,2}"
    r"(?:regards|wishes|thanks)|regards|sincerely|yours[ \t]{1,2}(?:sincerely|"
    r"faithfully|truly)|respectfully|cheers|thanks|thank[ \t]you|cordially|"
    r"best|all[ \t]the[ \t]best|with[ \t]thanks|take[ \t]care|--)"
    r"(?:[,.!]?[ \t]{0,3}\r?\n(?:[ \t]{0,8}\r?\n){0,2}[ \t]{0,8}|,[ \t]{1,3})"
    r"(?P<name>" + _RUN + r"|" + _CAPS_RUN + r")"
    r"(?=[ \t]{0,3}(?:$|[,|(]|-[ \t]))"
)
# "Okonkwo, Chidubem" at the start of a line or after a label or a
# semicolon, perhaps in quotes, and followed by the end of the line, a
# semicolon, a bracket or an e-mail address in angle brackets.
_FAMILY_FIRST = regex.compile(
    r"(?m)(?:^|(?<=[:;])[ \t]{0,3})[\"']?(?P<name>(?P<family>"
    + PART
    + r"|"
    + CAPS_PART
    + r"),[ \t]{1,2}(?P<given>(?:"
    + PART
    + r"|"
    + CAPS_PART
    + r")(?:[ \t]{1,2}(?:"
    + PART
    + r"|"
    + CAPS_PART
    + r"))?))(?=[\"']?[ \t]{0,3}(?:$|[;(<]))"
)
# Form fields, query strings and JSON keys: "first_name=Chidinma",
# "\"customer_name\": \"tunde bakare\"". A bare "name" names products and
# companies too, so it counts as a weaker cue.
_FIELD = regex.compile(
    r"(?<![\w])(?P<key>(?i:(?:(?:first|last|given|family|full|middle|legal|"
    r"preferred|customer|client|employee|patient|contact|user|member|"
    r"account[ _-]?holder|holder|sender|recipient|beneficiary|applicant|"
    r"borrower)[ _-]?name|surname|forename|name)))[\"']?[ \t]{0,2}[:=]"
    r"[ \t]{0,2}[\"']?" + _NAME_RUN + r"(?![\w'])"
)
# "Olumide Bankole's wife": a possessive after two or more name words.
_POSSESSIVE = regex.compile(
    r"(?<![\w'-])(?P<name>"
    + PART
    + r"(?:"
    + PARTICLE
    + r"?"
    + _GAP
    + PART
    + r"){1,3})'s(?![\w])"
)
# Where a sentence or a line starts with a capital letter; the patterns
# below are matched only there.
_SENTENCE_BREAK = regex.compile(r"(?:[.!?][ \t]{1,3}|\n[ \t]{0,8})(?=\p{Lu})")
# A lone name at the start of a sentence needs a verb that a person does
# ("Okafor wrote back") and must be a listed name.
_START_VERBS = (
    "said", "says", "asked", "asks", "wrote", "writes", "replied", "told",
    "agreed", "signed", "approved", "confirmed", "requested", "reported",
    "submitted", "joined", "called", "emailed", "phoned", "mentioned",
    "explained", "promised", "guaranteed", "recommended", "declined",
)  # fmt: skip
_START_ALONE = regex.compile(
    r"(?P<name>" + PART + r")" + _GAP + r"(?:" + "|".join(_START_VERBS) + r")(?![\w])"
)
# A name addressed at the start of a sentence: "Olusegun, please call me."
_VOCATIVE = regex.compile(
    r"(?P<name>"
    + PART
    + r"),"
    + _GAP
    + r"(?:please|can you|could you|would you|thanks|thank you|kindly|"
    r"let me|let us|I|we|you|your)(?![\w])"
)
_SENTENCE_START = regex.compile(
    r"(?P<name>"
    + PART
    + r"(?:"
    + PARTICLE
    + r"?"
    + _GAP
    + PART
    + r"){1,3})(?:'s)?[ \t]{1,3}\p{Ll}"
)


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    cue: Cue


class NameWords:
    """Judges words and runs of words by the name lists and English usage."""

    def __init__(self, given: frozenset[str], surnames: frozenset[str]) -> None:
        self.given = given
        self.surnames = surnames
        # Given names that can start a name written in lower case.
        self.lower_given = frozenset(
            name
            for name in wordlists.census_given_names() | wordlists.world_given_names()
            if len(name) >= 3
            and name not in wordlists.COMMON_WORD_NAMES
            and not self.blocked(name)
        )

    def blocked(self, bare: str) -> bool:
        return (
            bare in wordlists.NOT_NAME_WORDS
            or bare in wordlists.STOP_WORDS
            or bare in wordlists.MONTHS_AND_DAYS
            or bare in wordlists.TITLES
            or bare in wordlists.PLACE_NAMES
        )

    def listed(self, bare: str) -> bool:
        """Return whether ``bare`` is a listed name and no common word."""
        return (
            (bare in self.given or bare in self.surnames)
            and bare not in wordlists.COMMON_WORD_NAMES
            and not self.blocked(bare)
        )

    def name_like(self, bare: str) -> bool:
        """Return whether ``bare`` is a listed name or no common English
        word."""
        if self.blocked(bare):
            return False
        return self.listed(bare) or not wordlists.is_common_word(bare)

    def parts(self, value: str) -> list[str]:
        """Return the folded words of ``value`` without particles, split at
        hyphens and apostrophes."""
        words: list[str] = []
        for word in _WORDS.findall(value):
            bare = fold(word)
            if bare in _PARTICLES:
                continue
            words.extend(p for p in regex.split(r"[-']", bare) if len(p) > 1)
        return words

    def accepts(self, value: str, cue: Cue) -> bool:
        """Return whether ``value``, found after a cue of strength ``cue``,
        is a name."""
        parts = self.parts(value)
        if not parts or not all(self.name_like(p) for p in parts):
            return False
        if value.islower() and not self._lower_case_name(parts):
            return False
        # Words in capitals are often acronyms ("beneficiary IBAN").
        if value.isupper() and (
            len(parts) < 2 or not any(self.listed(p) for p in parts)
        ):
            return False
        first = fold(value.split()[0])
        if (cue is Cue.START or len(parts) == 1) and (
            first in wordlists.PLACE_FIRST_WORDS
        ):
            return False
        if cue is Cue.START and len(parts) == 1:
            return self.listed(parts[0]) and not wordlists.is_common_word(parts[0])
        if cue is Cue.START:
            # Surname lists hold everyday words ("Ask", "Will"), and the
            # start of a sentence is capitalized anyway.
            return all(
                (self.listed(p) and not wordlists.is_everyday_word(p))
                or not wordlists.is_common_word(p)
                for p in parts
            )
        if len(parts) >= 2:
            return True
        if cue is Cue.PERSONAL:
            return True
        return parts[0] in self.given and self.listed(parts[0])

    def lower_case_given(self, bare: str) -> bool:
        """Return whether ``bare`` in lower case reads as a given name: a
        listed given name that is no everyday word, or one that many people
        bear ("john", "mary"), though the census lists "numbers" too."""
        if bare not in self.lower_given:
            return False
        return (
            not wordlists.is_everyday_word(bare)
            or wordlists.census_given_share().get(bare, 0.0)
            >= wordlists.LOWER_CASE_NAME_SHARE
        )

    def lower_case_listed(self, bare: str) -> bool:
        """Return whether ``bare`` in lower case reads as a listed name: a
        given name as lower_case_given has it, or a listed name that is no
        everyday word ("smith", "adeyemi")."""
        if self.lower_case_given(bare):
            return True
        return self.listed(bare) and not wordlists.is_everyday_word(bare)

    def _lower_case_name(self, parts: list[str]) -> bool:
        """A name in lower case needs a listed name ("folake adeyemi", "hi
        priya"), and no common English word that no list holds."""
        listed = [self.lower_case_listed(p) for p in parts]
        if len(parts) == 1:
            return listed[0]
        return any(listed) and all(
            known or not wordlists.is_common_word(p)
            for p, known in zip(parts, listed, strict=True)
        )

    def family_first(self, family: str, given: str, *, labelled: bool) -> bool:
        """Return whether "``family``, ``given``" is a name written family
        first. After a label or in a list separated by semicolons two
        name-like words suffice; at the start of a line one must be a
        listed name."""
        family_parts, given_parts = self.parts(family), self.parts(given)
        if not family_parts or not given_parts:
            return False
        if not all(self.name_like(p) for p in family_parts + given_parts):
            return False
        if fold(family) in wordlists.PLACE_FIRST_WORDS:
            return False
        return (
            labelled
            or any(p in self.surnames for p in family_parts)
            or any(p in self.given for p in given_parts)
        )

    def candidates(self, text: str, timeout: float) -> Iterator[Candidate]:
        """Yield runs of name-shaped words whose place marks a person."""
        for cue in find_all(_CUE, text, timeout):
            if cue.start() > 0 and text[cue.start() - 1] == "-":
                continue
            match = match_at(_AFTER_CUE, text, cue.end(), timeout)
            if match is None:
                continue
            cue_word = regex.sub(r"\s+", " ", fold(cue.group()))
            strength = Cue.PERSONAL if cue_word in _PERSONAL else Cue.CONTACT
            yield from self._trimmed(text, match, strength)
        for match in find_all(_SIGN_OFF, text, timeout):
            yield Candidate(*match.span("name"), Cue.PERSONAL)
        if "name" in text.lower():
            for match in find_all(_FIELD, text, timeout):
                key = fold(match.group("key"))
                strength = Cue.CONTACT if key == "name" else Cue.PERSONAL
                yield from self._trimmed(text, match, strength)
        if "'s" in text:
            for match in find_all(_POSSESSIVE, text, timeout):
                yield Candidate(*match.span("name"), Cue.START)
        yield from self._at_sentence_starts(text, timeout)

    def _at_sentence_starts(self, text: str, timeout: float) -> Iterator[Candidate]:
        """Names at the start of a sentence or a line: before a verb, or
        addressed ("Olusegun, please ...")."""
        first = len(text) - len(text.lstrip(" \t"))
        breaks = find_all(_SENTENCE_BREAK, text, timeout)
        starts = [first] + [match.end() for match in breaks]
        for start in starts:
            for pattern, cue in (
                (_SENTENCE_START, Cue.START),
                (_START_ALONE, Cue.START),
                (_VOCATIVE, Cue.PERSONAL),
            ):
                match = match_at(pattern, text, start, timeout)
                if match is not None:
                    yield Candidate(*match.span("name"), cue)

    def _trimmed(
        self, text: str, match: regex.Match[str], cue: Cue
    ) -> Iterator[Candidate]:
        """The name after a cue. A run in capitals or lower case may run on
        into the sentence ("CALL SIPHO NDLOVU REGARDING THE CLAIM", "ask
        priya about it") and is cut at the first word that cannot be a
        name; a run in title case that goes on
        with a word that cannot be a name ("Call Fraud Prevention") is an
        organization, not a person."""
        start, end = match.span("name")
        value = text[start:end]
        if value.isupper() or value.islower():
            name_words = []
            for word in regex.finditer(r"\S+", value):
                if not self.name_like(fold(word.group())):
                    break
                name_words.append(word)
            if not name_words:
                return
            end = start + name_words[-1].end()
        yield Candidate(start, end, cue)

    def family_first_names(self, text: str, timeout: float) -> Iterator[Candidate]:
        if "," not in text:
            return
        for match in find_all(_FAMILY_FIRST, text, timeout):
            before = text[max(0, match.start() - 4) : match.start()]
            labelled = before.rstrip(" \t\"'")
            if self.family_first(
                match.group("family"),
                match.group("given"),
                labelled=labelled.endswith((":", ";")),
            ):
                yield Candidate(*match.span("name"), Cue.PERSONAL)


_PARTICLES = frozenset((
    "van", "der", "den", "de", "von", "la", "los", "las", "del", "della",
    "da", "di", "du", "dos", "das", "bin", "binti", "bint", "ibn", "abu",
    "al", "el", "le", "ter", "ten", "y", "ni", "nic", "o", "ui",
))  # fmt: skip
_PERSONAL = frozenset(PERSONAL_WORDS)
