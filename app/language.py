"""The reader's language: what stored facts become when someone reads them.

Texts that exist in both languages (a checklist item's ``text`` and ``text_en``) are stored both
ways and picked when read; messages the system writes (notices, history notes) are stored as a
key and facts and translated when read, so one stored row reads right in either language.
"""
from __future__ import annotations

import functools

from babel import Locale
from flask import current_app, has_app_context
from flask_babel import force_locale, get_locale, gettext


def N_(message: str) -> str:
    """Marks a message for the catalogues (pybabel's default keywords include N_) that is stored as a
    key and translated only when read (``translated``)."""
    return message


def default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN") if has_app_context() else "zh_CN"


def reader_locale() -> str:
    """The request's language (app.__init__._select_locale); outside a request, the school's default."""
    locale = get_locale() if has_app_context() else None
    return str(locale) if locale is not None else default_locale()


def user_locale(chosen: str | None, config: dict) -> str:
    """A recipient's language: their own choice (``users.locale``) when they made one, else the school's."""
    return chosen if chosen in (config.get("LANGUAGES") or ()) else config.get("BABEL_DEFAULT_LOCALE", "zh_CN")


def is_chinese(locale: str | None) -> bool:
    return str(locale or "").startswith("zh")


def pick(text: str, text_en: str | None, locale: str | None = None) -> str:
    """``text_en`` for a reader of another language than Chinese when there is one, else ``text``."""
    if text_en and not is_chinese(locale or reader_locale()):
        return text_en
    return text


@functools.lru_cache(maxsize=512)
def translate_in(msgid: str, locale: str) -> str:
    """``msgid`` in ``locale`` (a configured language). Cached per process: force_locale parses the locale
    (~1 ms) and the catalogues never change while the process runs; a few messages times the languages."""
    # The Locale object create_app hands Flask-Babel: force_locale("zh_CN") would parse it as
    # zh_Hans_CN, whose catalogue lookup never finds zh_CN/ (the message would stay English).
    with force_locale(locale_object(locale)):
        return gettext(msgid)


def translated(msgid: str, locale: str | None = None, **params) -> str:
    """``msgid`` in ``locale`` (default: the reader's), %-formatted with ``params``."""
    locale = locale or reader_locale()
    text = translate_in(msgid, locale) if locale != reader_locale() else gettext(msgid)
    return text % params if params else text


@functools.lru_cache(maxsize=16)
def locale_object(code: str):
    # Babel parses "zh_CN" as zh_Hans_CN, and gettext then looks in zh_Hans_CN/ and zh/ only, never
    # in the zh_CN/ catalogues: load the CLDR data under the full name, then drop the script so
    # str(locale) == "zh_CN" names the catalogue directories. Cached: Locale.parse scans every CLDR
    # locale name (~0.7 ms) and ran on every request that translated a message; the codes are
    # the few configured LANGUAGES, and the object is never changed after this.
    parsed = Locale.parse(code)
    if parsed.script is None:
        return parsed
    locale = Locale(parsed.language, territory=parsed.territory, script=parsed.script)
    locale._data  # noqa: B018  (loaded now, while the identifier still names a CLDR file)
    locale.script = None
    return locale
