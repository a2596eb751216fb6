"""Service-performance screens (issue 19): figures for a period by van, service or operator, weekly trends as
server-side SVG charts, CSV/XLSX exports of every table, and a printable monthly report per van.

Every staff role may look (decision makers are often viewers); an export is recorded in the staff audit, as the
documents a clerk opens are. The figures come from governorate/performance.py; numbers are shown with Eastern
Arabic digits when the page is in Arabic.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, g, render_template, request, session

import governorate.web.charts as charts
from common import web
from edge.core.digits import eastern_run, to_ascii, to_eastern
from edge.core.localtime import VAN_TZ
from governorate import exports, staff
from governorate import performance as perf
from governorate.web.security import login_required

bp = Blueprint("performance", __name__)
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _store():
    return current_app.extensions["hub_store"]


def _arabic() -> bool:
    return session.get("lang", "ar") != "en"


_AR_SEPARATORS = str.maketrans({".": "\u066b", ",": "\u066c"})  # Arabic decimal (٫) and thousands (٬) separators


def _digits(text: str) -> str:
    """A number as staff read it: in Arabic with Eastern digits and Arabic separators (١٬٢٥٠٫٥٠, as the van's
    screens and receipts write it), in English as it is."""
    return to_eastern(text).translate(_AR_SEPARATORS) if _arabic() else text


def _filter(name: str):
    """Register a template filter that reads the request's language (common.web.per_request: never worked out once,
    at compile time, for everyone)."""
    def register(f):
        bp.add_app_template_filter(web.per_request(f), name)
        return f
    return register


@_filter("num")
def num(value, decimals: int = 0) -> str:
    if value is None:
        return "—"
    return _digits(f"{value:,.{decimals}f}" if decimals else f"{int(value):,}")


@_filter("pct")
def pct(value) -> str:
    return "—" if value is None else _digits(f"{100 * value:.1f}") + " %"


@_filter("hours")
def hours(seconds) -> str:
    return "—" if seconds is None else _digits(f"{seconds / 3600:.1f}")


@_filter("minutes")
def minutes(seconds) -> str:
    return "—" if seconds is None else _digits(f"{seconds / 60:.1f}")


@_filter("egp")
def egp(piastres) -> str:
    return "—" if piastres is None else _digits(f"{piastres / 100:,.2f}")


@_filter("digits")
def digits(text) -> str:
    return _digits(str(text))


def _query() -> tuple[perf.Period, str, str | None, tuple[str, str] | None]:
    """The period, grouping and van the page asks for; a bad period gives this month and the error to show."""
    error = None
    try:
        period = perf.parse_period(request.args.get("from"), request.args.get("to"))
    except perf.PerformanceError as exc:
        period, error = perf.default_period(), (exc.message_ar, exc.message_en)
    by = request.args.get("by", "van")
    by = by if by in perf.GROUPINGS and by != "governorate" else "van"
    van = request.args.get("van") or None
    if van is not None and van not in perf.vans(_store()):
        van = None
    return period, by, van, error


def _trend_charts(weeks: list[dict]) -> dict:
    received = charts.bars([w["received"] for w in weeks])
    shares = [(i, 100 * w["in_time_share"]) for i, w in enumerate(weeks) if w["in_time_share"] is not None]
    in_time = charts.line(shares, max(len(weeks) - 1, 1))
    in_time["max"] = 100
    if shares:  # the line's scale is 0–100 %, not its own highest point
        in_time["points"] = " ".join(f"{round(charts.W * x / max(len(weeks) - 1, 1), 1)},"
                                     f"{round(charts.H - 16 - (charts.H - 24) * y / 100, 1)}" for x, y in shares)
    return {"received": received, "in_time": in_time, "labels": [w["week"][-3:] for w in weeks]}


@bp.route("/performance")
@login_required
def screen():
    period, by, van, error = _query()
    store = _store()
    total = perf.table(store, period, "governorate", van)
    rows = perf.table(store, period, by, van)
    weeks = perf.weekly(store, period, van)
    demand = perf.demand(store, period, van)
    return render_template(
        "performance.html", period=period, by=by, van=van, error=error, total=total[0] if total else None,
        demand=demand, demand_map=charts.demand_map(demand["cells"]),
        rows=rows, weeks=weeks, trend=_trend_charts(weeks), groupings=perf.GROUPINGS, vans=perf.vans(store),
        coverage=perf.coverage(store, period),
        columns=exports.FIGURE_COLUMNS, methods=perf.METHODS,
        ticket_groupings=perf.TICKET_GROUPINGS,
        # what the export links carry over: only these (any other query key could clash with the route's own)
        query={key: request.args[key] for key in ("from", "to", "by", "van") if request.args.get(key)},
    ), 400 if error else 200


@bp.route("/performance/export/<table>.<fmt>")
@login_required
def export(table: str, fmt: str):
    if table not in (*exports.TABLES, "all") or fmt not in FORMATS or (table == "all" and fmt != "xlsx"):
        abort(404)
    try:
        period = perf.parse_period(request.args.get("from"), request.args.get("to"))
    except perf.PerformanceError as exc:
        return render_template("error.html", code=400, ar=exc.message_ar, en=exc.message_en), 400
    _, by, van, _ = _query()
    store = _store()
    tables = []
    if table in ("figures", "all"):
        tables.append(exports.figures_table(perf.table(store, period, by, van), by))
    if table in ("weekly", "all"):
        tables.append(exports.weekly_table(perf.weekly(store, period, van)))
    data = exports.to_csv(tables[0]) if fmt == "csv" else exports.to_xlsx(tables, right_to_left=_arabic())
    with store.transaction() as conn:
        staff.audit(conn, g.user["username"], "performance.export", f"{table}.{fmt}",
                    {"from": period.first.isoformat(), "to": period.last.isoformat(), "by": by, "van": van})
    name = f"performance-{table}-{by if table != 'weekly' else 'weeks'}{'-' + van if van else ''}-" \
           f"{period.first.isoformat()}-{period.last.isoformat()}.{fmt}"
    return Response(data, mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/performance/vans/<van>/report")
@login_required
def report(van: str):
    """The month's report of one van, for printing (print CSS; the browser's "save as PDF" makes the PDF)."""
    if van not in perf.vans(_store()):
        abort(404)
    today = datetime.now(VAN_TZ).date()
    text = request.args.get("month") or f"{today:%Y-%m}"
    try:
        year, number = (int(part) for part in to_ascii(text).split("-"))
        if not perf.FIRST_YEAR <= year <= perf.LAST_YEAR:
            raise ValueError(year)
        period = perf.month(year, number)
    except (ValueError, TypeError):
        return render_template("error.html", code=400, ar=f"اكتب الشهر بالشكل سنة-شهر، مثل {eastern_run('2026-01')}.",
                               en="Write the month as YYYY-MM, e.g. 2026-01."), 400
    store = _store()
    total = perf.table(store, period, "governorate", van)
    weeks = perf.weekly(store, period, van)
    return render_template(
        "performance_report.html", van=van, period=period, month=f"{period.first:%Y-%m}",
        total=total[0] if total else None, services=perf.table(store, period, "service", van),
        operators=perf.table(store, period, "operator", van), weeks=weeks, trend=_trend_charts(weeks),
        methods=perf.METHODS, printed=date.today(), precision=perf.ps.PRECISION)
