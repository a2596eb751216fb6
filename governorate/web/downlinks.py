"""What the hub sent a van, and the commands staff may send, in the staff's words (the van page).

The wire names (``command``, ``camera-thumbnail``, ``rejected``) are the protocol's (edge/sync/protocol.py); staff
see what each one does and what became of it. A name this table does not know is shown as sent.
"""

from __future__ import annotations

import re
from datetime import datetime

from edge.core.digits import eastern_run
from edge.core.localtime import VAN_TZ
from edge.sync import protocol as p
from governorate.refusals import NOT_NEWER as _NOT_NEWER
from governorate.refusals import holds_it

# Each command staff may send: its name, and what it does (Arabic, English).
COMMANDS = {
    "ping": ("هل الوحدة متصلة؟", "Is the van there?",
             "ترد الوحدة بحالتها فور وصول الأمر.", "The van answers with its status as soon as it gets this."),
    "send-telemetry": ("أرسل الحالة الآن", "Send its status now",
                       "ترسل الوحدة أجهزتها وما ينتظر الإرسال دون انتظار موعدها.",
                       "The van sends its devices and what waits to be sent, without waiting for its next report."),
    "rebirth": ("أعد الاتصال من البداية", "Start its link afresh",
                "تعلن الوحدة حالتها كاملة من جديد، كما بعد تشغيلها.",
                "The van announces its whole state again, as after it starts."),
    "camera-thumbnail": ("صورة من كاميرا", "A picture from a camera",
                         "ترسل الوحدة آخر صورة من الكاميرا المختارة.",
                         "The van sends the latest picture from the camera chosen."),
    # Sent by the hub itself when the van's connection counter went back (never offered to staff: not in p.COMMANDS).
    "counters": ("عدّادات الوحدة كما رأتها المحافظة", "The van's counters as the hub saw them",
                 "ترفع الوحدة عدّاد اتصالها وأرقام طلبات اليوم إلى ما رأته المحافظة، بعد استعادة قاعدة بياناتها.",
                 "The van raises its connection counter and today's request numbers to what the hub saw, after its "
                 "database went back."),
}

KINDS = {
    "command": ("أمر", "Command"),
    "request-status": ("حالة طلب", "A request's state"),
    "catalog": ("دليل الخدمات", "Service catalogue"),
    "calendar": ("العطلات الرسمية", "Public holidays"),
    "trust-list": ("قائمة الثقة", "Trust list"),
    "update-chunk": ("جزء من تحديث البرنامج", "Part of a software update"),
    "update-target": ("الإصدار الذي يجب أن تشغّله الوحدة", "The release the van should run"),
    "ack": ("إقرار بالاستلام", "Acknowledgement"),
}

OUTCOMES = {
    "applied": ("نفّذتها الوحدة", "done by the van"),
    "rejected": ("رفضتها الوحدة", "refused by the van"),
    "duplicate": ("سبق أن وصلت إلى الوحدة", "the van already had it"),
    "superseded": ("حلّت محلها نسخة أحدث", "replaced by a newer one"),
}

LATER_REFUSED = ("ثم رفضتها الوحدة حين أُرسلت إليها مرة أخرى", "then refused by the van when sent to it again")
# A publication refused as not newer than what the van holds (a fresh copy after a restore, one sent again): the van
# does hold it, or a newer one — no failure, not "refused", and no later-refused badge.
HOLDS = ("لدى الوحدة هذه النسخة أو أحدث منها", "the van already has this or a newer one")

_PUBLICATION = {"catalogue": ("دليل الخدمات", "catalogue"), "holidays": ("العطلات الرسمية", "holidays"),
                "trust list": ("قائمة الثقة", "trust list")}


def command_of(van: str, payload) -> tuple[str, dict] | None:
    """The command (name, args) a stored downlink for ``van`` carries, or None when its bytes do not read as one."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        return None  # no command's bytes (or text an edited database holds)
    try:
        message = p.decode_down(bytes(payload), van=van, kind="command").message
    except p.ProtocolError:
        return None
    return (message.name, message.args) if isinstance(message, p.Command) else None


def rows(van: str, downlinks: list[dict]) -> list[dict]:
    """The van page's "Sent to the van" table: each downlink with what it is and what became of it, in words."""
    out = []
    for d in downlinks:
        what = KINDS.get(d["kind"])  # None: a name this table does not know, shown once as sent
        command = command_of(van, d.get("payload")) if d["kind"] == "command" else None
        camera = None
        if command:
            name, args = command
            words = COMMANDS.get(name)
            what = (words[0], words[1]) if words else None
            camera = args.get("camera") if name == "camera-thumbnail" and isinstance(args.get("camera"), str) else None
        holds = holds_it(d.get("error"))
        if d.get("held"):
            state, tone = ("ينتظر تحديث برنامج الوحدة", "waits for the van's software update"), "muted"
        elif d.get("outcome") == "rejected" and holds:
            state, tone = HOLDS, "muted"
        elif d.get("outcome") in OUTCOMES:
            state = OUTCOMES[d["outcome"]]
            tone = {"rejected": "offline", "superseded": "muted"}.get(d["outcome"], "online")
        elif d.get("outcome"):
            state, tone = ("نتيجة غير معروفة", "an outcome this hub does not know"), "muted"
        else:
            state, tone = ("لم تصل بعد", "not delivered yet"), "muted"
        raw = (command[0] if command else d["kind"]) if what is None else None
        # Applied, then refused when sent again (after its counter went back): the hub keeps "applied" and the
        # refusal as its error — said, so that staff see the van may not hold it any more.
        # Not when refused as not newer: the van holds it, or newer.
        later = LATER_REFUSED if d.get("outcome") == "applied" and d.get("error") and not holds else None
        words = refusal_words(d.get("error")) if d.get("outcome") == "rejected" or later or holds else None
        out.append({**d, "what": what, "raw": raw, "camera": camera, "state": state, "tone": tone,
                    "error_words": words, "later_refused": later})
    return out


