"""Values carried exactly or refused with a bounded message (issue 18, item 6): numbers in a
JSON column keep every digit, IDN emails pass in Unicode and punycode form, and an error line
quotes only a bounded prefix of a bad value."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest

from streams.contracts import QUOTE_LIMIT, InvalidRecord, quote
from streams.mapping import exact_json
from streams.mapping.cli import map_lines
from tests.unit.mapping.mapping_fixtures import fixture_bytes

pytestmark = pytest.mark.unit

BIG = "123456789012345678901234567890"
PI = "3.141592653589793238462643383279"


def envelope(**after: object) -> bytes:
    doc = json.loads(fixture_bytes("create"))
    doc["after"].update(after)
    return json.dumps(doc, ensure_ascii=False).encode()


def map_one(line: bytes, target: str) -> tuple[bytes, dict[str, object]]:
    out = io.BytesIO()
    map_lines([line], out, target, "cdc.public.customers")  # type: ignore[arg-type]
    raw = out.getvalue().strip()
    return raw, json.loads(raw)


@pytest.mark.parametrize("target", ["canonical", "hubspot", "marketo"])
def test_json_column_numbers_keep_every_digit(target: str) -> None:
    attributes = f'{{"big": {BIG}, "pi": {PI}, "small": 1.50, "n": -7, "e": 1e400}}'
    raw, doc = map_one(envelope(attributes=attributes), target)
    assert "ok" in doc, doc
    if target == "canonical":
        assert f'"big":{BIG}'.encode() in raw and f'"pi":{PI}'.encode() in raw
    else:
        prop = "cdcbridge_attributes" if target == "hubspot" else "cdcbridgeAttributes"
        text = doc["ok"]["properties"][prop]  # type: ignore[index]
        assert text == f'{{"big":{BIG},"e":1E+400,"n":-7,"pi":{PI},"small":1.50}}'
        assert exact_json.loads(text) == {
            "big": int(BIG),
            "e": Decimal("1e400"),
            "n": -7,
            "pi": Decimal(PI),
            "small": Decimal("1.50"),
        }


@pytest.mark.parametrize(
    "address", ["info@xn--e1afmkfd.xn--p1ai", "info@пример.рф", "Info@Xn--E1afmkfd.Xn--P1ai"]
)
def test_idn_emails_pass_in_unicode_and_punycode(address: str) -> None:
    _, doc = map_one(envelope(email=address), "hubspot")
    assert doc["ok"]["id_value"] == address.lower()  # type: ignore[index]


def test_an_error_line_quotes_a_bounded_prefix_of_a_huge_value() -> None:
    raw, doc = map_one(envelope(first_name="N" * 9000), "hubspot")
    assert "error" in doc
    assert len(raw) < 2000  # was 18 KB: the value twice
    assert raw.count(b"N" * QUOTE_LIMIT) <= 2
    raw, doc = map_one(envelope(email="x" * 9000), "marketo")
    assert "error" in doc and len(raw) < 2000


def test_quote_and_invalid_record_messages_are_bounded() -> None:
    assert quote("short") == "'short'"
    cut = quote("é" * 500)
    assert cut.endswith("… (500 chars)") and len(cut) < QUOTE_LIMIT + 40
    assert len(str(InvalidRecord("name", "too_long", "x" * 10_000))) < 300
    assert len(str(InvalidRecord("name", "schema", None, "m" * 10_000))) < 600
