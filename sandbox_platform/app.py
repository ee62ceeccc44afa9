"""The sandbox marketing platform as a Starlette app: HubSpot and/or Marketo contracts plus the
admin API (see ``admin_api`` for its routes). ``build_app(knobs, platform)`` is the factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Literal

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sandbox_platform import admin_api, admin_edit, hubspot_api, marketo_api
from sandbox_platform.knobs import Knobs
from sandbox_platform.state import SandboxState
from sandbox_platform.webhooks import emit_forever

PlatformChoice = Literal["both", "hubspot", "marketo"]


def build_app(knobs: Knobs | None = None, platform: PlatformChoice = "both") -> Starlette:
    """A fresh sandbox with its own state (``app.state.sandbox``)."""
    state = SandboxState(knobs or Knobs())
    routes: list[BaseRoute] = [*admin_api.routes(), *admin_edit.routes()]
    if platform in ("both", "hubspot"):
        routes += hubspot_api.routes()
    if platform in ("both", "marketo"):
        routes += marketo_api.routes()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        emitter = asyncio.create_task(emit_forever(state))
        try:
            yield
        finally:
            emitter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await emitter

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = state
    return app
