"""CCTV cameras by URL and their heartbeat: is each one reachable, live, uncovered, sharp and still aimed right.

Two halves. *Sources* (:func:`open_camera`) fetch frames from ``sim://``, ``http(s)://`` (MJPEG stream
or a snapshot URL), ``rtsp://`` and ``file://`` in a background thread each, so one slow camera
never delays the others and ``latest()`` never blocks. The :class:`CameraMonitor` turns samples
into a state with debounced alarms; it takes frames and times as arguments, so it is tested on
numpy frames without a clock or a network. The picture checks themselves are in :mod:`edge.devices.cctv.checks`.
"""

from __future__ import annotations

from edge.devices.cctv import checks  # noqa: F401  (the kind's public face)
from edge.devices.cctv.base import CameraSource, CameraUrlError, Frame, ThreadedSource  # noqa: F401
from edge.devices.cctv.capture import CaptureSource
from edge.devices.cctv.http import HttpSource
from edge.devices.cctv.monitor import (  # noqa: F401
    ERROR_FAULTS,
    FAULT_ORDER,
    CameraMonitor,
    CameraReport,
    CctvTuning,
    Debounce,
)
from edge.devices.cctv.sim import SimSource, sim_settings
from edge.devices.openers import Connection, Openers
from edge.devices.urls import DeviceUrl, public


def public_url(url: str) -> str:
    """The camera URL fit for logs and status rows: camera URLs often carry a password
    (``rtsp://admin:secret@…``), and status rows travel to the hub."""
    return public(url)


def _network(url: DeviceUrl) -> None:
    url.need_host(f"{url.scheme}://10.0.0.7/stream")  # the query belongs to the camera's own URL


def _file(url: DeviceUrl) -> None:
    url.refuse_unknown(())
    url.need_path("file:///srv/demo/front.mp4")


OPENERS = Openers("camera", [
    Connection("sim", lambda url, s, timeout_s=5.0: SimSource(url), sim_settings, "sim://front"),
    Connection("http", lambda url, s, timeout_s=5.0: HttpSource(url.raw, timeout_s), _network, "http://10.0.0.7/mjpg"),
    Connection("https", lambda url, s, timeout_s=5.0: HttpSource(url.raw, timeout_s), _network, "https://10.0.0.7/mjpg"),
    Connection("rtsp", lambda url, s, timeout_s=5.0: CaptureSource(url, timeout_s), _network, "rtsp://10.0.0.7/s1"),
    Connection("file", lambda url, s, timeout_s=5.0: CaptureSource(url, timeout_s), _file, "file:///srv/demo/front.mp4"),
])


def open_camera(url: str, *, timeout_s: float = 5.0) -> CameraSource:
    """The camera a ``devices.cameras`` URL names; a wrong one raises :class:`CameraUrlError`."""
    return OPENERS.open(url, timeout_s=timeout_s)