# A van's refusal of a picture (edge.sync.downlink.take_picture) is an English sentence, times in UTC to the second:
# read here by its stable wording, in the staff's words (Arabic first, Cairo time); a sentence this table does not
# know (an older or newer van) is shown as the van wrote it.
_T = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC"
_FILE = {
    "its file is empty": ("ملفها فارغ", "its file is empty"),
    "its file is a link": ("ملفها رابط إلى ملف آخر", "its file is a link"),
    "its file is not a regular file": ("ملفها ليس ملفًا عاديًا", "its file is not a regular file"),
    "its file is not a JPEG": ("ملفها ليس صورة JPEG", "its file is not a JPEG"),
}
_REFUSALS = [
    (re.compile(r"no camera named '(?P<cam>[^']{1,64})' on this van; its cameras: (?P<have>.{1,400})"),
     lambda m, tm: (f"لا توجد على الوحدة كاميرا باسم {_iso(m['cam'])}؛ كاميراتها: {_iso(m['have'])}",
                    f"no camera named {m['cam']} on this van; its cameras: {m['have']}")),
    (re.compile(r"no picture of camera (?P<cam>\S{1,64}) yet"),
     lambda m, tm: (f"لا صورة من الكاميرا {_iso(m['cam'])} بعد", f"no picture from camera {m['cam']} yet")),
    (re.compile(rf"no recent picture of camera (?P<cam>\S{{1,64}}): its latest was taken {_T}, (?P<min>\d+) min ago"),
     lambda m, tm: (f"لا صورة حديثة من الكاميرا {_iso(m['cam'])}: آخر صورة التُقطت {tm(m[2], True)} "
                    f"(منذ {eastern_run(m['min'])} دقيقة)",
                    f"no recent picture from camera {m['cam']}: its latest was taken {tm(m[2], False)}, "
                    f"{m['min']} min ago")),
    (re.compile(rf"camera (?P<cam>\S{{1,64}}) is not sending pictures(?: \(offline since {_T}\))?: "
                rf"(?:(?P<none>no picture of it yet)|no picture now; its last one was taken {_T}|(?P<file>.+))"),
     lambda m, tm: _offline(m, tm)),
    (re.compile(r"the picture of camera (?P<cam>\S{1,64}) cannot be sent: (?P<file>.+)"),
     lambda m, tm: _unusable(m["cam"], m["file"])),
]


def _offline(m: re.Match, tm) -> tuple[str, str] | None:
    ar = f"الكاميرا {_iso(m['cam'])} لا ترسل صورًا" + (f" (منقطعة منذ {tm(m[2], True)})" if m[2] else "")
    en = f"camera {m['cam']} is not sending pictures" + (f" (offline since {tm(m[2], False)})" if m[2] else "")
    if m["none"]:
        return f"{ar}: لا صورة منها بعد", f"{en}: no picture from it yet"
    if m[4]:
        return f"{ar}: آخر صورة منها التُقطت {tm(m[4], True)}", f"{en}: its last one was taken {tm(m[4], False)}"
    file = _unusable(m["cam"], m["file"])
    return (f"{ar}، و{file[0]}", f"{en}; {file[1]}") if file else None


def _unusable(camera: str, why: str) -> tuple[str, str] | None:
    words = _FILE.get(why)
    big = re.fullmatch(r"it is (\d+) bytes, over the (\d+) sent", why)
    if big:
        words = (f"حجمها {eastern_run(big[1])} بايت، أكبر من {eastern_run(big[2])}", why)
    if words is None:
        return None
    return (f"لا يمكن إرسال صورة الكاميرا {_iso(camera)}: {words[0]}",
            f"the picture of camera {camera} cannot be sent: {words[1]}")


def _iso(name: str) -> str:
    """A camera's (Latin) name inside an Arabic sentence, isolated from its direction (FSI … PDI)."""
    return f"\u2068{name}\u2069"


def _cairo(utc: str, arabic: bool) -> str:
    shown = datetime.fromisoformat(f"{utc}+00:00").astimezone(VAN_TZ).strftime("%Y-%m-%d %H:%M")
    return eastern_run(shown) if arabic else f"{shown} Cairo time"


def _not_newer(m: re.Match) -> tuple[str, str]:
    ar, en = _PUBLICATION[m["what"]]
    return (f"{ar}: أُرسل إليها الإصدار {eastern_run(m['sent'])}، ولديها الإصدار {eastern_run(m['held'])}",
            f"{en}: sent v{m['sent']}, the van holds v{m['held']}")


def refusal_words(error: object) -> tuple[str, str] | None:
    """A van's refusal of a picture, or of a publication not newer than its own, in the staff's words (Arabic,
    English; times in Cairo time), or None: shown as the van wrote it."""
    if not isinstance(error, str) or len(error) > 600:
        return None
    m = _NOT_NEWER.fullmatch(error)
    if m:
        return _not_newer(m)
    for pattern, words in _REFUSALS:
        m = pattern.fullmatch(error)
        if m:
            try:
                return words(m, _cairo)
            except (ValueError, OverflowError):
                return None
    return None
