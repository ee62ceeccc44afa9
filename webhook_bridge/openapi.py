"""The receiver's OpenAPI 3.1 document (served at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry_after:
        doc["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return doc


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "cdcbridge webhook receiver",
        "version": "1",
        "description": "Signed engagement webhooks in; each accepted one is durable in SQS.",
    },
    "paths": {
        "/webhooks/{source}": {
            "post": {
                "operationId": "receiveWebhook",
                "parameters": [
                    {"name": "source", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {}}},
                },
                "responses": {
                    "202": {
                        "description": "Verified and durable in the queue (or a known duplicate).",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Accepted"}
                            }
                        },
                    },
                    "400": _error(
                        "Body is not UTF-8 JSON (object or array), nests deeper than 64 levels, "
                        "holds U+FFFE or U+FFFF (SQS refuses them), or a signed header is "
                        "repeated (error: malformed_body, nesting_too_deep, "
                        "unsendable_character, duplicate_header, malformed_id_header)."
                    ),
                    "401": _error(
                        "Missing or invalid signature, or timestamp out of tolerance; a signed "
                        "header that is not printable ASCII, over 4096 characters or holds over "
                        "16 signatures (error: malformed_header, header_too_large, "
                        "too_many_signatures, no_match, ...)."
                    ),
                    "404": _error("Unknown source."),
                    "413": _error("Body over the source's size limit (default 256 KiB)."),
                    "503": _error("Queue unreachable; retry later.", retry_after=True),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "responses": {"200": {"description": "Process is up."}},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "responses": {
                    "200": {"description": "The queue answers."},
                    "503": {"description": "The queue does not answer."},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Error": _ERROR,
            "Accepted": {
                "type": "object",
                "properties": {
                    "status": {"enum": ["accepted", "duplicate"]},
                    "webhook_id": {"type": "string"},
                    "trace_id": {"type": "string"},
                },
                "required": ["status", "webhook_id", "trace_id"],
            },
        }
    },
}
