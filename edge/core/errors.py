"""Error types that carry a message for the user (Arabic and English) and a detail for developers."""

from __future__ import annotations


class EdgeError(Exception):
    """Base of every error the van shows to a person.

    ``message_ar`` / ``message_en`` are what a citizen or operator reads: what went wrong and what to
    do. ``detail`` is for logs and developers and may name internals. ``code`` is a short stable
    identifier that tests, APIs and translations key on.
    """

    code: str = "error"

    def __init__(self, message_ar: str, message_en: str, *, detail: str = "", code: str | None = None):
        self.message_ar = message_ar
        self.message_en = message_en
        self.detail = detail
        if code is not None:
            self.code = code
        super().__init__(f"{message_en} / {message_ar}" + (f" ({detail})" if detail else ""))

    def message(self, lang: str = "ar") -> str:
        """The user-facing message in ``lang`` ("ar" or "en"); Arabic for anything else."""
        return self.message_en if lang == "en" else self.message_ar

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "ar": self.message_ar, "en": self.message_en, "detail": self.detail}
