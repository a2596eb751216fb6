"""What the hub sent a van, and the commands staff may send, in the staff's words (the van page).

The wire names (``command``, ``camera-thumbnail``, ``rejected``) are the protocol's (edge/sync/protocol.py); staff
see what each one does and what became of it. A name this table does not know is shown as sent.
"""

from __future__ import annotations

from edge.sync import protocol as p

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
}


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
        if d.get("held"):
            state, tone = ("ينتظر تحديث برنامج الوحدة", "waits for the van's software update"), "muted"
        elif d.get("outcome") in OUTCOMES:
            state, tone = OUTCOMES[d["outcome"]], "offline" if d["outcome"] == "rejected" else "online"
        elif d.get("outcome"):
            state, tone = ("نتيجة غير معروفة", "an outcome this hub does not know"), "muted"
        else:
            state, tone = ("لم تصل بعد", "not delivered yet"), "muted"
        raw = (command[0] if command else d["kind"]) if what is None else None
        out.append({**d, "what": what, "raw": raw, "camera": camera, "state": state, "tone": tone})
    return out
