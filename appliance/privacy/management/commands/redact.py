"""``manage.py redact``: redact text from standard input.

    manage.py redact [--scope ID] [--json] < letter.txt
    manage.py redact --jsonl < batch.jsonl

Plain text is read and redacted in steps of PRIVACY_MAX_CHARS characters,
so a file of any size passes through in bounded memory (with ``--json`` the
whole result is held to print it as one object). ``--jsonl`` reads one
``{"id": ..., "text": ...}`` object per line and writes one result per
line, in order; a bad line gets an ``error`` object in its place and the
command exits with status 1 after the last line.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from itertools import islice
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from appliance.errors import PermanentError
from appliance.privacy.redaction import Redaction, redact_many, redact_stream

READ_SIZE = 64 * 1024
BATCH_LINES = 32


def _entities(redaction: Redaction, offset: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "type": entity.type,
            "start": entity.start + offset,
            "end": entity.end + offset,
            "score": entity.score,
            "recognizer": entity.recognizer,
        }
        for entity in redaction.entities
    ]


def _blocks(stream: TextIO) -> Iterator[str]:
    while block := stream.read(READ_SIZE):
        yield block


class Command(BaseCommand):
    help = "Redact text from standard input and print it with pseudonym tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scope",
            help="Vault scope for the tokens; the same scope gives the same value "
            "the same token. Default: a new scope, printed to standard error.",
        )
        output = parser.add_mutually_exclusive_group()
        output.add_argument(
            "--json",
            action="store_true",
            help="Print {text, entities} with offsets into the input.",
        )
        output.add_argument(
            "--jsonl",
            action="store_true",
            help='Read {"id", "text"} objects, one per line; write one result '
            "per line.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scope = options["scope"] or f"cli:{uuid.uuid4()}"
        if not options["scope"]:
            self.stderr.write(f"scope: {scope}")
        try:
            if options["jsonl"]:
                failed = self._jsonl(sys.stdin, scope)
                if failed:
                    raise CommandError(f"{failed} line(s) could not be redacted.")
            else:
                self._text(sys.stdin, scope, as_json=options["json"])
        except PermanentError as exc:
            raise CommandError(exc.message) from None

    def _text(self, stream: TextIO, scope: str, *, as_json: bool) -> None:
        offset = 0
        texts: list[str] = []
        entities: list[dict[str, Any]] = []
        step = settings.PRIVACY_MAX_CHARS // 2
        for part in redact_stream(
            _blocks(stream), scope_id=scope, owner_id=None, step=step
        ):
            if as_json:
                texts.append(part.text)
                entities += _entities(part, offset)
            else:
                self.stdout.write(part.text, ending="")
            offset += self._original_length(part)
        if as_json:
            self.stdout.write(
                json.dumps({"text": "".join(texts), "entities": entities})
            )

    @staticmethod
    def _original_length(part: Redaction) -> int:
        """Return the length of the input that ``part`` covers."""
        return len(part.text) + sum(
            (e.end - e.start) - (e.redacted_end - e.redacted_start)
            for e in part.entities
        )

    def _parse(self, number: int, line: str) -> tuple[Any, str] | dict[str, Any]:
        try:
            item = json.loads(line)
        except ValueError:
            return {"line": number, "error": "The line is not valid JSON."}
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            return {
                "line": number,
                "id": item.get("id") if isinstance(item, dict) else None,
                "error": 'The line needs a "text" string.',
            }
        if len(item["text"]) > settings.PRIVACY_MAX_CHARS:
            return {
                "line": number,
                "id": item.get("id"),
                "error": f"The text is longer than {settings.PRIVACY_MAX_CHARS} "
                "characters; split it into several lines.",
            }
        return item.get("id"), item["text"]

    def _jsonl(self, stream: TextIO, scope: str) -> int:
        failed = 0
        numbered = enumerate((line for line in stream if line.strip()), start=1)
        while batch := list(islice(numbered, BATCH_LINES)):
            parsed = [self._parse(number, line) for number, line in batch]
            good = [item for item in parsed if isinstance(item, tuple)]
            redactions = iter(
                redact_many([text for _, text in good], scope_id=scope, owner_id=None)
            )
            for item in parsed:
                if isinstance(item, dict):
                    failed += 1
                    self.stdout.write(json.dumps(item))
                    continue
                redaction = next(redactions)
                result = {
                    "id": item[0],
                    "text": redaction.text,
                    "entities": _entities(redaction),
                }
                self.stdout.write(json.dumps(result))
        return failed
