"""Every vendor status and error code with its class, as data in one table.

Classes (DESIGN.md vocabulary, refined by what the caller does):
- ``refused``: the vendor refused the request because of its input, and will refuse it again
  (persistent client error). Never retried: the batch is split to find the records at fault,
  which are dead-lettered with the vendor's answer (``streams.platform.refusals``).
- ``back_off``: may succeed later; this caller waits, exponentially.
- ``wait_window``: a rate window: every caller of the platform waits it out.
- ``reauth``: the access token was rejected: refresh it once.
- ``fatal``: configuration, permission or quota: stop loudly, send nothing more.

HubSpot's statuses apply to Marketo's rare HTTP-level errors too (413, 414, 5xx).
Sources: ``shared/reference/marketing_platforms.md`` §1-2, §6 (HubSpot CRM v3 spec and error
bodies; Marketo ``error-codes.md``, ``rest-api.md``) and the Marketo swagger files there.
A code missing from the tables falls back by family (``http_status_class`` /
``marketo_code_class``): HubSpot 4xx refused, 5xx back off; Marketo 6xx fatal (a request we
should never send), 1xxx and 7xx refused (the request's data).
"""

from __future__ import annotations

from typing import Literal

CodeClass = Literal["refused", "back_off", "wait_window", "reauth", "fatal"]

HTTP_STATUS: dict[int, tuple[CodeClass, str]] = {
    400: ("refused", "VALIDATION_ERROR: the input is invalid (bad value, input count)"),
    401: ("reauth", "token rejected (a static private-app token cannot refresh: fatal)"),
    403: ("fatal", "missing scope or permission"),
    404: ("refused", "OBJECT_NOT_FOUND or an unknown path"),
    405: ("refused", "method not allowed on this path"),
    409: ("refused", "CONFLICT / OBJECT_ALREADY_EXISTS"),
    410: ("refused", "gone: the object or endpoint was removed"),
    413: ("refused", "payload too large: split the batch"),
    414: ("refused", "URI too long"),
    415: ("refused", "unsupported media type"),
    422: ("refused", "unprocessable input"),
    423: ("back_off", "locked: the record is being updated, retry shortly"),
    429: ("wait_window", "rate limit: the body's policyName decides (DAILY is fatal)"),
    477: ("back_off", "migration in progress"),
    500: ("back_off", "internal error"),
    502: ("back_off", "bad gateway"),
    503: ("back_off", "service unavailable"),
    504: ("back_off", "gateway timeout"),
}

MARKETO_CODES: dict[str, tuple[CodeClass, str]] = {
    "502": ("back_off", "Bad Gateway: retry with exponential backoff"),
    "601": ("reauth", "access token invalid"),
    "602": ("reauth", "access token expired"),
    "603": ("fatal", "access denied"),
    "604": ("back_off", "request timed out"),
    "605": ("fatal", "HTTP method not supported"),
    "606": ("wait_window", "max rate limit exceeded within the window"),
    "607": ("fatal", "daily quota reached"),
    "608": ("back_off", "API temporarily unavailable"),
    "609": ("refused", "invalid JSON"),
    "610": ("refused", "requested resource not found"),
    "611": ("back_off", "system error"),
    "612": ("fatal", "invalid content type"),
    "613": ("fatal", "invalid multipart request"),
    "614": ("fatal", "invalid subscription"),
    "615": ("back_off", "concurrent access limit reached"),
    "616": ("fatal", "invalid subscription type"),
    "701": ("refused", "a required value is blank"),
    "702": ("refused", "no data found for the given search criteria"),
    "703": ("fatal", "the feature is not enabled for this subscription"),
    "704": ("refused", "invalid date format"),
    "709": ("refused", "business rule violation"),
    "710": ("refused", "parent folder not found"),
    "711": ("refused", "incompatible folder type"),
    "712": ("refused", "merge operation invalid for a person account"),
    "713": ("back_off", "transient error"),
    "714": ("refused", "unable to find the default record type"),
    "718": ("refused", "external sales person id not found"),
    "1001": ("refused", "invalid value"),
    "1002": ("refused", "missing value"),
    "1003": ("refused", "invalid data for the action"),
    "1004": ("refused", "lead not found"),
    "1005": ("refused", "lead already exists"),
    "1006": ("refused", "field not found"),
    "1007": ("refused", "multiple leads match the lookup criteria"),
    "1008": ("fatal", "partition access denied"),
    "1009": ("refused", "partition name unspecified"),
    "1010": ("refused", "partition update not allowed"),
    "1011": ("refused", "field not supported as a lookup field"),
    "1013": ("refused", "object not found"),
    "1016": ("back_off", "too many imports"),
    "1019": ("back_off", "import in progress"),
    "1029": ("back_off", "too many jobs in the queue"),
}


def http_status_class(status: int) -> CodeClass | None:
    """The class of an HTTP status (HubSpot's, and Marketo's HTTP-level 413/414/5xx); None for
    a success (2xx)."""
    if 200 <= status < 300:
        return None
    known = HTTP_STATUS.get(status)
    if known is not None:
        return known[0]
    return "back_off" if status >= 500 else "refused"


def marketo_code_class(code: str) -> CodeClass:
    """The class of a Marketo request-level error code (``errors[].code``)."""
    known = MARKETO_CODES.get(code)
    if known is not None:
        return known[0]
    if code.startswith(("1", "7")) and code.isdigit():
        return "refused"
    return "fatal"
