"""Which connections a device kind accepts, checked and opened from one table.

Each kind's package defines ``OPENERS = Openers(kind, [Connection(...), ...])``. ``open_<kind>(url)``
opens through it, and ``edge config check`` checks through it (:func:`edge.devices.check_url`), with the
same ``check`` function: what the check accepts is exactly what starts, and a refusal reads the same
in both places. ``check`` reads the URL's options into the settings ``open`` is given and never
touches the device; it raises :class:`edge.devices.urls.DeviceUrlError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.devices import kinds
from edge.devices.urls import DeviceUrl, parse


def no_options(url: DeviceUrl) -> None:
    url.refuse_unknown(())


@dataclass(frozen=True)
class Connection:
    scheme: str
    open: Callable[..., Any]                          # (url: DeviceUrl, settings, **kwargs) -> device
    check: Callable[[DeviceUrl], Any] = no_options    # DeviceUrl -> settings for open; raises DeviceUrlError
    example: str = ""


class Openers:
    def __init__(self, kind: str, connections: list[Connection]):
        self.kind = kind
        self.connections = {c.scheme: c for c in connections}
        if tuple(self.schemes) != kinds.schemes(kind):  # the light table edge.config reads must not drift
            raise RuntimeError(f"{kind}: openers {self.schemes} differ from edge.devices.kinds {kinds.schemes(kind)}")

    @property
    def schemes(self) -> list[str]:
        return sorted(self.connections)

    def _checked(self, url) -> tuple[Connection, DeviceUrl, Any]:
        parsed = parse(self.kind, url)
        connection = self.connections.get(parsed.scheme)
        if connection is None:
            raise kinds.unknown_scheme(self.kind, parsed)
        return connection, parsed, connection.check(parsed)

    def check(self, url) -> DeviceUrl:
        """The parsed URL when a device of this kind would start from it; :class:`DeviceUrlError` if not."""
        return self._checked(url)[1]

    def open(self, url, **kwargs):
        connection, parsed, settings = self._checked(url)
        return connection.open(parsed, settings, **kwargs)
