"""The interface language: chosen per user (``users.locale``) and per device (a long-lived cookie).

Order of precedence for a request (``app._select_locale``): ``?lang=`` for that request only, the
signed-in user's choice, the device's cookie, the browser's Accept-Language, else Chinese (zh_CN).
A choice on the login page is the device's; logging in takes it over as the user's, and a device
without a choice of its own is given the user's, so logging out keeps the language on screen.
"""
from __future__ import annotations

from flask import current_app, request

from . import services

LANG_COOKIE = "labsafe_lang"
LANG_COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap a cookie's life at 400 days


def device_language() -> str | None:
    code = request.cookies.get(LANG_COOKIE)
    return code if code in current_app.config["LANGUAGES"] else None


def set_device_language(response, code: str) -> None:
    response.set_cookie(
        LANG_COOKIE, code, max_age=LANG_COOKIE_MAX_AGE, path="/", httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), samesite="Lax",
    )


def remember_at_login(user, response) -> None:
    """At login: the device's choice becomes the user's; else the user's choice goes to the device."""
    device = device_language()
    if device:
        services.set_user_locale(user.id, device, current_app.config["LANGUAGES"])
    elif user.locale in current_app.config["LANGUAGES"]:
        set_device_language(response, user.locale)
