"""Every text of the web UI has its Arabic, and the compiled catalogues the app loads match their sources."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.support.paths import ROOT

WEB = ROOT / "edge" / "web"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def _extracted() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(WEB), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(lang: str, kind: str):
    path = WEB / "translations" / lang / "LC_MESSAGES" / f"messages.{kind}"
    with open(path, "rb") as f:
        return read_po(f) if kind == "po" else read_mo(f)


def test_every_text_of_the_ui_has_an_arabic_translation():
    ar = _catalog("ar", "po")
    missing = sorted(m for m in _extracted() if not (ar.get(m) and ar.get(m).string))
    assert not missing, f"{len(missing)} texts without Arabic (run pybabel extract/update/compile): {missing[:10]}"


def test_compiled_catalogues_match_their_sources():
    for lang in ("ar", "en"):
        po, mo = _catalog(lang, "po"), _catalog(lang, "mo")
        stale = [m.id for m in po if m.id and m.string and (mo.get(m.id) is None or mo.get(m.id).string != m.string)]
        assert not stale, f"{lang}: messages.mo is older than messages.po for {stale[:5]} (run pybabel compile)"
