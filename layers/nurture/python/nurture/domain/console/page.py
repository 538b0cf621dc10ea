"""The console's page as every host serves it (CloudFront in AWS, the local gateway on this machine): the security
headers it is sent with, and the settings it reads to sign in.

The page is plain HTML, one stylesheet and one script, all from its own origin; the only other place it talks to
is Cognito, to sign in. The Content-Security-Policy says exactly that, so a lead's text that slipped into markup
could neither run nor send anything anywhere."""

from __future__ import annotations

SETTINGS_FILE = "settings.json"  # beside the page: the region, the app client, where Cognito answers
HSTS_SECONDS = 365 * 24 * 3600


def cognito_endpoint(region: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com"


def content_security_policy(cognito: str) -> str:
    """`cognito`: where the page signs in (Cognito's regional endpoint; the emulator on this machine)."""
    return "; ".join((
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        f"connect-src 'self' {cognito}", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"))


def security_headers(cognito: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(cognito),
        "Strict-Transport-Security": f"max-age={HSTS_SECONDS}; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


def page_settings(region: str, client_id: str, cognito: str) -> dict[str, str]:
    """The console's API is on the page's own origin (`api` empty): CloudFront passes /v1/console/* to it."""
    return {"region": region, "clientId": client_id, "cognitoEndpoint": cognito, "api": ""}
