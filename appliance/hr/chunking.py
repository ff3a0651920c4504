"""Cutting a policy into passages along its sections, and passages into
sentences.

A heading starts a section: markdown headings (``#`` to ``######`` and
underlined ones), and numbered headings ("2.1 Sick leave", "Section 4:
Travel", "3. ELIGIBILITY" on a line of its own). A passage never crosses a
heading; a section longer than ``max_chars`` is cut between paragraphs, and
a paragraph longer than that between sentences. Each passage records the
headings above it, so a citation can name its section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 800

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
# Jekyll/Liquid template tags that policies exported from a static site keep.
_TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_NUMBERED = re.compile(
    r"^(?:(?:section|article|part)\s+(?P<word>\d+(?:\.\d+)*)[.:]?"
    r"|(?P<dotted>\d+(?:\.\d+)+)\.?"
    r"|(?P<single>\d+)[.)])\s+(?P<title>\S.{0,90})$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[*+-]|\d+[.)])\s+")
# Closing quotes (straight and curly) may follow the full stop.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"\u201d\u2019)*]*\s+(?=[\"\u201c(\[*]*[A-Z0-9])"
)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3})(?=\S)(.+?)(?<=\S)\1")


@dataclass(frozen=True)
class Passage:
    section: str
    text: str


@dataclass
class _Section:
    path: list[str]
    lines: list[str]


def clean(text: str) -> str:
    """Drop YAML front matter and template tags; keep everything else as
    written."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _FRONT_MATTER.sub("", text, count=1)
    return _TEMPLATE_TAG.sub("", text)


def front_matter_title(text: str) -> str | None:
    match = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if not match:
        return None
    for line in match.group(0).splitlines():
        if line.lower().startswith("title:"):
            return line.split(":", 1)[1].strip().strip("\"'") or None
    return None


def _heading(line: str, next_line: str) -> tuple[int, str] | None:
    """Return (level, title) when ``line`` is a heading."""
    atx = _ATX.match(line)
    if atx:
        title = atx.group(2).strip()
        return (len(atx.group(1)), title) if title else None
    stripped = line.strip()
    if not stripped or (_BULLET.match(line) and not _NUMBERED.match(stripped)):
        return None
    if _SETEXT.match(next_line) and len(next_line.strip()) >= 3:
        return (1 if next_line.strip()[0] == "=" else 2), stripped
    numbered = _NUMBERED.match(stripped)
    if numbered and not stripped.endswith((".", ",", ";", ":")):
        title = numbered.group("title")
        number = numbered.group("word") or numbered.group("dotted")
        if number is None:
            # "3. Eligibility": a heading only when it reads like a title, not
            # like an item of a numbered list.
            if len(title) > 60 or not (title.isupper() or title.istitle()):
                return None
            number = numbered.group("single")
        return number.count(".") + 1, stripped
    return None


def _sections(text: str) -> list[_Section]:
    lines = text.split("\n")
    sections = [_Section([], [])]
    stack: list[tuple[int, str]] = []
    skip_next = False
    for index, line in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        previous_blank = index == 0 or not lines[index - 1].strip()
        heading = _heading(line, next_line) if previous_blank else None
        if heading is None:
            sections[-1].lines.append(line)
            continue
        level, title = heading
        skip_next = bool(_SETEXT.match(next_line)) and not _ATX.match(line)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        sections.append(_Section([name for _, name in stack], []))
    return sections


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def _pack(pieces: list[str], max_chars: int, joiner: str) -> list[str]:
    packed: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(joiner) + len(piece) > max_chars:
            packed.append(current)
            current = piece
        else:
            current = f"{current}{joiner}{piece}" if current else piece
    if current:
        packed.append(current)
    return packed


def chunk(text: str, max_chars: int = MAX_CHARS) -> list[Passage]:
    """Cut ``text`` into passages of at most about ``max_chars``."""
    passages: list[Passage] = []
    for section in _sections(clean(text)):
        pieces: list[str] = []
        for paragraph in _paragraphs(section.lines):
            if len(paragraph) <= max_chars:
                pieces.append(paragraph)
            else:
                pieces += _pack(sentences(paragraph), max_chars, " ")
        name = " > ".join(section.path)
        for body in _pack(pieces, max_chars, "\n\n"):
            passages.append(Passage(section=name[:500], text=body))
    return passages


def _units(text: str) -> list[str]:
    """Split text into paragraphs, list items and table rows, joining lines
    that were wrapped."""
    units: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        starts_unit = bool(_BULLET.match(line)) or stripped.startswith("|")
        if not stripped or starts_unit:
            if current:
                units.append(" ".join(current))
            current = [stripped] if stripped else []
            if stripped.startswith("|"):
                units.append(stripped)
                current = []
            continue
        current.append(stripped)
    if current:
        units.append(" ".join(current))
    return [unit for unit in units if unit]


def sentences(text: str) -> list[str]:
    """Split a passage into sentences, list items and table rows, as
    written."""
    found: list[str] = []
    for unit in _units(text):
        found += [part.strip() for part in _SENTENCE_END.split(unit) if part.strip()]
    return found


def plain(text: str) -> str:
    """Render markdown as plain text for quoting: links become their text,
    emphasis marks and list bullets go, whitespace collapses."""
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _BULLET.sub("", text)
    return " ".join(text.split())
