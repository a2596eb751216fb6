"""The now-serving screen (TV in the van): current ticket per counter and the last calls, pushed live over SSE."""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, render_template, stream_with_context

from edge.core import tickets as tk
from edge.store import lookups
from edge.store.db import open_db
from edge.web.context import catalogue, get_db, settings

bp = Blueprint("display", __name__, url_prefix="/display")

RECENT = 8


def state(db) -> dict:
    """What the screen shows, as data; the page and the event stream both render from this."""
    calls = lookups.recent_calls(db, limit=40)
    cats = {c.code: c for c in catalogue().categories}
    counters: dict[int, dict] = {}
    for c in calls:
        if c.state in ("called", "serving") and c.counter not in counters:
            counters[c.counter] = _call(c, cats)
    # A recall must ring again: the recall count is part of what the screen compares.
    return {
        "counters": [counters[k] for k in sorted(counters)],
        "recent": [_call(c, cats) for c in calls[:RECENT]],
    }


def _call(c: lookups.Call, cats) -> dict:
    cat = cats.get(c.category)
    return {"number": c.number, "number_ar": _number_ar(c.number), "counter": c.counter, "state": c.state,
            "recalls": c.recalls, "called_at": c.called_at, "category_ar": cat.name_ar if cat else c.category,
            "category_en": cat.name_en if cat else c.category}


def _number_ar(number: str) -> str:
    try:
        return tk.number_ar(number)
    except ValueError:  # a number from before the series rule: shown as stored
        return number


@bp.get("/")
def screen():
    return render_template("display/screen.html", state=state(get_db()))


@bp.get("/state.json")
def state_json():
    return state(get_db())


@bp.get("/events")
def events():
    """Server-sent events: the state now, then each time it changes; the connection ends after a while
    and the browser reconnects by itself, so a server thread is never held forever."""
    cfg = current_app.config
    path = settings().db_path
    duration, poll = cfg["DISPLAY_STREAM_S"], cfg["DISPLAY_POLL_S"]

    def stream():
        db = open_db(path, durable=False)
        try:
            yield "retry: 1000\n\n"
            last, quiet = None, 0.0
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                current = json.dumps(state(db), ensure_ascii=False, sort_keys=True)
                if current != last:
                    last, quiet = current, 0.0
                    yield f"event: state\ndata: {current}\n\n"
                elif quiet >= 10:
                    quiet = 0.0
                    yield ": still here\n\n"  # a comment line: finds a closed connection sooner
                time.sleep(poll)
                quiet += poll
        finally:
            db.close()

    return Response(stream_with_context(stream()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
