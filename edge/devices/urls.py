"""Device URLs: the one parser every device kind uses, and the one error a bad one raises.

A device is named in the settings by a URL (docs/configuration.md): ``serial:///dev/ttyUSB0?baudrate=9600``,
``tcp://10.0.0.5:9100``, ``sane://test:0?mode=Gray``, ``sim://front?fault=black``. Each kind used to
parse its own (three styles; a repeated option meant the first value in one kind and the last in
another; a bad value raised a bare ``ValueError`` with no Arabic). Here it is parsed once:

- ``scheme``: what kind of connection; ``name``: the part after ``scheme://`` up to ``?``, with one
  leading slash too many forgiven so ``sim://x`` and ``sim:///x`` name the same twin in every kind;
- ``options``: the query, each key at most once (a repeated key is refused: which one was meant?);
- typed readers (:meth:`DeviceUrl.number`, :meth:`DeviceUrl.flag`, :meth:`DeviceUrl.choice`) that
  refuse a bad value with the same bilingual :class:`DeviceUrlError` the operator sees from
  ``edge config check``, and :meth:`DeviceUrl.refuse_unknown` for a misspelt option.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from edge.core.errors import EdgeError

# The kinds of the settings file: (Arabic, English, settings key), as the operator reads them in an error.
KIND_NAMES = {
    "printer": ("الطابعة", "printer", "devices.printer"),
    "scanner": ("الماسح الضوئي", "scanner", "devices.scanner"),
    "qr": ("قارئ رموز QR", "QR reader", "devices.qr"),
    "camera": ("الكاميرا", "camera", "devices.cameras"),
    "gps": ("جهاز تحديد الموقع", "GPS", "devices.gps"),
    "modem": ("المودم", "modem", "devices.modem"),
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class DeviceUrlError(EdgeError, ValueError):
    """A device URL that names no device this van can open; the same text at ``edge config check`` and at start.

    Each kind may register a subclass that is also its own error (:func:`kind_error`), so the code
    that catches a ``ScannerError`` around a scan catches a bad scanner URL too.
    """

    code = "device-url"

    def __init__(self, kind: str, url: str, problem_en: str, problem_ar: str):
        url = masked(url)  # a camera URL may carry a password; errors reach logs, screens and the hub
        self.kind, self.url, self.problem, self.problem_ar = kind, url, problem_en, problem_ar
        ar_kind, en_kind, key = KIND_NAMES.get(kind, (kind, kind, f"devices.{kind}"))
        EdgeError.__init__(  # not super(): the kind's own error class may follow in the MRO with another signature
            self,
            f"عنوان {ar_kind} غير مدعوم في الإعدادات ({key}): «{url}» — {problem_ar}. "
            "صحّح ملف الإعدادات ثم أعد التشغيل، أو أبلغ الدعم الفني.",
            f"Unsupported {en_kind} address in the settings ({key}): '{url}' — {problem_en}. "
            "Fix the settings file and start again, or call technical support.",
            detail=f"{kind} {url}: {problem_en}",
        )


_KIND_ERRORS: dict[str, type[DeviceUrlError]] = {}


def kind_error(kind: str):
    """Class decorator: ``cls`` (a DeviceUrlError and the kind's own error) is what a bad ``kind`` URL raises."""
    def register(cls: type[DeviceUrlError]) -> type[DeviceUrlError]:
        _KIND_ERRORS[kind] = cls
        return cls
    return register


def url_error(kind: str, url: str, problem_en: str, problem_ar: str) -> DeviceUrlError:
    return _KIND_ERRORS.get(kind, DeviceUrlError)(kind, url, problem_en, problem_ar)


@dataclass(frozen=True)
class DeviceUrl:
    kind: str
    raw: str
    scheme: str
    name: str                   # after scheme:// up to ?, unquoted; sim://x and sim:///x both give "x"
    path: str                   # the unquoted path ("/dev/ttyUSB0" of serial:///dev/ttyUSB0)
    netloc: str = ""
    target: str = ""            # after scheme:// up to ?, unquoted, slashes kept (camera:///dev/video2 → /dev/video2)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str | None:
        return urlsplit(self.raw).hostname

    @property
    def port(self) -> int | None:
        """The port of host:port; read only by the kinds that have one (usb://04b8:0e15 is no port)."""
        try:
            return urlsplit(self.raw).port
        except ValueError:
            raise self.error("the port must be a number between 0 and 65535",
                             "رقم المنفذ يجب أن يكون بين 0 و65535") from None

    def __str__(self) -> str:
        return self.raw

    def error(self, problem_en: str, problem_ar: str) -> DeviceUrlError:
        return url_error(self.kind, self.raw, problem_en, problem_ar)

    def text(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)

    def choice(self, key: str, choices: tuple[str, ...] | list[str], default: str | None = None) -> str | None:
        value = self.options.get(key, default)
        if value is not None and value not in choices:
            shown = ", ".join(choices)
            raise self.error(f"{key} must be one of {shown}, not '{value}'",
                             f"قيمة الخيار {key} يجب أن تكون إحدى: {shown}، لا «{value}»")
        return value

    def number(self, key: str, default, *, kind=float, low=None, high=None):
        """The option as a number (``kind`` int or float) within [low, high], or ``default`` when absent."""
        if key not in self.options:
            return default
        raw = self.options[key]
        try:
            value = kind(raw)
        except ValueError:
            what_en, what_ar = ("a whole number", "عددًا صحيحًا") if kind is int else ("a number", "رقمًا")
            raise self.error(f"{key} must be {what_en}, not '{raw}'",
                             f"قيمة الخيار {key} يجب أن تكون {what_ar}، لا «{raw}»") from None
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            span = f"{low if low is not None else '…'}–{high if high is not None else '…'}"
            raise self.error(f"{key} must be within {span}, not '{raw}'",
                             f"قيمة الخيار {key} يجب أن تكون بين {span}، لا «{raw}»")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        if key not in self.options:
            return default
        raw = self.options[key].strip().lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise self.error(f"{key} must be 1 or 0 (yes or no), not '{self.options[key]}'",
                         f"قيمة الخيار {key} يجب أن تكون 1 أو 0، لا «{self.options[key]}»")

    def refuse_unknown(self, accepted) -> None:
        unknown = sorted(set(self.options) - set(accepted))
        if unknown:
            shown = ", ".join(sorted(accepted)) or "none"
            raise self.error(f"unknown option(s) {', '.join(unknown)} (this connection takes: {shown})",
                             f"خيارات غير معروفة: {', '.join(unknown)} (المقبول: {shown})")

    def need_path(self, example: str) -> str:
        if not self.path.strip("/"):
            raise self.error(f"it needs a path, e.g. {example}", f"ينقصه المسار، مثل {example}")
        return self.path

    def need_host(self, example: str) -> str:
        if not self.host:
            raise self.error(f"it needs a host, e.g. {example}", f"ينقصه اسم الجهاز أو عنوانه، مثل {example}")
        return self.host


SERIAL_LINE_OPTIONS = ("baudrate", "bytesize", "parity", "stopbits")


def serial_line(url: DeviceUrl, baudrate: int) -> dict:
    """A serial port's line settings from ``?baudrate=9600&bytesize=8&parity=N&stopbits=1`` (pyserial's names),
    the same for every serial device; ``baudrate`` is the device's usual speed."""
    return dict(
        baudrate=url.number("baudrate", baudrate, kind=int, low=300, high=4_000_000),
        bytesize=int(url.choice("bytesize", ("5", "6", "7", "8"), "8")),
        parity=url.choice("parity", ("N", "E", "O", "M", "S", "n", "e", "o", "m", "s"), "N").upper(),
        stopbits=float(url.choice("stopbits", ("1", "1.5", "2"), "1")),
    )


def parse(kind: str, url) -> DeviceUrl:
    """``url`` parsed for device ``kind``; :class:`DeviceUrlError` when it is no URL at all."""
    if isinstance(url, DeviceUrl):
        return url
    if not isinstance(url, str) or "://" not in url:
        raise url_error(kind, str(url), "write it as scheme://…, e.g. sim://", "اكتبه بالشكل scheme://…، مثل sim://")
    if any(ord(c) < 32 or ord(c) == 127 for c in url):  # a space is fine: sane://test:0?test-picture=Solid black
        raise url_error(kind, url.encode("unicode_escape").decode(), "it contains control characters",
                        "يحتوي على رموز تحكم")
    parts = urlsplit(url)
    if not parts.scheme:
        raise url_error(kind, url, "it has no scheme, e.g. sim://", "ينقصه نوع الاتصال، مثل sim://")
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in options:
            raise url_error(kind, url, f"the option {key} is given twice", f"الخيار {key} مكرر")
        options[key] = value
    rest = url.split("://", 1)[1].split("?", 1)[0].split("#", 1)[0]
    name = unquote(rest[1:] if rest.startswith("/") and not rest.startswith("//") else rest).strip("/")
    return DeviceUrl(kind, url, parts.scheme.lower(), name, unquote(parts.path), parts.netloc, unquote(rest), options)


def public(url: str) -> str:
    """The URL fit for logs and status rows (which travel to the hub): no user:password, no query.
    Camera URLs often carry a password (``rtsp://admin:secret@…``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        if parts.port:
            host += f":{parts.port}"
    except ValueError:
        pass
    return f"{parts.scheme}://{host}{parts.path}"


def masked(url: str) -> str:
    """``url`` with its password (if any) shown as ``***``: what an error may say about a URL."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user, _, host = parts.netloc.rpartition("@")
        return parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}").geturl()
    except ValueError:
        return url


def credentials(url: str) -> tuple[str, str, str]:
    """``(url without user:password, user, password)``; user and password are "" when the URL has none."""
    parts = urlsplit(url)
    if not parts.username:
        return url, "", ""
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl(), unquote(parts.username), unquote(parts.password or "")
