"""Sign-in settings in production mode, each read by a fresh process:
OpenID Connect is wired in only when configured, and the second factor is on
unless turned off."""

from __future__ import annotations

from tests.settings.test_production import manage, production_env

OIDC = {
    "OIDC_CLIENT_ID": "appliance",
    "OIDC_CLIENT_SECRET": "client-secret-for-the-test",
    "OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example.internal/authorize",
    "OIDC_TOKEN_ENDPOINT": "https://idp.example.internal/token",
    "OIDC_USER_ENDPOINT": "https://idp.example.internal/userinfo",
    "OIDC_JWKS_ENDPOINT": "https://idp.example.internal/jwks",
}
PROBE = """
from django.conf import settings
from django.urls import NoReverseMatch, reverse
try:
    url = reverse("oidc_authentication_init")
except NoReverseMatch:
    url = "none"
print("backends", ",".join(settings.AUTHENTICATION_BACKENDS))
print("url", url)
print("callback", reverse("oidc_authentication_callback") if url != "none" else "none")
print("require_2fa", settings.REQUIRE_2FA)
print("oidc_app", "mozilla_django_oidc" in settings.INSTALLED_APPS)
"""


def probe(**overrides: str | None) -> dict[str, str]:
    result = manage(production_env(**overrides), "shell", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    lines = [line.split(" ", 1) for line in result.stdout.splitlines() if " " in line]
    return dict((key, value) for key, value in lines)


def test_oidc_off_when_unset():
    values = probe()
    assert "ApplianceOIDCBackend" not in values["backends"]
    assert values["url"] == "none"
    assert values["oidc_app"] == "False"


def test_oidc_wires_backend_and_urls():
    values = probe(**OIDC)
    backends = values["backends"].split(",")
    assert backends[0] == "axes.backends.AxesStandaloneBackend"
    assert "appliance.portal.oidc.ApplianceOIDCBackend" in backends
    assert values["url"] == "/oidc/authenticate/"
    assert values["callback"] == "/oidc/callback/"
    assert values["oidc_app"] == "True"


def test_oidc_deploy_check_clean():
    env = production_env(**OIDC)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_requires_second_factor_by_default():
    assert probe()["require_2fa"] == "True"
    assert probe(REQUIRE_2FA="false")["require_2fa"] == "False"
