"""The service catalogue: the shipped file is sound, and a broken copy is refused with its line."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.core import catalogue
from edge.core.catalogue import CatalogueError, UnknownCategory, UnknownService
from edge.core.digits import to_eastern
from edge.core.errors import EdgeError

SHIPPED = catalogue.default_path().read_text(encoding="utf-8")
BASE = catalogue.loads(SHIPPED)
ARABIC = re.compile(r"[\u0621-\u064A]")


@pytest.fixture(scope="module")
def shipped():
    return catalogue.load_default()


def line_of(text: str, fragment: str, start: int = 0) -> int:
    return text.count("\n", 0, text.index(fragment, start)) + 1


def edit(old: str, new: str, *, in_service: str | None = None) -> tuple[str, int]:
    """The shipped text with the first ``old`` (after the service's ``code`` line, if given) replaced
    by ``new``, and the line where the edit starts."""
    start = SHIPPED.index(f'code = "{in_service}"') if in_service else 0
    at = SHIPPED.index(old, start)
    return SHIPPED[:at] + new + SHIPPED[at + len(old) :], line_of(SHIPPED, old, start)


def refused(text: str) -> CatalogueError:
    with pytest.raises(CatalogueError) as caught:
        catalogue.loads(text, source="broken.toml")
    return caught.value


def assert_refused_at(text: str, line: int, problem: str) -> CatalogueError:
    error = refused(text)
    assert (error.problem, error.line) == (problem, line), error.message_en
    assert f"line {line}" in error.message_en and "broken.toml" in error.message_en
    assert ARABIC.search(error.message_ar)
    return error


# --- the shipped catalogue ------------------------------------------------------------------------


def test_shipped_catalogue_loads_with_version_and_publication_date(shipped):
    assert shipped.version >= 1
    assert isinstance(shipped.published, datetime.date)


def test_shipped_catalogue_has_at_least_42_services(shipped):
    assert len(shipped.services) >= 42


def test_shipped_catalogue_has_5_to_8_categories_with_unique_ticket_letters(shipped):
    assert 5 <= len(shipped.categories) <= 8
    letters = [c.ticket_series for c in shipped.categories]
    assert len(set(letters)) == len(letters) and all(re.fullmatch(r"[A-Z]", x) for x in letters)
    assert [c.order for c in shipped.categories] == sorted(c.order for c in shipped.categories)


def test_categories_come_in_display_order_whatever_the_file_order():
    text = SHIPPED.replace("order = 1\n", "order = 9\n", 1)
    assert [c.code for c in catalogue.loads(text).categories][-1] == "BLD"


def test_every_category_offers_services(shipped):
    for category in shipped.categories:
        assert shipped.services_in(category.code), category.code


def test_every_service_asks_for_at_least_one_mandatory_document(shipped):
    for service in shipped.services:
        assert any(d.mandatory for d in service.documents), service.code


def test_arabic_names_contain_arabic_letters_and_english_names_do_not(shipped):
    named = [*shipped.categories, *shipped.services, *(d for s in shipped.services for d in s.documents)]
    for thing in named:
        assert ARABIC.search(thing.name_ar), thing.code
        assert not ARABIC.search(thing.name_en), thing.code


def test_the_issue_s_key_services_are_offered(shipped):
    for code in ("BLD-NEW", "BLD-RAISE", "BLD-FACADE", "REC-187-APP", "REC-187-INST", "REC-187-CERT",
                 "SHOP-NEW", "SHOP-RENEW", "SHOP-ACT", "SHOP-XFER", "SHOP-TEMP", "OCC-ROAD", "ADV-NEW",
                 "DEM-LIC", "ELV-INST", "ELV-OPER", "PROP-LEGAL", "PROP-RENT", "UTIL-WATER", "UTIL-ELEC",
                 "UTIL-GAS", "CERT-OCCUP", "CERT-SITE", "CERT-HEIGHT", "HAWK-LIC", "GEN-COMPLAINT",
                 "GEN-TREE", "EXC-UTIL", "CERT-RETAX"):  # fmt: skip
        shipped.service(code)


def test_building_permit_takes_30_days_under_law_119_2008(shipped):
    permit = shipped.service("BLD-NEW")
    assert (permit.duration_days, permit.law, permit.category) == (30, "Law 119/2008", "BLD")
    assert shipped.category("BLD").ticket_series == "A"


def test_fees_are_whole_piastres_and_unofficial_ones_are_marked(shipped):
    for service in shipped.services:
        assert isinstance(service.fee_piastres, int) and service.fee_piastres >= 0
        assert service.fee_illustrative or service.fee_piastres == 0, service.code
    assert shipped.service("REC-187-APP").fee_piastres == 5000_00
    assert shipped.service("GEN-COMPLAINT").fee_illustrative is False


def test_shipped_text_loads_the_same_through_loads_and_load(shipped, tmp_path):
    copy = tmp_path / "catalogue.toml"
    copy.write_text(SHIPPED, encoding="utf-8")
    assert catalogue.loads(SHIPPED) == catalogue.load(copy) == shipped


# --- looking things up ----------------------------------------------------------------------------


def test_unknown_service_is_a_key_error_with_a_message_for_people(shipped):
    with pytest.raises(UnknownService) as caught:
        shipped.service("NOPE")
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, EdgeError)
    assert "NOPE" in caught.value.message_en and "NOPE" in caught.value.message_ar
    assert str(caught.value).startswith("There is no service")


def test_unknown_category_is_refused_by_category_and_services_in(shipped):
    with pytest.raises(UnknownCategory):
        shipped.category("XX")
    with pytest.raises(KeyError):
        shipped.services_in("XX")


def test_services_in_keeps_file_order(shipped):
    codes = [s.code for s in shipped.services_in("BLD")]
    assert codes[:2] == ["BLD-NEW", "BLD-RAISE"]
    assert all(shipped.service(c).category == "BLD" for c in codes)


# --- fee overrides --------------------------------------------------------------------------------


def test_fee_override_changes_only_that_service_and_makes_it_official(shipped):
    cheaper = shipped.with_fees({"SHOP-NEW": 750_50})
    assert cheaper.service("SHOP-NEW").fee_piastres == 750_50
    assert cheaper.service("SHOP-NEW").fee_illustrative is False
    assert cheaper.service("BLD-NEW") == shipped.service("BLD-NEW")
    assert shipped.service("SHOP-NEW").fee_piastres == 1000_00  # the original is untouched


def test_fee_override_for_an_unknown_service_is_refused(shipped):
    with pytest.raises(CatalogueError) as caught:
        shipped.with_fees({"SHOP-NOPE": 100})
    assert caught.value.problem == "override-unknown" and "SHOP-NOPE" in caught.value.message_en


@pytest.mark.parametrize("fee", [-1, 10.5, True, "100"])
def test_fee_override_must_be_whole_piastres(shipped, fee):
    with pytest.raises(CatalogueError) as caught:
        shipped.with_fees({"SHOP-NEW": fee})
    assert caught.value.problem == "override-fee"


# --- the wire form --------------------------------------------------------------------------------


def test_to_dict_survives_json_and_from_dict_rebuilds_the_same_catalogue(shipped):
    wire = json.loads(json.dumps(catalogue.to_dict(shipped), ensure_ascii=False))
    assert catalogue.from_dict(wire) == shipped


@given(st.integers(min_value=0, max_value=10**9))
def test_any_fee_in_piastres_survives_the_round_trip(piastres):
    cat = BASE.with_fees({"BLD-NEW": piastres})
    back = catalogue.from_dict(json.loads(json.dumps(catalogue.to_dict(cat))))
    assert back.service("BLD-NEW").fee_piastres == piastres


def test_from_dict_validates_like_the_file_and_names_the_path(shipped):
    wire = catalogue.to_dict(shipped)
    wire["services"][3]["code"] = wire["services"][0]["code"]
    with pytest.raises(CatalogueError) as caught:
        catalogue.from_dict(wire)
    assert (caught.value.problem, caught.value.line, caught.value.path) == (
        "duplicate",
        None,
        "services[3].code",
    )


# --- broken copies are refused with the line at fault ---------------------------------------------


def test_toml_syntax_error_is_refused_with_its_line():
    text, line = edit("duration_days = 30", "duration_days = = 30", in_service="BLD-RAISE")
    assert_refused_at(text, line, "syntax")


def test_duplicate_service_code_is_refused_with_its_line():
    text, line = edit('code = "BLD-RAISE"', 'code = "BLD-NEW"')
    error = assert_refused_at(text, line, "duplicate")
    first = line_of(text, 'code = "BLD-NEW"')
    assert f"already used (line {first})" in error.message_en


def test_duplicate_ticket_series_is_refused_with_its_line():
    text, line = edit('ticket_series = "C"', 'ticket_series = "A"')
    assert_refused_at(text, line, "duplicate")


def test_unknown_category_is_refused_with_its_line():
    text, line = edit('category = "SHOP"', 'category = "SHOPS"')
    assert_refused_at(text, line, "unknown-category")


def test_missing_key_is_refused_at_the_header_of_its_service():
    start = SHIPPED.index('code = "SHOP-TEMP"')
    old = SHIPPED[SHIPPED.index("name_en =", start) :].split("\n", 1)[0] + "\n"
    text, _ = edit(old, "", in_service="SHOP-TEMP")
    header = line_of(text, 'code = "SHOP-TEMP"') - 1
    assert text.splitlines()[header - 1] == "[[services]]"
    error = assert_refused_at(text, header, "missing-key")
    assert "name_en" in error.message_en and "name_en" in error.message_ar


def test_misspelt_key_is_refused_with_its_line():
    text, line = edit("fee_egp = 500", "fee_egb = 500", in_service="SHOP-RENEW")
    assert_refused_at(text, line, "unknown-key")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("duration_days = 15", 'duration_days = "15"', "positive"),
        ("duration_days = 15", "duration_days = 0", "positive"),
        ("duration_days = 15", "duration_days = -3", "positive"),
        ("duration_days = 15", "duration_days = 1.5", "positive"),
        # Found by the downlink fuzz (issue 16): registering the service raised OverflowError.
        ("duration_days = 15", "duration_days = 1000000000000", "duration"),
        ("duration_days = 15", "duration_days = 3651", "duration"),
        ("fee_egp = 500", "fee_egp = -500", "fee"),
        ("fee_egp = 500", 'fee_egp = "500"', "fee"),
        ("fee_egp = 500", "fee_egp = 500.125", "decimals"),
        ("fee_illustrative = true", 'fee_illustrative = "yes"', "flag"),
        ('law = "Law 119/2008"', 'law = "قانون البناء"', "pattern"),
        ('name_ar = "تجديد ترخيص بناء"', 'name_ar = ""', "text"),
        ('name_ar = "تجديد ترخيص بناء"', 'name_ar = "Renewal"', "arabic"),
        ('name_en = "Renewal of a building permit"', 'name_en = "   "', "text"),
        ('code = "BLD-RENEW"', 'code = "bld renew"', "pattern"),
        # Found by the downlink fuzz (issue 16): no request for it could reach the governorate (32 at most on
        # the wire), and the sync process stopped on the first one.
        ('code = "BLD-RENEW"', f'code = "BLD-RENEW-{"X" * 23}"', "code-length"),
        ('documents = ["NID", "PERMIT"]', 'documents = ["NID", "PERMIT_X"]', "unknown-document"),
        ('documents = ["NID", "PERMIT"]', 'documents = ["NID", "NID"]', "repeated-document"),
        ('documents = ["NID", "PERMIT"]', "documents = []", "no-mandatory-document"),
        ('documents = ["NID", "PERMIT"]', 'documents = "NID"', "document-list"),
        ('optional_documents = ["POA", "SUPERVISION"]', 'optional_documents = ["NID"]', "repeated-document"),
        ('notes_en = "Needed when', 'notes_fr = "Needed when', "unknown-key"),
    ],
)
def test_bad_service_value_is_refused_with_its_line(old, new, problem):
    text, line = edit(old, new, in_service="BLD-RENEW")
    assert_refused_at(text, line, problem)


def test_unknown_document_in_a_list_over_several_lines_is_refused_at_its_own_line():
    listing = 'documents = [\n  "NID",\n  "PERMIT_X",\n]'
    text, _ = edit('documents = ["NID", "PERMIT"]', listing, in_service="BLD-RENEW")
    assert_refused_at(text, line_of(text, '"PERMIT_X"'), "unknown-document")


def test_notes_in_one_language_only_are_refused():
    start = SHIPPED.index('code = "BLD-RENEW"')
    old = SHIPPED[SHIPPED.index("notes_en =", start) :].split("\n", 1)[0]
    text, _ = edit(old, "", in_service="BLD-RENEW")
    assert_refused_at(text, line_of(text, "notes_ar =", text.index('code = "BLD-RENEW"')), "notes-pair")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("version = 1", "version = 0", "positive"),
        ("version = 1", 'version = "1"', "positive"),
        ("version = 1", "version = true", "positive"),
        ("published = 2026-11-21", "published = 2026-11-21T10:00:00", "date"),
        ("published = 2026-11-21", "published = 20261121", "date"),
    ],
)
def test_bad_version_or_publication_date_is_refused_with_its_line(old, new, problem):
    text, line = edit(old, new)
    assert_refused_at(text, line, problem)


def test_bad_category_values_are_refused_with_their_line():
    for old, new, problem in [
        ('ticket_series = "D"', 'ticket_series = "DD"', "pattern"),
        ('ticket_series = "D"', 'ticket_series = "d"', "pattern"),
        ("order = 4", "order = 1", "duplicate"),
        ('name_ar = "الإشغالات والإعلانات"', 'name_ar = "Occupancy"', "arabic"),
    ]:
        text, line = edit(old, new)
        assert_refused_at(text, line, problem)


def test_bad_document_definition_is_refused_at_its_line():
    old = 'PHOTOS = { ar = "صور فوتوغرافية حديثة للموقع",'
    text, line = edit(old, 'PHOTOS = { ar = "Recent photographs",')
    error = assert_refused_at(text, line, "arabic")
    assert error.path == "documents.PHOTOS"


def test_a_catalogue_without_services_is_refused():
    text = SHIPPED[: SHIPPED.index("[[services]]")].replace("version = 1\n", "version = 1\nservices = []\n")
    assert_refused_at(text, line_of(text, "services = []"), "empty-list")


def test_a_catalogue_without_a_version_is_refused_at_the_top():
    text, _ = edit("version = 1\n", "")
    error = assert_refused_at(text, 1, "missing-key")
    assert "version" in error.message_en


def test_arabic_message_gives_the_line_in_arabic_digits():
    text, line = edit('category = "SHOP"', 'category = "SHOPS"')
    assert f"السطر {to_eastern(line)}" in refused(text).message_ar


def test_unreadable_file_is_a_catalogue_error(tmp_path):
    with pytest.raises(CatalogueError) as caught:
        catalogue.load(tmp_path / "missing.toml")
    assert caught.value.problem == "unreadable" and "missing.toml" in caught.value.message_en
    (tmp_path / "latin1.toml").write_bytes("name_ar = 'é'".encode("latin-1"))
    with pytest.raises(CatalogueError):
        catalogue.load(tmp_path / "latin1.toml")
