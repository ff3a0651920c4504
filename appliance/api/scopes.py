"""Which API key scope each endpoint needs.

Every URL that an API key can reach is listed here by its URL name. A key
calling an endpoint that is missing from the table is rejected, so a new
endpoint stays closed to keys until someone decides which scope covers it;
``tests/api/test_scopes.py`` fails for an API URL that is not listed.
"""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.exceptions import PermissionDenied

from appliance.accounts.models import ApiKey, Scope


class InsufficientScope(PermissionDenied):
    default_detail = (
        "This API key's scopes do not cover this endpoint. Ask an administrator "
        "for a key with the right scope."
    )
    default_code = "insufficient_scope"


# URL name -> the scope a key needs, or None for endpoints open to any key.
SCOPE_BY_URL_NAME: dict[str, Scope | None] = {
    "index": None,
    "api-schema": None,
    "api-docs": None,
    "api-redoc": None,
    "compliance-check-create": Scope.COMPLIANCE,
    "job-list": Scope.JOBS,
    "job-detail": Scope.JOBS,
    "job-retry": Scope.JOBS,
    "hr-question-create": Scope.HR,
    "hr-policy-create": Scope.HR,
    "hr-policy-detail": Scope.HR,
    "hr-feedback-create": Scope.HR,
    "hr-feedback-list": Scope.HR,
    "openai-chat-completions": Scope.CHAT,
    "openai-models": Scope.CHAT,
    "openai-embeddings": Scope.CHAT,
    "webhook-list": Scope.WEBHOOKS,
    "webhook-detail": Scope.WEBHOOKS,
    "escalation-list": Scope.ESCALATION,
    "escalation-detail": Scope.ESCALATION,
    "escalation-approve": Scope.ESCALATION,
    "escalation-reject": Scope.ESCALATION,
    "escalation-accept": Scope.ESCALATION,
    "escalation-policy": Scope.ESCALATION,
    "review-queue": Scope.COMPLIANCE,
    "review-detail": Scope.COMPLIANCE,
    "review-finding": Scope.COMPLIANCE,
    "review-sign-off": Scope.COMPLIANCE,
    "annotation-create": Scope.ANNOTATION,
    "annotation-detail": Scope.ANNOTATION,
    "annotation-file": Scope.ANNOTATION,
    "annotation-batch-detail": Scope.ANNOTATION,
    "annotation-batch-export": Scope.ANNOTATION,
}


def required_scope(request: HttpRequest) -> tuple[bool, Scope | None]:
    """Return (listed, scope) for the URL ``request`` resolved to."""
    match = request.resolver_match
    name = match.url_name if match is not None else None
    if name is None or name not in SCOPE_BY_URL_NAME:
        return False, None
    return True, SCOPE_BY_URL_NAME[name]


def key_may_call(key: ApiKey, request: HttpRequest) -> bool:
    listed, scope = required_scope(request)
    if not listed:
        return False
    return scope is None or scope.value in key.scopes
