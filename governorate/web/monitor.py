"""Monitoring screens: the fleet overview (live), one van's page with its charts, and the alerts list."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

import governorate.web.charts as charts
import governorate.web.downlinks as downlinks
import governorate.web.telemetry as telemetry
from edge.core.errors import EdgeError
from governorate import backoffice, fleet
from governorate import shifts as hub_shifts
from governorate.web.security import allowed, login_required

bp = Blueprint("monitor", __name__)


def _store():
    return current_app.extensions["hub_store"]


def _fleet_now() -> list[dict]:
    # Computed once per page; alerts are raised by the ingest (governorate.ingest.Hub.evaluate_alerts),
    # not by whoever opens a page.
    return fleet.overview(_store(), current_app.extensions["thresholds"])


@bp.route("/")
@login_required
def overview():
    vans = _fleet_now()
    return render_template("overview.html", vans=vans, map=charts.fleet_map(vans),
                           refresh_ms=int(float(current_app.config["REFRESH_S"]) * 1000))


@bp.route("/fleet/partial")
@login_required
def fleet_partial():
    vans = _fleet_now()
    return render_template("_fleet.html", vans=vans, map=charts.fleet_map(vans))


@bp.route("/fleet.json")
@login_required
def fleet_json():
    return {"vans": _fleet_now(), "at": datetime.now(UTC).isoformat()}


@bp.route("/vans/<van>")
@login_required
def van(van: str):
    # A retired van keeps its page (its history: shifts, downlinks, alerts), marked as such.
    vans = {v["van"]: v for v in fleet.overview(_store(), current_app.extensions["thresholds"], retired=True)}
    if van not in vans:
        abort(404)
    row = _store().van(van)
    hist = fleet.history(_store(), van)
    thumbnails = _store().thumbnails(van)
    return render_template(
        "van.html", v=vans[van], telemetry=telemetry.grouped(row.get("telemetry") or {}),
        telemetry_groups=telemetry.GROUPS, device_states=telemetry.DEVICE_STATES, update_phases=telemetry.UPDATE_PHASES,
        requests_chart=charts.bars(hist["requests_per_hour"]),
        backlog_chart=charts.line(hist["backlog"], hist["hours"]),
        uptime=hist["camera_uptime"], alerts=fleet.alerts(_store(), van, include_cleared=True, limit=20),
        downlinks=downlinks.rows(van, backoffice.van_downlinks(_store(), van)),
        commands=[(name, downlinks.COMMANDS.get(name, (name, name, "", ""))) for name in  # the harmless one first
                  sorted(backoffice.COMMANDS, key=lambda n: list(downlinks.COMMANDS).index(n)
                         if n in downlinks.COMMANDS else len(downlinks.COMMANDS))],
        cameras=_cameras(thumbnails, hist), thumbnails=thumbnails, shifts=hub_shifts.for_van(_store(), van))


def _cameras(thumbnails: list[dict], hist: dict) -> list[str]:
    """The van's cameras the hub has heard of, by the names the van knows them by: those on its pictures, and
    those of its camera states (telemetry says ``camera:front`` as ``camera_front``; a name with capitals or
    spaces comes back changed, so these are suggestions, not a choice made for staff)."""
    named = {th["camera"] for th in thumbnails}
    return sorted(named | {name.removeprefix("camera_") for name in hist["camera_uptime"]})


@bp.route("/vans/<van>/cameras/<camera>.jpg")
@login_required
def thumbnail(van: str, camera: str):
    jpeg = _store().thumbnail(van, camera)
    if jpeg is None:
        abort(404)
    return Response(jpeg, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})


@bp.route("/vans/<van>/command", methods=["POST"])
@allowed("command")
def command(van: str):
    name = request.form.get("name", "")
    args = {}
    if name == "camera-thumbnail":
        camera = request.form.get("camera", "").strip()[:64]
        if not camera:
            flash(("error", "اختر الكاميرا التي تريد صورتها.", "Choose the camera whose picture you want."))
            return redirect(url_for("monitor.van", van=van))
        args["camera"] = camera
    try:
        msg_id = backoffice.command(_store(), current_app.extensions["downlinker"], van, name, args, g.user["username"])
        words = downlinks.COMMANDS.get(name, (name, name))
        flash(("ok", f"سيصل الأمر «{words[0]}» إلى الوحدة عند اتصالها.",
               f"“{words[1]}” will reach the van as soon as it is connected ({msg_id})."))
    except EdgeError as exc:
        flash(("error", exc.message_ar, exc.message_en))
    return redirect(url_for("monitor.van", van=van))


@bp.route("/alerts")
@login_required
def alerts():
    include_cleared = request.args.get("all") == "1"
    return render_template("alerts.html", alerts=fleet.alerts(_store(), include_cleared=include_cleared),
                           include_cleared=include_cleared, kinds=fleet.ALERT_KINDS)


@bp.route("/alerts/<int:alert_id>/ack", methods=["POST"])
@allowed("ack-alert")
def ack(alert_id: int):
    fleet.acknowledge(_store(), alert_id, g.user["username"])
    return redirect(url_for("monitor.alerts"))

