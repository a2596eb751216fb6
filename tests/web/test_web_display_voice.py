"""The now-serving screen speaks each call (issue 18, finding 5): the words, the WAV espeak-ng makes on the van, the
cache, and what the route refuses. The browser side (the screen asks for the sound after its chime) is in
test_web_browser.py."""

from __future__ import annotations

import io
import wave
from dataclasses import replace

import pytest

from edge.services import announce
from tests.support.web_support import make_app


def _seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return w.getnframes() / w.getframerate()


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def _called(app, category: str, counter: int) -> str:
    """A ticket taken in ``category`` and called to ``counter`` today, as the van does; returns its number."""
    from edge.core import catalogue as catalogue_mod
    from edge.store import tickets
    from edge.store.db import open_db

    with open_db(app.config["EDGE_SETTINGS"].db_path) as db:
        issued = tickets.issue(db, catalogue_mod.load_default(), category)
        while (called := tickets.call_next(db, counter, "operator:2", [category])) is not None:
            if called.number == issued.ticket.number:
                return called.number
    raise AssertionError("the ticket was not called")


def test_a_call_is_spoken_as_a_wav_made_on_the_van_and_kept(app):
    client = app.test_client()
    first, second = _called(app, "BLD", 3), _called(app, "REC", 3)
    r = client.get(f"/display/call.wav?number={first}&counter=3")
    assert r.status_code == 200 and r.mimetype == "audio/wav"
    arabic = _seconds(r.data)
    assert 1.0 < arabic < 15.0
    cache = app.config["EDGE_SETTINGS"].data_dir / "cache" / "voice"
    [kept] = list(cache.glob("*.wav"))
    assert kept.read_bytes() == r.data
    assert client.get(f"/display/call.wav?number={first}&counter=3").data == r.data  # from the cache
    assert client.get(f"/display/call.wav?number={second}&counter=3").data != r.data
    assert len(list(cache.glob("*.wav"))) == 2


def test_only_a_call_the_van_made_today_is_spoken(app):
    # The screen is on the van's open network: nobody makes it say, or spend its CPU on, calls of their own.
    client = app.test_client()
    number = _called(app, "BLD", 3)
    for query in (f"number={number}&counter=4", "number=C999&counter=3"):
        assert client.get(f"/display/call.wav?{query}").status_code == 404, query
    assert not list((app.config["EDGE_SETTINGS"].data_dir / "cache").glob("voice/*.wav"))
    assert client.get(f"/display/call.wav?number={number}&counter=3").status_code == 200


def test_two_languages_make_one_longer_sound(tmp_path):
    one = announce.call_wav(tmp_path, "A002", 3, ("ar",)).read_bytes()
    both = announce.call_wav(tmp_path, "A002", 3, ("ar", "en")).read_bytes()
    assert _seconds(both) > _seconds(one) + announce.PAUSE_S + 0.5


@pytest.mark.parametrize("query", ["", "number=A002", "number=A002&counter=x", "number=A02&counter=3",
                                   "number=a002&counter=3", "number=A002&counter=0", "number=A002&counter=100",
                                   "number=%D8%A3002&counter=3", "number=A002;rm&counter=3",
                                   "number=A002&counter=99999999999999"])
def test_anything_but_a_call_is_refused_and_nothing_is_spoken(app, query):
    r = app.test_client().get(f"/display/call.wav?{query}")
    assert r.status_code == 400
    assert not list((app.config["EDGE_SETTINGS"].data_dir / "cache").glob("voice/*.wav"))


def test_no_voice_when_the_van_is_set_to_chime_only(tmp_path):
    from edge.config import DisplaySettings

    app = make_app(tmp_path)
    app.config["EDGE_SETTINGS"] = replace(app.config["EDGE_SETTINGS"], display=DisplaySettings(announce=()))
    client = app.test_client()
    assert client.get("/display/call.wav?number=A002&counter=3").status_code == 404
    assert 'data-voice=""' in client.get("/display/").get_data(as_text=True)


def test_without_the_speech_engine_the_screen_is_told_and_still_works(app, monkeypatch):
    monkeypatch.setattr(announce, "ENGINE", "espeak-ng-not-installed")
    client = app.test_client()
    number = _called(app, "BLD", 3)
    r = client.get(f"/display/call.wav?number={number}&counter=3")
    assert r.status_code == 503 and r.get_json()["code"] == "voice-unavailable"
    assert client.get("/display/").status_code == 200


def test_the_cache_keeps_the_newest_calls_only(tmp_path, monkeypatch):
    monkeypatch.setattr(announce, "CACHE_KEEP", 3)
    for seq in range(1, 6):
        announce.call_wav(tmp_path, f"A{seq:03d}", 1, ("ar",))
    assert len(list(tmp_path.glob("*.wav"))) == 3
