"""One corpus of hostile requests, replayed against the ASGI receiver and the Lambda handler
(``test_wb_hostile.py``). Every case must be answered with one of ``statuses`` (400/401/413),
never 5xx, never enqueued, within a bounded time.

Header values are wire bytes (the receiver sees them as latin-1, the Lambda adapter as UTF-8
with undecodable bytes as lone surrogates, which is the worst a JSON event can carry).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.fakes.webhook_receiver import (
    HEX_SECRET,
    HS_SECRET,
    NOW,
    sandbox_body,
    sandbox_headers,
)
from webhook_bridge.limits import MAX_HEADER_CHARS, MAX_JSON_DEPTH, MAX_SIGNATURES
from webhook_bridge.signatures import sign

HS_QUERY = "portal=62515&note=a%20b&tag=x&tag=y"
HS_URL = f"https://hooks.example.com/webhooks/hubspot?{HS_QUERY}"
ONE_MIB = 1 << 20


@dataclass(frozen=True)
class HostileCase:
    """A request (``headers`` may repeat a name) and the answers allowed for it."""

    name: str
    source: str
    headers: tuple[tuple[str, bytes], ...]
    body: bytes
    statuses: frozenset[int]
    reason: str | None = None  # when set, the reason code both adapters must give
    query: str = field(default="")

    def has_duplicates(self) -> bool:
        names = [name.lower() for name, _ in self.headers]
        return len(names) != len(set(names))


@dataclass(frozen=True)
class Valid:
    """A correctly signed request of one source, the base every case mutates."""

    source: str
    headers: dict[str, str]
    body: bytes
    signed: tuple[str, ...]  # headers the verifier reads
    query: str = ""

    def case(
        self,
        name: str,
        statuses: set[int],
        reason: str | None = None,
        *,
        body: bytes | None = None,
        replace: dict[str, bytes] | None = None,
        extra: tuple[tuple[str, bytes], ...] = (),
    ) -> HostileCase:
        wire = {k: v.encode() for k, v in self.headers.items()} | (replace or {})
        headers = (*wire.items(), *extra)
        return HostileCase(
            name, self.source, headers, self.body if body is None else body,
            frozenset(statuses), reason, self.query,
        )  # fmt: skip

    def forged(self) -> dict[str, bytes]:
        """The signature header with one character changed (still well-formed)."""
        name = next(h for h in self.signed if "signature" in h.lower())
        value = self.headers[name]
        mid = len(value) // 2
        changed = value[:mid] + ("b" if value[mid] == "a" else "a") + value[mid + 1 :]
        return {name: changed.encode()}


def sandbox(body: bytes | None = None) -> Valid:
    payload = sandbox_body() if body is None else body
    signed = ("webhook-id", "webhook-timestamp", "webhook-signature")
    return Valid("sandbox", sandbox_headers(payload), payload, signed)


def hubspot(body: bytes | None = None) -> Valid:
    payload = body if body is not None else json.dumps(
        [{"eventId": 101, "subscriptionType": "contact.propertyChange", "objectId": 7,
          "occurredAt": 1_750_000_000_000, "attemptNumber": 0}]
    ).encode()  # fmt: skip
    headers = sign("hubspot-v3", secret=HS_SECRET, body=payload, url=HS_URL, timestamp=NOW)
    signed = ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp")
    return Valid("hubspot", headers, payload, signed, HS_QUERY)


def github(body: bytes | None = None) -> Valid:
    payload = b'{"action":"opened","number":1}' if body is None else body
    headers = sign("hmac-sha256-hex", secret=HEX_SECRET, body=payload)
    return Valid("gh", headers | {"X-GitHub-Delivery": "d-1"}, payload, ("X-Hub-Signature-256",))


BASES = (sandbox, hubspot, github)

# Characters no signature header may hold, as the bytes a client would put on the wire.
HOSTILE_BYTES: tuple[bytes, ...] = (
    "é".encode(), "\u2028".encode(), "😀".encode(), "\u202e".encode(), "\ufeff".encode(),
    b"\x80", b"\xff", b"\x85", b"\x00", b"\x01", b"\x1b[31m", b"\x7f", b"\t", b"\xed\xa0\x80",
)  # fmt: skip


def non_ascii_and_control() -> Iterator[HostileCase]:
    """Each hostile byte run inside, and instead of, each header the verifier reads; and in
    headers it does not read, on a forged request."""
    for base in BASES:
        valid = base()
        for header in valid.signed:
            value = valid.headers[header].encode()
            for i, bad in enumerate(HOSTILE_BYTES):
                middle = value[: len(value) // 2] + bad + value[len(value) // 2 :]
                yield valid.case(f"{valid.source}:{header}:inside:{i}", {401},
                                 "malformed_header", replace={header: middle})  # fmt: skip
                yield valid.case(f"{valid.source}:{header}:alone:{i}", {401},
                                 replace={header: bad})  # fmt: skip
        forged = valid.forged()
        for other in ("traceparent", "content-type", "user-agent", "host", "x-forwarded-for"):
            for i, bad in enumerate((*HOSTILE_BYTES, b"[", b"a/b?c#d", b"")):
                yield valid.case(f"{valid.source}:{other}:{i}", {401}, "no_match",
                                 replace=forged | {other: b"v" + bad})  # fmt: skip
        lengths = ("²".encode(), "٣".encode(), b"9" * 5000, b"-1", b"1e3", b"0x10", b" ", b"")
        for i, bad in enumerate(lengths):  # only the receiver reads it; the server checks it too
            yield valid.case(f"{valid.source}:content-length:{i}", {401, 413},
                             replace=forged | {"content-length": bad})  # fmt: skip
    valid = github()
    for i, bad in enumerate(HOSTILE_BYTES):
        yield valid.case(f"gh:id-header:{i}", {400}, "malformed_id_header",
                         replace={"X-GitHub-Delivery": b"d-" + bad + b"-1"})  # fmt: skip


def oversized() -> Iterator[HostileCase]:
    """Headers past ``MAX_HEADER_CHARS`` up to 1 MiB (uvicorn with httptools sets no header
    limit of its own), too many signatures, thousands of headers, bodies past the limit."""
    quadratic = b"v1,AAAA" + b" a" * (ONE_MIB // 2 - 4)  # the request of issue 19, item 3
    for base in BASES:
        valid = base()
        for header in valid.signed:
            for size in (MAX_HEADER_CHARS + 1, 64 * 1024, ONE_MIB):
                yield valid.case(f"{valid.source}:{header}:{size}", {401}, "header_too_large",
                                 replace={header: b"A" * size})  # fmt: skip
        junk = tuple((f"x-junk-{n}", b"j" * 64) for n in range(2000))
        yield valid.case(f"{valid.source}:2000-headers", {401}, "no_match", extra=junk,
                         replace=valid.forged())  # fmt: skip
    valid = sandbox()
    yield valid.case("sandbox:quadratic-1MiB", {401}, "header_too_large",
                     replace={"webhook-signature": quadratic})  # fmt: skip
    many = b" ".join([b"v1," + b"A" * 43 + b"="] * (MAX_SIGNATURES + 1))
    yield valid.case("sandbox:too-many-signatures", {401}, "too_many_signatures",
                     replace={"webhook-signature": many})  # fmt: skip
    yield github().case("gh:id-header:huge", {400}, "malformed_id_header",
                        replace={"X-GitHub-Delivery": b"d" * ONE_MIB})  # fmt: skip
    big = b'{"pad":"' + b"x" * (256 * 1024) + b'"}'
    yield sandbox(big).case("sandbox:body-over-256KiB", {413}, "body_too_large")
    yield github(b'{"pad":"' + b"x" * 1024 + b'"}').case("gh:body-over-1KiB", {413},
                                                          "body_too_large")  # fmt: skip


def deep_nesting() -> Iterator[HostileCase]:
    """Validly signed bodies nested past ``MAX_JSON_DEPTH`` (closed, unclosed, objects)."""
    bodies = {
        "arrays-1000": b"[" * 1000 + b"]" * 1000,
        "objects-1000": b'{"a":' * 1000 + b"1" + b"}" * 1000,
        "unclosed-100k": b"[" * 100_000,
        "just-past-limit": b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
        "mixed-in-strings": b'["]]]",' * 10 + b"[" * 200 + b"]" * 200 + b"]" * 10,
    }
    for base in BASES:
        for name, body in bodies.items():
            if base is github and len(body) > 1024:
                continue
            yield base(body).case(f"{base.__name__}:deep:{name}", {400}, "nesting_too_deep")


def duplicates() -> Iterator[HostileCase]:
    """Each header the verifier reads given twice: same value, then a different one."""
    for base in BASES:
        valid = base()
        for header in (*valid.signed, *(("X-GitHub-Delivery",) if base is github else ())):
            value = valid.headers[header].encode()
            for name, second in (("same", value), ("other", value[:-2] + b"xx")):
                yield valid.case(f"{valid.source}:{header}:dup-{name}", {400}, "duplicate_header",
                                 extra=((header.upper(), second),))  # fmt: skip


def bad_encodings() -> Iterator[HostileCase]:
    """Validly signed bodies that are not UTF-8 JSON containers, or hold characters SQS
    cannot carry."""
    bodies = {
        "invalid-utf8": b'{"a":"\xff\xfe"}',
        "utf16": '{"a": 1}'.encode("utf-16"),
        "overlong": b'{"a":"\xc0\xaf"}',
        "utf8-surrogate": b'{"a":"\xed\xa0\x80"}',
        "bom": b"\xef\xbb\xbf{}",
        "scalar": b"42",
        "null": b"null",
        "empty": b"",
        "huge-int": b"[" + b"9" * 5000 + b"]",
        "trailing": b"{} {}",
    }
    for base in BASES:
        for name, body in bodies.items():
            if base is github and len(body) > 1024:
                continue
            yield base(body).case(f"{base.__name__}:encoding:{name}", {400}, "malformed_body")
    unsendable = {  # valid UTF-8 JSON, but characters SQS refuses in a message body
        "u+ffff": '{"a":"\uffff"}'.encode(),
        "u+fffe": '["x\ufffe"]'.encode(),
    }
    for base in BASES:
        for name, body in unsendable.items():
            yield base(body).case(f"{base.__name__}:unsendable:{name}", {400},
                                  "unsendable_character")  # fmt: skip


def truncations() -> Iterator[HostileCase]:
    """Every truncation of a valid request: of its body (signature of the whole) and of each
    header the verifier reads."""
    for base in BASES:
        valid = base()
        for cut in range(len(valid.body)):
            yield valid.case(f"{valid.source}:body[:{cut}]", {401}, "no_match",
                             body=valid.body[:cut])  # fmt: skip
        for header in valid.signed:
            value = valid.headers[header].encode()
            for cut in range(len(value)):
                yield valid.case(f"{valid.source}:{header}[:{cut}]", {401},
                                 replace={header: value[:cut]})  # fmt: skip


def corpus() -> list[HostileCase]:
    """Every case, in a stable order."""
    return [
        *non_ascii_and_control(), *oversized(), *deep_nesting(), *duplicates(),
        *bad_encodings(), *truncations(),
    ]  # fmt: skip
