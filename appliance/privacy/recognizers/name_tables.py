"""Names in the columns of a table whose header names them: "Name",
"Employee", "Last Name", "customer_name".

Document extraction writes a spreadsheet or CSV row as one line with cells
joined by " | "; pasted tables use tabs or commas. A header line is a line
of at least two short cells, one of them a name header. The lines after it
with the same number of separators are its rows, and the cell under a name
header in each row is judged as a name after a personal cue, whatever its
case: "ADEWALE OGUNDIPE", "tunde bakare" and "Okonkwo, Chidubem" in such a
column are names.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

from appliance.privacy.recognizers.name_cues import Cue, NameWords

SEPARATORS = ("|", "\t", ",")
# Maximum length of a header cell: a longer cell is prose, not a header.
MAX_HEADER_CELL = 40
# Maximum length of a cell judged as a name.
MAX_NAME_CELL = 80
# These two patterns only ever see one cell of at most MAX_NAME_CELL
# characters and have no nested repetition, so they run without the
# time limit that patterns over whole texts get.
_NAME_HEADER = regex.compile(
    r"(?i:(?:(?:first|last|given|family|full|middle|legal|preferred|"
    r"customer|client|employee|patient|contact|member|holder|beneficiary|"
    r"applicant|borrower|owner|account[ _-]?holder)[ _-]?)?name|surname|"
    r"forename|employee|customer|client|patient|contact|beneficiary|"
    r"applicant|borrower|account[ _-]?holder|cardholder|payee|signatory)"
)
_FAMILY_FIRST_CELL = regex.compile(
    r"(?P<family>[^,]{2,40}),[ \t]{0,2}(?P<given>.{2,40})"
)


def _cells(line: str, separator: str) -> list[tuple[int, str]]:
    """Split ``line`` at ``separator``; return each cell's offset and text."""
    cells = []
    offset = 0
    for cell in line.split(separator):
        cells.append((offset, cell))
        offset += len(cell) + len(separator)
    return cells


def _header_columns(line: str) -> tuple[str, list[int]] | None:
    """Return the separator and the name columns of ``line`` if it is a
    header line, else None."""
    for separator in SEPARATORS:
        if line.count(separator) < 1:
            continue
        cells = [cell.strip(" \"'") for _, cell in _cells(line, separator)]
        if any(len(cell) > MAX_HEADER_CELL for cell in cells):
            continue
        columns = [i for i, cell in enumerate(cells) if _NAME_HEADER.fullmatch(cell)]
        if columns:
            return separator, columns
    return None


def _is_name(words: NameWords, value: str) -> bool:
    if "," in value:
        parts = _FAMILY_FIRST_CELL.fullmatch(value)
        if parts is None:
            return False
        return words.family_first(
            parts.group("family"), parts.group("given"), labelled=True
        )
    # The column header marks the cell as a name, so its case does not matter.
    return words.accepts(value.title(), Cue.PERSONAL)


def table_name_cells(text: str, words: NameWords) -> Iterator[tuple[int, int]]:
    """Yield the spans of names in name columns of tables in ``text``."""
    if not any(separator in text for separator in SEPARATORS):
        return
    lines = text.split("\n")
    starts = []
    position = 0
    for line in lines:
        starts.append(position)
        position += len(line) + 1
    header: tuple[str, list[int], int] | None = None
    for index, line in enumerate(lines):
        if header is not None and line.count(header[0]) == header[2]:
            yield from _row_names(line, starts[index], header[0], header[1], words)
            continue
        found = _header_columns(line)
        header = (found[0], found[1], line.count(found[0])) if found else None


def _row_names(
    line: str, start: int, separator: str, columns: list[int], words: NameWords
) -> Iterator[tuple[int, int]]:
    cells = _cells(line, separator)
    for column in columns:
        offset, cell = cells[column]
        value = cell.strip(" \t\"'")
        if not value or len(value) > MAX_NAME_CELL or not _is_name(words, value):
            continue
        begin = start + offset + cell.index(value)
        yield begin, begin + len(value)
