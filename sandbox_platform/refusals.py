"""Persistent refusals of a request because of its input, in each vendor's published shape.

Knob ``refuse_input``: any vendor API request whose body (or query) contains that text is
refused as a whole, every time, as a vendor refuses input it will never take. HubSpot answers
``refuse_status`` with its ``Error`` body (``category`` by status: 404 ``OBJECT_NOT_FOUND``,
409 ``CONFLICT``, otherwise ``VALIDATION_ERROR``; marketing_platforms.md §1, §6); Marketo
answers HTTP 200 ``success: false`` with ``refuse_marketo_code`` (e.g. 1003 invalid data, 1011
unsupported lookup field, 610 resource not found; marketing_platforms.md §2, §8).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox_platform.faults import Vendor, hubspot_error, marketo_failure
from sandbox_platform.state import SandboxState

HUBSPOT_CATEGORIES = {404: "OBJECT_NOT_FOUND", 409: "CONFLICT"}
MARKETO_MESSAGES = {
    "609": "Invalid JSON",
    "610": "Requested resource not found",
    "1003": "Invalid data",
    "1011": "Field not supported",
}


async def input_refusal(state: SandboxState, vendor: Vendor, request: Request) -> Response | None:
    """The refusal this request gets for its input, or ``None`` to proceed."""
    needle = state.knobs.refuse_input
    if not needle:
        return None
    body = (await request.body()).decode("utf-8", "replace")
    if needle not in body and needle not in str(request.query_params):
        return None
    if vendor == "hubspot":
        status = state.knobs.refuse_status
        category = HUBSPOT_CATEGORIES.get(status, "VALIDATION_ERROR")
        return hubspot_error(status, category, f"refused: the input contains {needle!r}")
    code = state.knobs.refuse_marketo_code
    return marketo_failure(code, MARKETO_MESSAGES.get(code, "Invalid data"))
