"""Spoken calls for the now-serving screen: "الرقم أَلِف 2، إلى الشباك رقم 3" as a WAV file.

Made on the van by espeak-ng (Debian's package, with its Arabic voice; nothing leaves the van, nothing is
downloaded), one file per call and language list, kept in a small cache so a recall or a second screen costs
nothing. The words are :func:`edge.core.tickets.call_words` — the series letter by its name, the number as a
number, the counter — never text from a request, so nothing a citizen typed can reach the speech engine.
The screen plays the file after its chime (``static/js/display.js``); when espeak-ng is missing the screen
still chimes and shows the call, and the van's log says why it is silent.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from edge.core import tickets as tk
from edge.core.errors import EdgeError

log = logging.getLogger(__name__)

ENGINE = "espeak-ng"
VOICES = {"ar": ("ar", 145), "en": ("en-gb", 155)}  # espeak-ng voice and words per minute: slow, for a noisy bus
PAUSE_S = 0.5            # between the languages of one call
CACHE_KEEP = 300         # newest files kept; a busy day calls a few hundred tickets
TIMEOUT_S = 15


class VoiceUnavailable(EdgeError):
    code = "voice-unavailable"

    def __init__(self, detail: str):
        super().__init__("تعذّر نطق النداء؛ تظهر النداءات على الشاشة مع التنبيه الصوتي فقط.",
                         "The call cannot be spoken; calls are shown on the screen with the chime only.",
                         detail=detail)


def available() -> bool:
    return shutil.which(ENGINE) is not None


def call_wav(cache_dir: Path, number: str, counter: int, langs: tuple[str, ...]) -> Path:
    """The WAV that says this call in ``langs`` (in order), made once and then served from ``cache_dir``.

    ValueError for a number or counter that is not a call (nothing is spoken); VoiceUnavailable when the
    speech engine is missing or fails."""
    texts = [(lang, tk.call_words(number, counter, lang)) for lang in langs if lang in VOICES]
    if not texts:
        raise ValueError(f"no language to speak in: {langs!r}")
    key = hashlib.sha256(json.dumps([ENGINE, VOICES, PAUSE_S, texts], ensure_ascii=False).encode()).hexdigest()[:32]
    path = Path(cache_dir) / f"{key}.wav"
    if path.is_file():
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept by the pruning below
        return path
    data = _join([_speak(text, lang) for lang, text in texts])
    # A temporary file of its own, then renamed (not edge.store.files.write_file, whose temporary name is fixed):
    # two screens asking for one call at once both get a whole file. Nothing here needs to survive a power cut.
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".call-", suffix=".tmp", delete=False) as f:
            tmp = f.name
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk: the call is shown and chimed, not spoken
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise VoiceUnavailable(f"cannot keep the call's sound in {path.parent}: {exc}") from exc
    _prune(path.parent)
    return path


def _speak(text: str, lang: str) -> bytes:
    engine = shutil.which(ENGINE)
    if engine is None:
        raise VoiceUnavailable(f"{ENGINE} is not installed (Debian package espeak-ng)")
    voice, speed = VOICES[lang]
    with tempfile.TemporaryDirectory(prefix="voice-") as tmp:
        out = Path(tmp) / "call.wav"
        try:
            subprocess.run([engine, "-v", voice, "-s", str(speed), "-w", str(out), "--", text],
                           check=True, capture_output=True, timeout=TIMEOUT_S)
            return out.read_bytes()
        except (OSError, subprocess.SubprocessError) as exc:
            stderr = getattr(exc, "stderr", b"") or b""
            raise VoiceUnavailable(f"{ENGINE} failed: {exc} {stderr.decode(errors='replace')[:200]}") from exc


def _join(parts: list[bytes]) -> bytes:
    """One WAV of the parts in order, a pause between them (all from one engine: same rate and sample size)."""
    frames, params = [], None
    for part in parts:
        with wave.open(io.BytesIO(part)) as w:
            if params is not None and w.getparams()[:3] != params[:3]:
                raise VoiceUnavailable(f"{ENGINE} gave parts of different formats: {w.getparams()} / {params}")
            params = w.getparams()
            if frames:
                frames.append(b"\0" * int(params.framerate * PAUSE_S) * params.sampwidth * params.nchannels)
            frames.append(w.readframes(w.getnframes()))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(params.nchannels)
        w.setsampwidth(params.sampwidth)
        w.setframerate(params.framerate)
        w.writeframes(b"".join(frames))
    return out.getvalue()


def _prune(cache_dir: Path) -> None:
    try:
        kept = sorted(cache_dir.glob("*.wav"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in kept[CACHE_KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
