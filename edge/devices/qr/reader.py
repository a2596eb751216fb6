"""The reader thread and its events: codes from any source, debounced, numbered, waited for by pages."""


from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from edge.devices.qr.base import QrDeviceError, clean_code
from edge.devices.qr.decode import decode_image

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE = 2.0
# Retry an unplugged device this often: a replugged scanner is back well within 5 s.
RETRY_INTERVAL = 0.5
READ_SLICE = 0.2  # how long one read waits, so stop() is honoured quickly


@dataclass(frozen=True)
class QrEvent:
    seq: int      # 1, 2, 3 … within one run of the process (see QrEvents.epoch)
    text: str     # the code's text, control characters removed
    source: str   # "serial", "camera", "sim" or "image" (a picture handed to submit_image)
    device: str   # which one: /dev/ttyACM0, 0, sim://desk …
    at: str       # ISO 8601, UTC, milliseconds

    def as_dict(self) -> dict:
        return {"seq": self.seq, "text": self.text, "source": self.source, "device": self.device, "at": self.at}


class QrEvents:
    """Numbered events with a bounded memory; readers ask "anything after N?" and wait for it.

    Several pages may listen at once (the kiosk and the operator console): every listener sees every
    event. Only the newest ``keep`` events are kept; a listener that fell further behind gets those.
    """

    def __init__(self, keep: int = 256):
        self.epoch = secrets.token_hex(4)  # changes on every start, so a browser can tell a restart
        self._events: deque[QrEvent] = deque(maxlen=keep)
        self._seq = 0
        self._cond = threading.Condition()
        self._closed = False

    def publish(self, text: str, *, source: str = "", device: str = "") -> QrEvent:
        with self._cond:
            self._seq += 1
            event = QrEvent(self._seq, text, source, device,
                            datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"))
            self._events.append(event)
            self._cond.notify_all()
            return event

    def latest_seq(self) -> int:
        with self._cond:
            return self._seq

    def since(self, after_seq: int) -> list[QrEvent]:
        """Events numbered above ``after_seq``, at once (maybe none)."""
        with self._cond:
            return self._since(after_seq)

    def wait_next(self, after_seq: int, timeout: float) -> list[QrEvent]:
        """Events numbered above ``after_seq``; waits up to ``timeout`` seconds for one when there are none.

        A number above the latest one comes from a browser that listened before this process restarted:
        it gets every event of this run.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while True:
                found = self._since(after_seq)
                remaining = deadline - time.monotonic()
                if found or self._closed or remaining <= 0:
                    return found
                self._cond.wait(remaining)

    def close(self) -> None:
        """Wake every waiter (at shutdown), so no request hangs on a stopped reader."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _since(self, after_seq: int) -> list[QrEvent]:
        if after_seq > self._seq:
            after_seq = 0
        return [e for e in self._events if e.seq > after_seq]


class Debouncer:
    """Drops a code seen again within ``window`` seconds of its last sighting.

    The window slides with every sighting: a code held in front of a camera (seen in every frame) or
    a scanner in continuous mode gives one event, and another only once it was gone for ``window``.
    """

    def __init__(self, window: float):
        self.window = window
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def accept(self, text: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            last = self._seen.get(text)
            self._seen[text] = now
            if len(self._seen) > 512:
                self._seen = {t: at for t, at in self._seen.items() if now - at <= self.window}
            return last is None or now - last > self.window


class Source(Protocol):
    kind: str

    @property
    def name(self) -> str: ...

    def open(self) -> None: ...

    def read(self, timeout: float) -> list[str]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ReaderStatus:
    state: str        # ok / error / unknown (not started yet), as in device_status
    message_ar: str
    message_en: str
    detail: str
    since: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class QrReader:
    """Owns one source and a thread reading it; publishes every new code to ``events``."""

    def __init__(self, source: Source, *, events: QrEvents | None = None, debounce: float = DEFAULT_DEBOUNCE,
                 retry_interval: float = RETRY_INTERVAL, url: str = ""):
        self.source = source
        self.url = url
        self.events = events or QrEvents()
        self.debounce = Debouncer(debounce)
        self.retry_interval = retry_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status_lock = threading.Lock()
        self._status = ReaderStatus("unknown", "قارئ الرمز لم يبدأ بعد.", "The QR reader has not started yet.",
                                    "", _now_iso())

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> QrReader:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"qr-reader {self.source.name}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.source.close()

    def __enter__(self) -> QrReader:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> ReaderStatus:
        with self._status_lock:
            return self._status

    # -- codes -------------------------------------------------------------------------------------

    def accept(self, text: str, *, source: str | None = None, device: str | None = None) -> QrEvent | None:
        """Publish ``text`` as read now, unless it is empty or a repeat within the debounce window."""
        text = clean_code(text)
        if not text or not self.debounce.accept(text):
            return None
        return self.events.publish(text, source=source or self.source.kind, device=device or self.source.name)

    def submit_image(self, image) -> list[QrEvent]:
        """Decode a picture (e.g. a frame a kiosk page took with the browser's camera) and publish its codes.

        Returns the events published (repeats within the debounce window are not); QrImageError when
        ``image`` is not a picture.
        """
        events = (self.accept(text, source="image", device="upload") for text in decode_image(image))
        return [e for e in events if e is not None]

    # -- the thread --------------------------------------------------------------------------------

    def _set_status(self, state: str, ar: str, en: str, detail: str = "") -> None:
        with self._status_lock:
            if self._status.state != state or self._status.detail != detail:
                since = self._status.since if self._status.state == state else _now_iso()
                self._status = ReaderStatus(state, ar, en, detail, since)
                log.info("QR reader %s: %s %s", self.source.name, state, detail)

    def _run(self) -> None:
        opened = False
        while not self._stop.is_set():
            try:
                if not opened:
                    self.source.open()
                    opened = True
                    self._set_status("ok", "قارئ الرمز متصل.", "The QR reader is connected.")
                for text in self.source.read(READ_SLICE):
                    self.accept(text)
            except QrDeviceError as exc:
                opened = False
                self.source.close()
                self._set_status("error", exc.message_ar, exc.message_en, exc.detail)
                self._stop.wait(self.retry_interval)
            except Exception as exc:  # noqa: BLE001 - the reader must outlive any driver surprise
                log.exception("QR reader %s failed; retrying", self.source.name)
                opened = False
                self.source.close()
                self._set_status("error", "قارئ الرمز متوقف بسبب خطأ؛ تجري إعادة المحاولة.",
                                 "The QR reader stopped on an error; retrying.", repr(exc))
                self._stop.wait(self.retry_interval)
        self.source.close()
