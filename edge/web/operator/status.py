"""The van's status page: each device's state (from ``device_status``), the outbox backlog and the age of
its oldest row, the papers waiting for the printer — and the button that asks the printer to go on."""

from __future__ import annotations

from flask import abort, redirect, render_template, send_file, session, url_for

from edge.services import papers
from edge.services.printing import papers_dir
from edge.store import catalogues, clock, device_status, outbox, print_jobs, sync_state
from edge.web import printing
from edge.web.context import catalogue, get_db, settings
from edge.web.operator.blueprint import audit, bp, login_required


@bp.get("/status")
@login_required
def status():
    db = get_db(real=True)
    s = settings()
    rows = {d.device: d for d in device_status.current(db)}
    expected = ["printer", "scanner", "qr", "gps", "modem"] + [f"camera:{n}" for n in s.devices.cameras]
    devices = [(name, rows.pop(name, None)) for name in expected] + sorted(rows.items())
    backlog = outbox.backlog(db)
    age = backlog.oldest_age(clock.now())
    in_force = catalogue()  # the governorate's newest, else the settings' file
    link = sync_state.link(db)  # the sync process's connection to the governorate, as it last recorded it
    return render_template("operator/status.html", devices=devices, backlog=backlog, catalogue=in_force,
                           catalogue_from_hub=in_force.version == catalogues.newest_version(db),
                           age_minutes=None if age is None else int(age.total_seconds() // 60),
                           waiting_papers=len(print_jobs.pending(db)), notice=session.pop("notice", None),
                           printed=papers.recent(papers_dir(s))[:PAPERS_SHOWN], link=link)


PAPERS_SHOWN = 6


@bp.get("/status/printed/<name>")
@login_required
def printed_paper(name: str):
    """The picture of one of the last papers printed, drawn from the bytes the printer was sent."""
    path = papers.path_of(papers_dir(settings()), name)
    if path is None:
        abort(404)
    return send_file(path, mimetype="image/png", max_age=0)


@bp.post("/printer/retry")
@login_required
def printer_retry():
    """"Print the waiting papers": the operator fixed the printer (paper, cover) and asks to go on now."""
    printing.retry()
    audit("printer.retry", "printer", real=True)
    session["notice"] = {"ar": "طُلب من الطابعة أن تطبع الأوراق المنتظرة.",
                         "en": "The printer was asked to print the waiting papers."}
    return redirect(url_for("operator.status"))
