"""A van's latest telemetry in words, for its page on the hub.

A van sends its figures as keys (edge.sync.agent.publish_telemetry, edge.update.incoming.status):
``outbox_pending``, ``device.camera_front``, ``modem.rsrp``, ``update.refused`` … Staff read them here by name in both
languages, grouped (what waits to be sent, the devices, the software), each value as what it is: a count, an age,
a device's state, an update's phase, or a text shown as the van sent it. A key this hub does not know is not hidden:
it comes last, under "other figures", as sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.sync.protocol import STREAMS

# A van's devices as staff call them (telemetry names them printer, camera_front …).
DEVICE_LABELS = {
    "printer": ("الطابعة", "Printer"), "scanner": ("الماسح الضوئي", "Scanner"), "qr": ("قارئ QR", "QR reader"),
    "gps": ("GPS", "GPS"), "modem": ("المودم", "Modem"), "disk": ("القرص", "Disk"),
    "camera_front": ("الكاميرا الأمامية", "Front camera"), "camera_rear": ("الكاميرا الخلفية", "Rear camera"),
}


def device_names(name: str) -> tuple[str, str]:
    """A device's name (Arabic, English); a camera the table does not know by its own name after the word."""
    if name in DEVICE_LABELS:
        return DEVICE_LABELS[name]
    if name.startswith("camera_"):
        return f"كاميرا {name[7:]}", f"Camera {name[7:]}"
    return name, name


def _a_device(name: str) -> bool:
    return name in DEVICE_LABELS or (name.startswith("camera_") and len(name) > 7)


GROUPS = {
    "outbox": ("ما ينتظر الإرسال", "Waiting to be sent"),
    "devices": ("الأجهزة", "Devices"),
    "software": ("البرمجيات", "Software"),
    "other": ("قياسات أخرى", "Other figures"),
}

STREAM_LABELS = {
    "tx": ("الطلبات والمدفوعات", "requests and payments"), "audit": ("سجل المراجعة", "the audit trail"),
    "doc": ("صفحات المستندات", "document pages"), "tel": ("القياسات", "telemetry"),
    "status": ("حالة الاتصال", "connection status"),
}
assert set(STREAM_LABELS) == set(STREAMS)

DEVICE_STATES = {
    "ok": ("يعمل", "working"), "warning": ("تنبيه", "warning"), "error": ("عطل", "fault"),
    "unknown": ("غير معروفة", "unknown"),
}

UPDATE_PHASES = {
    "idle": ("لا يوجد تحديث جارٍ", "no update running"), "installing": ("يثبّت إصدارًا", "installing a release"),
    "switching": ("ينتقل إلى الإصدار الجديد", "switching to the new release"),
    "checking": ("يفحص سلامة الإصدار الجديد", "checking the new release"),
    "rolling-back": ("يعود إلى الإصدار السابق", "going back to the previous release"),
}

# key: (group, Arabic, English, kind); kinds: count, age (seconds), phase, text
KEYS = {
    "outbox_pending": ("outbox", "رسائل لم تُرسل بعد", "Messages not sent yet", "count"),
    "outbox_oldest_age_s": ("outbox", "عمر أقدمها", "Age of the oldest", "age"),
    "session": ("outbox", "جلسة الاتصال", "Connection session", "count"),
    "software.version": ("software", "الإصدار العامل", "Version running", "text"),
    "software.id": ("software", "معرّف الإصدار العامل", "Id of the version running", "text"),
    "update.phase": ("software", "مرحلة التحديث", "Update phase", "phase"),
    "update.transport": ("software", "طريق تنزيل التحديثات", "How updates are downloaded", "text"),
    "update.bundle": ("software", "إصدار قيد الاستلام", "Release being received", "text"),
    "update.refused": ("software", "إصدارات رفضتها الوحدة", "Releases the van refused", "text"),
    "update.deferred": ("software", "إصدارات تنتظر عودة الاتصال لإعادة المحاولة",
                        "Releases waiting for the link to try again", "text"),
    "update.target": ("software", "الإصدار الذي طلبت المحافظة تشغيله (كما سمعته الوحدة)",
                      "Release the governorate asks it to run (as the van heard it)", "text"),
    "update.last": ("software", "آخر ما حدث في التحديث", "Last update event", "text"),
}

