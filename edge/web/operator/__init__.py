"""The operator's console: one blueprint (``blueprint.bp``, at /operator/), its routes in modules by job.

- ``auth``: login, logout, training mode on and off
- ``queue``: the counter and its tickets
- ``wizard``: the new-request wizard, a table of four steps
- ``requests``: list, search, one request, cancel, hand-over
- ``receipts``: the receipt page, printing and reprinting it
- ``documents``: scanned pages in (scanner, photo, upload) and out
- ``photo``: the corner step, for a photo whose page the finder was not sure of
- ``checks``: live checks of the wizard's fields
- ``status``: the van's devices and backlog, the printer's retry
- ``shift``: open and close the operator's shift, hand the drawer over, the Z-report

Importing the package registers every route on ``bp``; the app factory registers ``bp``.
"""

from __future__ import annotations

from edge.web.operator import auth, checks, documents, photo, queue, receipts, requests, shift, status, wizard  # noqa: F401
from edge.web.operator.blueprint import bp

__all__ = ["bp"]
