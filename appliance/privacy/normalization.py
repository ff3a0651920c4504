"""Normalization of text before analysis, with a map back to the original.

Recognizers run on a normalized copy of the text, so that disguised values
are found: Unicode compatibility forms (full-width digits, ligatures) are
folded with NFKC, zero-width and bidirectional control characters are
removed, common homoglyphs (Cyrillic and Greek letters that look Latin,
typographic dashes and quotes) become their ASCII form, and line breaks
inside numbers or wrapped sentences are joined. Every edit is recorded, so a
span found in the normalized text maps back to the exact span of the
original that produced it.

The text given to spaCy differs once more, character for character: in
words of 100 characters or more, everything but letters and digits becomes
a space, because spaCy's tokenizer takes time quadratic in the length of a
run of symbols (4 KB of nested brackets, plus signs or quotes took 3 to 5 s
with spaCy 3.8 and en_core_web_sm on one core).
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field

import regex

# Removed outright: zero-width characters, the soft hyphen, the word joiner,
# the byte order mark and bidirectional controls (U+200E/F, U+202A-E,
# U+2066-9). They are invisible, so they only ever hide a value.
_INVISIBLE = frozenset(
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064"
    "\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

# Letters from other scripts that render like Latin ones, and typographic
# punctuation that patterns expect in its ASCII form. Each maps one
# character to one character.
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c",
        "\u0443": "y", "\u0445": "x", "\u0455": "s", "\u0456": "i", "\u0458": "j",
        "\u04bb": "h", "\u0501": "d", "\u051b": "q", "\u051d": "w",
        "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u041a": "K", "\u041c": "M",
        "\u041d": "H", "\u041e": "O", "\u0420": "P", "\u0421": "C", "\u0422": "T",
        "\u0425": "X", "\u0405": "S", "\u0406": "I", "\u0408": "J",
        # Greek
        "\u03bf": "o", "\u03b1": "a", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v",
        "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u0391": "A", "\u0392": "B",
        "\u0395": "E", "\u0396": "Z", "\u0397": "H", "\u0399": "I", "\u039a": "K",
        "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03a1": "P", "\u03a4": "T",
        "\u03a5": "Y", "\u03a7": "X",
        # Dashes, minus signs and quotes
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-", "\ufe63": "-", "\uff0d": "-",
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u3002": ".", "\uff0e": ".", "\uff20": "@", "\ufe6b": "@",
    }
)  # fmt: skip

_NON_ASCII_RUN = regex.compile(r"[^\x00-\x7f]+")
# A line break, with the blanks around it, between two digits, or between a
# digit separator and a digit: "123-45-\n6789", "4111 1111\n1111 1111".
_BREAK_IN_NUMBER = regex.compile(r"(?<=\d)([-./]?)([ \t]*\r?\n[ \t]*)(?=[\d(])")
# A single line break between two words of a wrapped sentence.
_SOFT_BREAK = regex.compile(r"(?<=[A-Za-z,;])[ \t]*\r?\n[ \t]*(?=[A-Za-z(])")
# Lines that are headings or quotes, and lines that start a new item (a list
# entry, a "Label:" field) rather than continue the line before them.
_HEADING = regex.compile(r"[#>|]")
_ITEM_START = regex.compile(r"[#>*|+-]|\d{1,3}[.)]\s|[A-Za-z][\w /&]{0,30}:")
# Rows of a table: cells joined by " | " (as document extraction writes
# them), by tabs, or by commas without a space ("name,email").
_TABLE_ROW = regex.compile(r" \| |\t|(?<=[^\d\s]),(?=[^\d\s])")
# A letter O or l between digits of a number ("123-45-67O9"), but not inside
# a code that mixes letters and digits ("bc1qy5l643"), whose letters are real.
_DIGIT_LOOKALIKE = regex.compile(
    r"(?<![A-Za-z]\d{0,12})(?<=\d)[OolI](?=\d)(?!\d{0,12}[A-Za-z])"
)
# Words longer than this are split for spaCy; see the module docstring.
LONG_WORD = 100
_LONG_WORD = regex.compile(rf"\S{{{LONG_WORD},}}")
_SYMBOL = regex.compile(r"[^\p{L}\p{N}]")


@dataclass(frozen=True)
class Edit:
    """One replaced span: ``original[start:end]`` became ``length`` characters
    starting at ``target`` in the edited text."""

    start: int
    end: int
    target: int
    length: int


@dataclass
class OffsetMap:
    """Maps offsets of an edited text back to the text it was made from."""

    edits: list[Edit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._targets = [edit.target for edit in self.edits]

    def start(self, position: int) -> int:
        """Map the start of a span to the original text."""
        index = bisect_right(self._targets, position) - 1
        if index < 0:
            return position
        edit = self.edits[index]
        if position < edit.target + edit.length:
            return edit.start
        return edit.end + position - (edit.target + edit.length)

    def end(self, position: int) -> int:
        """Map the end (exclusive) of a span to the original text."""
        if position <= 0:
            return self.start(position)
        last = position - 1
        index = bisect_right(self._targets, last) - 1
        if index < 0:
            return position
        edit = self.edits[index]
        if last < edit.target + edit.length:
            return edit.end
        return edit.end + position - (edit.target + edit.length)


@dataclass
class Normalized:
    """A normalized text, the maps back to its original, and the variant of
    it that spaCy reads (same length as ``text``)."""

    original: str
    text: str
    maps: list[OffsetMap]
    nlp_text: str

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        for offset_map in reversed(self.maps):
            start, end = offset_map.start(start), offset_map.end(end)
        return start, end


def _apply(
    text: str, replacements: list[tuple[int, int, str]]
) -> tuple[str, OffsetMap]:
    """Apply sorted, non-overlapping ``(start, end, new)`` replacements."""
    pieces: list[str] = []
    edits: list[Edit] = []
    cursor = 0
    length = 0
    for start, end, new in replacements:
        pieces.append(text[cursor:start])
        length += start - cursor
        edits.append(Edit(start, end, length, len(new)))
        pieces.append(new)
        length += len(new)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), OffsetMap(edits)


def _fold_character(char: str) -> str:
    if char in _INVISIBLE or unicodedata.combining(char):
        return ""
    folded = unicodedata.normalize("NFKC", char).translate(_LOOKALIKES)
    return "".join(c for c in folded if c not in _INVISIBLE)


def _unicode_replacements(text: str) -> list[tuple[int, int, str]]:
    replacements = []
    for match in _NON_ASCII_RUN.finditer(text):
        run = match.group()
        for index, char in enumerate(run):
            folded = _fold_character(char)
            if folded != char:
                position = match.start() + index
                replacements.append((position, position + 1, folded))
    return replacements


def _is_soft_break(text: str, match: regex.Match[str]) -> bool:
    line_start = text.rfind("\n", 0, match.start()) + 1
    previous_line = text[line_start : match.start()].lstrip()
    next_line = text[match.end() : match.end() + 40]
    if _HEADING.match(previous_line) or _ITEM_START.match(next_line):
        return False
    line_end = text.find("\n", match.end())
    next_row = text[match.end() : line_end if line_end >= 0 else len(text)]
    return not (_TABLE_ROW.search(previous_line) or _TABLE_ROW.search(next_row))


def _break_replacements(text: str) -> list[tuple[int, int, str]]:
    replacements: list[tuple[int, int, str]] = []
    for match in _BREAK_IN_NUMBER.finditer(text):
        joiner = "" if match.group(1) else " "
        replacements.append((match.start(2), match.end(2), joiner))
    for match in _SOFT_BREAK.finditer(text):
        if _is_soft_break(text, match):
            replacements.append((match.start(), match.end(), " "))
    for match in _DIGIT_LOOKALIKE.finditer(text):
        digit = "0" if match.group() in "Oo" else "1"
        replacements.append((match.start(), match.end(), digit))
    replacements.sort()
    return replacements


def _nlp_variant(text: str) -> str:
    """``text`` with the symbols of very long words turned into spaces."""
    if len(text) < LONG_WORD:
        return text
    return _LONG_WORD.sub(lambda match: _SYMBOL.sub(" ", match.group()), text)


def normalize(text: str) -> Normalized:
    """Normalize ``text`` for analysis; see the module docstring."""
    maps: list[OffsetMap] = []
    current = text
    if not text.isascii():
        current, offset_map = _apply(current, _unicode_replacements(current))
        maps.append(offset_map)
    replacements = _break_replacements(current)
    if replacements:
        current, offset_map = _apply(current, replacements)
        maps.append(offset_map)
    return Normalized(
        original=text, text=current, maps=maps, nlp_text=_nlp_variant(current)
    )
