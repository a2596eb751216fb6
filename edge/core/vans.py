"""The van id, "V" and three ASCII digits (V007): one pattern for settings, request numbers, certificates.

Written once because four copies had drifted: two took any Unicode digit (Arabic-Indic ones too) and,
with ``match`` and ``$``, a trailing newline. Use ``VAN_ID.fullmatch``; group 1 is the van's number.
"""

from __future__ import annotations

import re

VAN_ID = re.compile(r"V(\d{3})", re.ASCII)
