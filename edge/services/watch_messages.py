"""What the operator reads about a camera, the GPS or the modem, in Arabic and English (one place for all)."""

from __future__ import annotations

from edge.core.digits import to_eastern

# Camera names from the settings file, as an operator says them.
_CAMERA_AR = {"front": "الأمامية", "rear": "الخلفية", "back": "الخلفية", "inside": "الداخلية",
              "interior": "الداخلية", "side": "الجانبية", "left": "اليسرى", "right": "اليمنى",
              "door": "عند الباب", "kiosk": "عند الكشك"}


def _camera(name: str) -> tuple[str, str]:
    ar = _CAMERA_AR.get(name.lower())
    return (f"الكاميرا {ar}" if ar else f"الكاميرا «{name}»"), f"The {name} camera"


def camera(name: str, fault: str | None, state: str) -> tuple[str, str]:
    """(Arabic, English) for camera ``name`` with its most serious ``fault`` (None: healthy)."""
    ar, en = _camera(name)
    if fault is None:
        if state == "unknown":
            return f"لم تصل صورة من {ar} بعد", f"No picture from {en[0].lower() + en[1:]} yet"
        return f"{ar} تعمل", f"{en} is working"
    texts = {
        "offline": (f"{ar} لا ترسل صورة — افحص الكابل والتيار الكهربائي",
                    f"{en} is not sending pictures — check its cable and power"),
        "dark": (f"{ar} مغطاة أو مظلمة", f"{en} is covered or dark"),
        "frozen": (f"صورة {ar} متجمدة — أعد تشغيل الكاميرا", f"{en}'s picture is frozen — restart the camera"),
        "moved": (f"{ar} تحركت عن وضعها — أعد توجيهها", f"{en} has moved from its position — re-aim it"),
        "blurred": (f"صورة {ar} غير واضحة — نظّف العدسة", f"{en}'s picture is blurred — clean the lens"),
    }
    return texts[fault]


def _minutes(seconds: float) -> tuple[str, str]:
    minutes = max(1, round(seconds / 60))
    return to_eastern(minutes), str(minutes)


def gps(reason: str, *, satellites: int | None = None, fix_age_s: float | None = None) -> tuple[str, str]:
    if reason == "ok":
        sats = satellites or 0
        return f"تحديد الموقع يعمل (الأقمار الصناعية: {to_eastern(sats)})", f"GPS has a fix ({sats} satellites)"
    if reason == "no_fix":
        ar, en = "جهاز تحديد الموقع يبحث عن الأقمار الصناعية", "GPS has no fix — searching for satellites"
        if fix_age_s is not None:
            m_ar, m_en = _minutes(fix_age_s)
            return f"{ar}؛ آخر موقع منذ {m_ar} دقيقة", f"{en}; last position {m_en} min ago"
        return ar, en
    if reason == "garbled":
        return ("جهاز تحديد الموقع يرسل بيانات تالفة — افحص سرعة المنفذ والكابل",
                "The GPS receiver sends garbled data — check the baud rate and cable")
    if reason == "silent":
        return "جهاز تحديد الموقع لا يرسل بيانات — افحص الكابل", "The GPS receiver sends nothing — check its cable"
    return "حالة جهاز تحديد الموقع غير معروفة بعد", "GPS status not known yet"


def modem(reason: str, *, operator: str = "", tech: str = "", signal: int | None = None) -> tuple[str, str]:
    sig_ar = "" if signal is None else f"، الإشارة {to_eastern(signal)}٪"
    sig_en = "" if signal is None else f", signal {signal}%"
    texts = {
        "ok": (f"مودم الإنترنت متصل — {operator} {tech}{sig_ar}".replace("  ", " "),
               f"LTE modem connected — {operator} {tech}{sig_en}".replace("  ", " ")),
        "weak_signal": (f"إشارة الإنترنت ضعيفة{sig_ar} — قد تتأخر المزامنة مع المحافظة",
                        f"Weak mobile signal{sig_en} — sync with the governorate may be slow"),
        "not_connected": ("المودم مسجّل على الشبكة لكنه غير متصل بالإنترنت",
                          "The modem is on the network but not connected to the internet"),
        "no_signal": ("لا توجد إشارة لمودم الإنترنت", "The modem has no signal"),
        "detached": ("المودم غير متصل بشبكة المحمول", "The modem is not attached to the mobile network"),
        "absent": ("لم يُعثر على مودم الإنترنت — افحص توصيله", "No modem found — check that it is plugged in"),
        "failed": ("مودم الإنترنت معطّل أو في حالة خطأ", "The modem is disabled or has failed"),
        "unknown": ("حالة مودم الإنترنت غير معروفة (ModemManager غير متوفر)",
                    "Modem status unknown (ModemManager is not available)"),
    }
    return texts.get(reason, texts["unknown"])


def disk(state: str, free_mb: int) -> tuple[str, str]:
    """The van's disk: ``ok``, ``warning`` (low: thumbnails and device history shed) or ``error`` (full:
    intake refuses new pages)."""
    free_ar = to_eastern(free_mb)
    texts = {
        "ok": (f"مساحة القرص كافية — {free_ar} ميجابايت متاحة", f"Enough disk space — {free_mb} MB free"),
        "warning": (f"مساحة القرص توشك أن تنفد — {free_ar} ميجابايت متاحة؛ أُوقفت صور الكاميرات المصغرة. "
                    "اتصل بالدعم الفني.",
                    f"The disk is nearly full — {free_mb} MB free; camera thumbnails are paused. "
                    "Call technical support."),
        "error": (f"قرص العربة ممتلئ — {free_ar} ميجابايت متاحة؛ لا تُقبل صفحات ممسوحة جديدة. "
                  "لا تستلم أوراقًا جديدة واتصل بالدعم الفني.",
                  f"The van's disk is full — {free_mb} MB free; no new scanned pages are accepted. "
                  "Do not take in new papers; call technical support."),
    }
    return texts[state]
