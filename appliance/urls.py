from django.contrib import admin
from django.urls import include, path

from appliance.api.views import Health, Index

handler404 = "appliance.api.errors.not_found_view"

urlpatterns = [
    path("", Index.as_view(), name="index"),
    path("healthz", Health.as_view(), name="health"),
    path("api/", include("appliance.api.urls")),
    path("audit/", include("appliance.audit.urls")),
    path("admin/", admin.site.urls),
]
