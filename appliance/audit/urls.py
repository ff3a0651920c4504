"""The auditors' console, mounted at /audit/."""

from django.contrib.auth import views as auth_views
from django.urls import path

from appliance.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.events, name="events"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="audit/login.html",
            redirect_authenticated_user=True,
            next_page="audit:events",
        ),
        name="login",
    ),
    path(
        "logout/",
        auth_views.LogoutView.as_view(next_page="audit:login"),
        name="logout",
    ),
    path("entries/<int:seq>/", views.entry, name="entry"),
    path("export/", views.export, name="export"),
    path("verify/", views.verify, name="verify"),
    path("access/", views.manage_access, name="access"),
]
