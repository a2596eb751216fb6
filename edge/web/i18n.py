"""Languages of the web UI: Arabic first (RTL, Eastern Arabic digits), English on request; Flask-Babel catalogues."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, session
from flask_babel import Babel, get_locale
from markupsafe import Markup, escape

from common.web import per_request
from edge.core import money
from edge.core import tickets as tk
from edge.core.digits import eastern_run, to_eastern
from edge.core.localtime import VAN_TZ

LANGUAGES = ("ar", "en")
DEFAULT = "ar"


def current() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT


def _select() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


def num(value) -> str:
    """Digits as the reader expects them: Eastern Arabic on Arabic screens, in their written order even when
    separators join them (edge.core.digits.eastern_run: "٠٠١-٢٦١٢٠٤-٠٠٠١-٠" is drawn as on the paper)."""
    text = "" if value is None else str(value)
    return eastern_run(text) if current() == "ar" else text


def egp(piastres: int) -> str:
    return money.format_egp(int(piastres), current())


def local_time(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return num(moment.astimezone(VAN_TZ).strftime(fmt))


def local_date(value: str | date | None) -> str:
    if not value:
        return ""
    return num(value if isinstance(value, str) else value.isoformat())


def ticket_no(number: str) -> Markup:
    """A queue ticket's number as the reader finds it on their slip: on Arabic screens the Arabic letter and
    Eastern digits (أ٠٠٢) with the Latin form beside it, as both are printed; the Latin form (A002) in English."""
    try:
        arabic = tk.number_ar(number)
    except ValueError:  # not a ticket number: shown as it is
        return Markup('<bdi dir="ltr">{}</bdi>').format(number)
    if current() != "ar":
        return Markup('<bdi dir="ltr" class="ticket-no">{}</bdi>').format(number)
    return Markup('<span class="ticket-no"><bdi dir="rtl">{}</bdi> <bdi dir="ltr" lang="en" class="latin">{}</bdi>'
                  '</span>').format(arabic, escape(number))


def series(letters: str) -> Markup:
    """A ticket series (a category's letter) as its tickets show it: the Arabic letter with the Latin beside it on
    Arabic screens (و F: the slip says و ٠٠١ F001), the Latin letter in English."""
    try:
        arabic = "".join(tk.ARABIC_SERIES[c] for c in letters)
    except (KeyError, TypeError):
        return Markup('<bdi dir="ltr">{}</bdi>').format(letters)
    if current() != "ar" or not arabic:
        return Markup('<bdi dir="ltr">{}</bdi>').format(letters)
    return Markup('<bdi dir="rtl">{}</bdi> <bdi dir="ltr" lang="en" class="latin">{}</bdi>').format(arabic, letters)


def actor(who: str) -> str:
    """Who did something, as a person reads it: "operator:7" is "الموظف ٧" / "operator 7"; anything else as it is."""
    kind, _, number = str(who).partition(":")
    if kind == "operator" and number.isdigit():
        return f"الموظف {to_eastern(number)}" if current() == "ar" else f"operator {number}"
    return str(who)


def pick(obj, field: str = "name") -> str:
    """``obj.name_ar`` or ``obj.name_en`` (catalogue entries, governorates) for the current language."""
    return getattr(obj, f"{field}_{current()}", None) or getattr(obj, f"{field}_ar")


def message(exc) -> tuple[str, str]:
    """An error's text as (in the reader's language, in the other one): both are always shown.

    ``exc`` is an EdgeError or a dict with "ar" and "en" (errors carried across a redirect)."""
    ar, en = (exc["ar"], exc["en"]) if isinstance(exc, dict) else (exc.message_ar, exc.message_en)
    return (en, ar) if current() == "en" else (ar, en)


def other() -> str:
    return "ar" if current() == "en" else "en"


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=_select)
    filters = {"num": num, "egp": egp, "local_time": local_time, "local_date": local_date, "pick": pick,
               "ticket_no": ticket_no, "series": series, "actor": actor}
    app.jinja_env.filters.update(eastern=to_eastern, **{name: per_request(f) for name, f in filters.items()})
    app.jinja_env.globals.update(lang=current, text_dir=lambda: "rtl" if current() == "ar" else "ltr",
                                 pick=pick, message=message, other_lang=other)
