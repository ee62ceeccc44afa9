"""Admin edit of one stored contact, as a marketer editing it in the platform's UI would (no
vendor contract; for the audit's tests and demos).

``PATCH /admin/contacts/{platform}/{email}`` with a JSON object of properties → 200 with the
contact, 404 when no contact has that email, 400 for a body that is not an object of scalars.
``GET`` of the same path → 200 with the contact (``{"id", "properties"}``) or 404: one contact
read without the vendor API (no rate limit, no request counted; the fault suite's lag probe).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox_platform.state import SandboxState


async def edit_contact(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    platform = request.path_params["platform"]
    store = {"hubspot": state.hubspot, "marketo": state.marketo}.get(platform)
    if store is None:
        return JSONResponse({"error": f"unknown platform {platform!r}"}, 404)
    if request.method == "GET":
        stored = store.find_by_email(request.path_params["email"])
        if not stored:
            return JSONResponse({"error": "no such contact"}, 404)
        return JSONResponse({"id": str(stored[0].id), "properties": stored[0].properties})
    try:
        changes = await request.json()
    except ValueError:
        changes = None
    if not isinstance(changes, dict) or not all(
        isinstance(v, (str, int, float, bool)) or v is None for v in changes.values()
    ):
        return JSONResponse({"error": "send a JSON object of property values"}, 400)
    found = store.find_by_email(request.path_params["email"])
    if not found:
        return JSONResponse({"error": "no such contact"}, 404)
    contact = found[0]
    store.update(contact, {str(k): v if v is None else str(v) for k, v in changes.items()})
    return JSONResponse({"id": str(contact.id), "properties": contact.properties})


def routes() -> list[Route]:
    return [Route("/admin/contacts/{platform}/{email}", edit_contact, methods=["GET", "PATCH"])]
