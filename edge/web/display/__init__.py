"""The now-serving screen (TV in the van): current ticket per counter and the last calls, pushed live over SSE."""

from __future__ import annotations

import json
import logging
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)

from edge.core import tickets as tk
from edge.services import announce
from edge.store import lookups
from edge.store.db import open_db
from edge.web.context import catalogue, get_db, settings

bp = Blueprint("display", __name__, url_prefix="/display")
log = logging.getLogger(__name__)

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
    voice = url_for("display.call_sound") if settings().display.announce else ""
    return render_template("display/screen.html", state=state(get_db()), voice=voice)


@bp.get("/call.wav")
def call_sound():
    """The call ``?number=A002&counter=3`` spoken in the languages of ``display.announce`` (a WAV); 400 for
    anything that is not a call, 404 for a call the van has not made today (the screen is on the van's open network:
    nobody makes it speak, or burn its CPU on, calls of their own), 503 when the van cannot speak (the screen then
    only chimes)."""
    langs = settings().display.announce
    if not langs:
        abort(404)
    number = request.args.get("number", "")[:8]
    try:
        counter = int(request.args.get("counter", "")[:3])
        tk.call_words(number, counter, langs[0])  # the checks call_wav makes, before any lookup
    except ValueError:
        return {"error": "not a call: ?number=A002&counter=3"}, 400
    if not any(c.number == number and c.counter == counter for c in lookups.recent_calls(get_db(), limit=40)):
        return {"error": "no such call today"}, 404
    try:
        path = announce.call_wav(settings().data_dir / "cache" / "voice", number, counter, langs)
    except ValueError:
        return {"error": "not a call: ?number=A002&counter=3"}, 400
    except announce.VoiceUnavailable as exc:
        log.warning("the now-serving screen cannot speak: %s", exc.detail)
        return exc.as_dict(), 503
    return send_file(path, mimetype="audio/wav", max_age=3600)


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
    # Opened before the stream starts, so a database that is gone is an error answer (503), not a broken stream.
    db = open_db(path, durable=False, must_exist=True)

    def stream():
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

    response = Response(stream_with_context(stream()), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.call_on_close(db.close)  # also when the stream never started (the browser went first)
    return response