# Other names the hub reads the same figures under (governorate.admission.FIGURES: older vans, other watchers).
ALIASES = {
    "backlog.pending": "outbox_pending", "backlog.oldest_s": "outbox_oldest_age_s", "gps_lat": "gps.lat",
    "gps_lon": "gps.lon", "lte.rsrp_dbm": "modem.rsrp", "modem.rsrp_dbm": "modem.rsrp", "lte_rsrp_dbm": "modem.rsrp",
    "lte.signal_percent": "modem.signal", "lte.operator": "modem.operator",
}
# The group "waiting to be sent" reads as a sentence: how many, of which per stream, the oldest's age, the session.
_OUTBOX_ORDER = ["outbox_pending", *(f"outbox_pending_{s}" for s in STREAMS), "outbox_oldest_age_s", "session"]

FIGURES = {  # <device>.<figure>, as a monitor chose it for the governorate
    "lat": ("خط العرض", "latitude"), "lon": ("خط الطول", "longitude"), "signal": ("قوة الإشارة", "signal"),
    "rsrp": ("قوة الإشارة RSRP (dBm)", "signal RSRP (dBm)"), "operator": ("شبكة المحمول", "mobile network"),
    "fault": ("العطل", "fault"), "free_pct": ("المساحة الحرة ٪", "free space %"),
}


@dataclass(frozen=True)
class Row:
    group: str
    ar: str
    en: str
    kind: str  # count, age, state, phase, text
    value: object
    key: str  # as the van sent it (the row's title, for a technician)


def rows(values: dict) -> list[Row]:
    """The telemetry ``values`` as rows in words, in the order of :data:`GROUPS`, then by name."""
    out = []
    for key, value in (values or {}).items():
        key = str(key)
        known = ALIASES.get(key, key)
        # A figure may come with the "device." prefix too ("device.gps.lat", docs/monitoring.md).
        bare = known[7:] if known.startswith("device.") and known.count(".") > 1 else known
        name, _, figure = bare.partition(".")
        if known in KEYS:
            group, ar, en, kind = KEYS[known]
        elif known.startswith("outbox_pending_") and known[15:] in STREAM_LABELS:
            s_ar, s_en = STREAM_LABELS[known[15:]]
            group, ar, en, kind = "outbox", f"منها: {s_ar}", f"of which {s_en}", "count"
        elif known.startswith("device.") and known.count(".") == 1 and _a_device(known[7:]):
            group, kind = "devices", "state"
            ar, en = device_names(known[7:])
        elif figure and _a_device(name):
            d_ar, d_en = device_names(name)
            f_ar, f_en = FIGURES.get(figure, (figure, figure))
            group, ar, en, kind = "devices", f"{d_ar}: {f_ar}", f"{d_en}: {f_en}", "count"
        else:
            group, ar, en, kind = "other", key, key, "text"
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if isinstance(value, bool):
            kind = "bool"
        elif kind in ("count", "age") and not number:
            kind = "text"
        elif kind == "state" and not (isinstance(value, str) and value in DEVICE_STATES):
            kind = "text"
        elif kind == "phase" and not (isinstance(value, str) and value in UPDATE_PHASES):
            kind = "text"
        out.append(Row(group, ar, en, kind, value, key))
    order = list(GROUPS)

    def place(r: Row):
        aliased = ALIASES.get(r.key, r.key)
        within = _OUTBOX_ORDER.index(aliased) if aliased in _OUTBOX_ORDER else len(_OUTBOX_ORDER)
        return order.index(r.group), within, r.en.lower(), r.key

    return sorted(out, key=place)


def grouped(values: dict) -> list[tuple[str, list[Row]]]:
    """:func:`rows` by group, in the order of :data:`GROUPS` (Jinja's groupby would sort the groups by name)."""
    found = rows(values)
    return [(g, [r for r in found if r.group == g]) for g in GROUPS if any(r.group == g for r in found)]
