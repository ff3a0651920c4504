from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from appliance.api.views import Health

handler404 = "appliance.api.errors.not_found_view"

urlpatterns = [
    path("healthz", Health.as_view(), name="health"),
    path("api/", include("appliance.api.urls")),
    path("audit/", include("appliance.audit.urls")),
    path("admin/", admin.site.urls),
    path("", include("appliance.portal.urls")),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
