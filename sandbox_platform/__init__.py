"""The sandbox marketing platform: HubSpot CRM v3 contacts and Marketo leads emulated over real
HTTP for the demo and the tests, with the vendors' auth, limits, error shapes and partial
failures, plus fault knobs and an admin API.

Run: ``python -m sandbox_platform --host 127.0.0.1 --port N [--platform both|hubspot|marketo]
[--knob NAME=VALUE ...]`` (or ``cdcbridge sandbox serve``); knobs also come from ``SANDBOX_<NAME>``
environment variables (see ``knobs.Knobs``). Defaults: HubSpot private-app token
``sandbox-token``; Marketo client ``sandbox-client`` / ``sandbox-secret``; no latency, no errors;
HubSpot 100 requests / 10 s; Marketo 100 calls / 20 s and 10 concurrent; tokens live 3600 s.

Vendor routes: ``POST /crm/v3/objects/contacts/batch/{upsert,read,update,archive}``,
``GET|POST /crm/v3/properties/contacts`` (+ ``/batch/create``, ``/{name}``),
``POST /communication-preferences/v4/statuses/batch/unsubscribe-all``,
``GET|POST /identity/oauth/token``, ``GET|POST /rest/v1/leads.json``,
``POST /rest/v1/leads/delete.json``, ``GET /rest/v1/leads/describe.json``,
``GET|POST /rest/v1/leads/schema/fields.json``. Each vendor has a property catalog
(``catalog``): writes of unknown, read-only or out-of-options properties are refused as the
vendor refuses them, so the custom properties our mappings write must be created first
(``cdcbridge platform setup``; the stack and the test launchers do it).

Admin API (JSON):
- ``GET /admin/health`` → 200 ``{"status": "ok"}``.
- ``GET /admin/contacts`` → ``{"hubspot": [...], "marketo": [...]}``, items
  ``{"id", "properties", "createdAt", "updatedAt"}``; ``?platform=hubspot`` for one list.
- ``GET /admin/requests`` → ``{"total", "by_status", "by_endpoint", "marketo_errors",
  "webhooks_sent"}``; Marketo errors inside HTTP 200 count as ``"200:<code>"``; ``?log=1``
  adds every request in arrival order.
- ``GET|PATCH /admin/knobs``: read or change knobs (``latency_ms``, ``error_rate``,
  ``error_status``, ``fail_next``, ``burst_429``, ``burst_429_policy``, ``retry_after``,
  ``outage_s``, ``marketo_error_code``/``marketo_error_count``, ``token_lifetime_s``, limits,
  credentials, ``webhook_url``/``webhook_scheme``/``webhook_secret``/``webhook_rate_per_s``).
- ``POST /admin/reset`` (keeps knobs and catalogs; ``?catalog=defaults`` drops the custom
  properties too); ``POST /admin/tokens/expire``; ``POST /admin/tokens/revoke``.
- ``POST /admin/webhooks/emit`` ``{"count": n, "type": "email_opened"}``: signed engagement
  webhooks (Standard Webhooks or HubSpot v3) to ``webhook_url`` now.
"""
