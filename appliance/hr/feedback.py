"""Feedback on answers: the asker rates an answer helpful or wrong, and HR
administrators review the ratings with the passages that were cited."""

from __future__ import annotations

from typing import Any

from appliance import crypto
from appliance.accounts.models import User
from appliance.audit.services import record
from appliance.hr.models import Feedback, Turn


class AnswerNotFound(Exception):
    """No answer with that id was given to this person."""


def _aad(feedback_id: object) -> bytes:
    return f"hr-feedback:{feedback_id}".encode()


def give(user: User, turn_id: Any, *, rating: str, comment: str = "") -> Feedback:
    """Store (or replace) ``user``'s rating of one of their own answers."""
    turn = Turn.objects.filter(id=turn_id, conversation__owner=user).first()
    if turn is None:
        raise AnswerNotFound(turn_id)
    item, _ = Feedback.objects.update_or_create(
        turn=turn, user=user, defaults={"rating": rating}
    )
    item.comment_sealed = (
        crypto.seal(comment.encode(), aad=_aad(item.id)) if comment else None
    )
    item.save(update_fields=["comment_sealed"])
    record(
        "hr.feedback_given",
        actor=user,
        object_type="hr_answer",
        object_id=turn.id,
        details={"rating": rating, "comment": bool(comment)},
    )
    return item


def for_review(rating: str | None = None, limit: int = 200) -> list[Feedback]:
    items = Feedback.objects.select_related("turn")
    if rating:
        items = items.filter(rating=rating)
    return list(items[:limit])


def comment_of(item: Feedback) -> str:
    if not item.comment_sealed:
        return ""
    return crypto.unseal(bytes(item.comment_sealed), aad=_aad(item.id)).decode()


def as_dict(item: Feedback) -> dict[str, Any]:
    """The feedback as a reviewer sees it: the rating, the comment and the
    cited passages, never the question or the answer."""
    return {
        "id": item.id,
        "answer": str(item.turn_id),
        "rating": item.rating,
        "comment": comment_of(item),
        "refused": item.turn.refused,
        "citations": item.turn.citations,
        "created_at": item.created_at.isoformat(),
    }
