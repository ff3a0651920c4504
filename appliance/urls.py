from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from appliance.api import openai
from appliance.api.views import Health
from appliance.console.views import status_view, usage_view

handler404 = "appliance.api.errors.not_found_view"

urlpatterns = [
    path("healthz", Health.as_view(), name="health"),
    path("api/", include("appliance.api.urls")),
    # OpenAI-compatible: clients use http://HOST/v1 as their base URL.
    path(
        "v1/chat/completions",
        openai.ChatCompletions.as_view(),
        name="openai-chat-completions",
    ),
    path("v1/models", openai.Models.as_view(), name="openai-models"),
    path("v1/embeddings", openai.Embeddings.as_view(), name="openai-embeddings"),
    path("audit/", include("appliance.audit.urls")),
    path("admin/usage/", admin.site.admin_view(usage_view), name="console-usage"),
    path("admin/status/", admin.site.admin_view(status_view), name="console-status"),
    path("admin/", admin.site.urls),
    path("", include("appliance.portal.urls")),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
