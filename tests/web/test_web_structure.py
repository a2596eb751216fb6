"""The web package's shape: blueprints take what they need from edge.web.context, never from the app factory
(that import was a cycle), and the console keeps its addresses and endpoint names whatever its modules."""

from __future__ import annotations

from tests.support.paths import ROOT
from tests.support.web_support import make_app
from tests.test_layers import _imports

WEB = ROOT / "edge" / "web"

# Every address of the operator's console: templates and tests build links with these endpoint names.
CONSOLE = {
    ("/operator/", "operator.home", ("GET",)),
    ("/operator/check/<kind>", "operator.check", ("POST",)),
    ("/operator/counter", "operator.set_counter", ("POST",)),
    ("/operator/documents/<int:doc_id>", "operator.document_file", ("GET",)),
    ("/operator/login", "operator.login", ("GET", "POST")),
    ("/operator/logout", "operator.logout", ("POST",)),
    ("/operator/printer/retry", "operator.printer_retry", ("POST",)),
    ("/operator/queue/<action>", "operator.queue_action", ("POST",)),
    ("/operator/queue/waiting", "operator.queue_waiting", ("GET",)),
    ("/operator/requests", "operator.requests_list", ("GET", "POST")),
    ("/operator/requests/<number>", "operator.request_detail", ("GET",)),
    ("/operator/requests/<number>/cancel", "operator.cancel", ("POST",)),
    ("/operator/requests/<number>/deliver", "operator.deliver", ("POST",)),
    ("/operator/requests/<number>/receipt", "operator.receipt", ("GET",)),
    ("/operator/requests/<number>/reprint", "operator.reprint", ("POST",)),
    ("/operator/requests/new", "operator.new_request", ("GET",)),
    ("/operator/requests/new/<draft_id>/<step>", "operator.wizard", ("GET", "POST")),
    ("/operator/requests/new/<draft_id>/page/<name>", "operator.draft_page", ("GET",)),
    ("/operator/requests/new/<draft_id>/photo", "operator.photo_corners", ("GET",)),
    ("/operator/requests/new/<draft_id>/photo", "operator.photo_decide", ("POST",)),
    ("/operator/requests/new/<draft_id>/photo/preview", "operator.photo_preview", ("GET",)),
    ("/operator/requests/new/<draft_id>/photo/straightened", "operator.straightened", ("GET",)),
    ("/operator/requests/new/discard", "operator.discard_request", ("POST",)),
    ("/operator/shift", "operator.shift", ("GET",)),
    ("/operator/shift/<int:shift_id>", "operator.shift_report", ("GET",)),
    ("/operator/shift/<int:shift_id>/close", "operator.shift_close_other", ("POST",)),
    ("/operator/shift/<int:shift_id>/print", "operator.shift_reprint", ("POST",)),
    ("/operator/shift/close", "operator.shift_close", ("POST",)),
    ("/operator/shift/counted", "operator.shift_counted", ("POST",)),
    ("/operator/shift/open", "operator.shift_open", ("POST",)),
    ("/operator/status", "operator.status", ("GET",)),
    ("/operator/status/printed/<name>", "operator.printed_paper", ("GET",)),
    ("/operator/training", "operator.training", ("POST",)),
}


def test_no_module_of_the_web_package_imports_the_app_factory():
    # _imports reads every import statement of a file, those inside functions too.
    offending = sorted(str(p.relative_to(WEB)) for p in WEB.rglob("*.py") if p.name != "app.py"
                       and any(n == "edge.web.app" or n.startswith("edge.web.app.") for n in _imports(p)))
    assert not offending, offending


def test_the_console_keeps_every_address_and_endpoint_name(tmp_path):
    app = make_app(tmp_path, PRINT_WORKER=False, QR_READER=False)
    found = {(r.rule, r.endpoint, tuple(sorted(r.methods - {"HEAD", "OPTIONS"})))
             for r in app.url_map.iter_rules() if r.endpoint.startswith("operator.")}
    assert found == CONSOLE


def test_the_wizards_step_table_follows_the_drafts_steps_in_order():
    from edge.core import drafts
    from edge.web.operator import wizard

    assert [s.name for s in wizard.STEPS] == list(drafts.STEPS)
    assert [s.next for s in wizard.STEPS] == [*drafts.STEPS[1:], None]
    assert all((WEB / "templates" / s.template).is_file() for s in wizard.STEPS)
