"""HR questions. The page posts to the API's streaming endpoint
(``/api/v1/hr/questions?stream=1``) with the session and its CSRF token, so
the answer is produced by the same code as for API clients."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from appliance.portal.views.access import requires


@require_GET
@requires("jobs.submit_job")
def chat(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/hr_chat.html")
