"""Signed engagement webhooks from the sandbox to ``knobs.webhook_url``.

Bodies follow each scheme's sender: Standard Webhooks ``{"type", "timestamp", "data"}`` and
HubSpot v3 (a JSON array of events with ``eventId``, ``subscriptionType``, ``objectId``,
``occurredAt`` in ms). Signatures come from ``webhook_bridge.signatures.sign`` (one HMAC
implementation in the project). Emission is on demand (``emit_now``) or in the background at
``webhook_rate_per_s`` (``emit_forever``, started by the app's lifespan).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid

import httpx

from sandbox_platform.state import SandboxState
from webhook_bridge.signatures import sign

EVENT_TYPES = ("email_opened", "email_clicked", "form_submitted", "contact_unsubscribed")


SOURCE_ID_PROPERTIES = ("cdcbridge_source_id", "cdcbridgeSourceId")


def _contact(state: SandboxState) -> tuple[str, str, str | None]:
    """(id, email, our source id) of a stored contact, or a synthetic one when none is stored."""
    stored = list(state.hubspot.by_id.values()) or list(state.marketo.by_id.values())
    if not stored:
        return "0", "nobody@sandbox.example", None
    contact = random.choice(stored)
    props = contact.properties
    source_id = next((props[k] for k in SOURCE_ID_PROPERTIES if props.get(k)), None)
    return str(contact.id), str(props.get("email") or ""), source_id


def build_body(state: SandboxState, event_type: str, msg_id: str) -> bytes:
    contact_id, email, source_id = _contact(state)
    now = time.time()
    if state.knobs.webhook_scheme == "hubspot-v3":
        event = {
            "eventId": int(uuid.UUID(msg_id).int % 10**12),
            "subscriptionId": 4242,
            "portalId": 62515,
            "appId": 1160452,
            "occurredAt": int(now * 1000),
            "subscriptionType": f"contact.{event_type}",
            "attemptNumber": 0,
            "objectId": int(contact_id),
            "email": email,
            "source_id": source_id,
            "changeSource": "SANDBOX",
        }
        return json.dumps([event]).encode()
    doc = {
        "type": f"contact.{event_type}",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "data": {
            "contact_id": contact_id,
            "email": email,
            "source_id": source_id,
            "event_id": msg_id,
        },
    }
    return json.dumps(doc).encode()


async def emit_now(state: SandboxState, count: int, event_type: str) -> list[int]:
    """POST ``count`` signed webhooks; returns the HTTP statuses (0 when unreachable)."""
    knobs = state.knobs
    if not knobs.webhook_url:
        return []
    statuses: list[int] = []
    async with httpx.AsyncClient(timeout=10.0) as client:
        for _ in range(count):
            msg_id = str(uuid.uuid4())
            body = build_body(state, event_type, msg_id)
            headers = sign(
                knobs.webhook_scheme,
                secret=knobs.webhook_secret,
                body=body,
                msg_id=f"msg_{msg_id.replace('-', '')}",
                timestamp=time.time(),
                method="POST",
                url=knobs.webhook_url,
            )
            headers["Content-Type"] = "application/json"
            try:
                response = await client.post(knobs.webhook_url, content=body, headers=headers)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            state.webhooks_sent[f"{status // 100}xx" if status else "unreachable"] += 1
            statuses.append(status)
    return statuses


async def emit_forever(state: SandboxState) -> None:
    """Emit at ``webhook_rate_per_s`` (read each time, so the admin API can change it)."""
    while True:
        rate = state.knobs.webhook_rate_per_s
        if rate > 0 and state.knobs.webhook_url:
            await emit_now(state, 1, random.choice(EVENT_TYPES))
            await asyncio.sleep(1 / rate)
        else:
            await asyncio.sleep(0.2)
