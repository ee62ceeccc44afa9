"""Debezium column encodings and the normalisers, one by one."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.mapping.column_values import ENCODINGS, decoder_for
from streams.mapping.normalisers import EMAIL_PATTERN, ISO_3166_ALPHA2, normaliser_for

pytestmark = pytest.mark.unit


def b64(unscaled: int) -> str:
    raw = unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "encoding,scale,raw,expected",
    [
        ("string", None, "Zoë", "Zoë"),
        ("integer", None, 42, 42),
        ("boolean", None, False, False),
        ("decimal_string", 2, "49.5", "49.50"),
        ("decimal_string", 2, "49.00", "49.00"),
        ("decimal_string", 2, "-0.01", "-0.01"),
        ("decimal_string", None, "1E+3", "1000"),
        ("decimal_string", 0, "12", "12"),
        ("decimal_base64", 2, b64(4900), "49.00"),
        ("decimal_base64", 2, b64(-12345), "-123.45"),
        ("decimal_base64", 0, b64(7), "7"),
        ("decimal_base64", 4, b64(10**20 + 1), "10000000000000000.0001"),
        ("decimal_double", 2, 49.5, "49.50"),
        ("decimal_double", None, 0.1, "0.1"),
        ("decimal_double", 2, 12, "12.00"),
        ("variable_scale_decimal", None, {"scale": 3, "value": b64(49500)}, "49.500"),
        ("date_days", None, 0, "1970-01-01"),
        ("date_days", None, -1, "1969-12-31"),
        ("date_days", None, 20422, "2025-11-30"),
        ("timestamp_millis", None, 1796011331004, "2026-11-30T04:02:11.004000Z"),
        ("timestamp_micros", None, 1796011331004512, "2026-11-30T04:02:11.004512Z"),
        ("timestamp_micros", None, 0, "1970-01-01T00:00:00Z"),
        ("timestamp_micros", None, -1, "1969-12-31T23:59:59.999999Z"),
        ("timestamp_nanos", None, 1796011331004512789, "2026-11-30T04:02:11.004512Z"),
        ("zoned_timestamp", None, "2026-11-30T04:02:11.004512Z", "2026-11-30T04:02:11.004512Z"),
        ("zoned_timestamp", None, "2026-11-30T04:02:11Z", "2026-11-30T04:02:11Z"),
        ("zoned_timestamp", None, "2026-11-30T04:02:11.5Z", "2026-11-30T04:02:11.500000Z"),
        ("zoned_timestamp", None, "2026-11-30T05:02:11+01:00", "2026-11-30T04:02:11Z"),
        ("zoned_timestamp", None, "2026-11-30T04:02:11.123456789Z", "2026-11-30T04:02:11.123456Z"),
        ("json_string", None, '{"a": [1, "ü"]}', {"a": [1, "ü"]}),
        ("json_string", None, {"already": "parsed"}, {"already": "parsed"}),
    ],
)
def test_decoders(encoding: str, scale: int | None, raw: object, expected: object) -> None:
    assert decoder_for(encoding, scale)(raw) == expected


@pytest.mark.parametrize(
    "encoding,scale,raw,error",
    [
        ("string", None, 1, TypeError),
        ("integer", None, True, TypeError),
        ("integer", None, "1", TypeError),
        ("boolean", None, 1, TypeError),
        ("decimal_string", 2, "1,5", ValueError),
        ("decimal_string", 2, "Infinity", ValueError),
        ("decimal_base64", 2, "", ValueError),
        ("decimal_base64", 2, "not base64!", ValueError),
        ("decimal_base64", 2, 4900, TypeError),
        ("decimal_double", 2, "49.5", TypeError),
        ("decimal_double", 2, True, TypeError),
        ("variable_scale_decimal", None, {"value": b64(1)}, TypeError),
        ("variable_scale_decimal", None, "1.5", TypeError),
        ("date_days", None, 10**8, ValueError),
        ("timestamp_micros", None, 10**30, OverflowError),
        ("zoned_timestamp", None, "2026-02-30T00:00:00Z", ValueError),
        ("zoned_timestamp", None, 1796011331004, TypeError),
        ("json_string", None, "{", ValueError),
        ("json_string", None, 5, TypeError),
    ],
)
def test_decoders_reject(
    encoding: str, scale: int | None, raw: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        decoder_for(encoding, scale)(raw)


def test_every_encoding_has_a_decoder_and_unknown_ones_fail() -> None:
    for encoding in ENCODINGS:
        assert callable(decoder_for(encoding, 2))
    with pytest.raises(ValueError, match="unknown encoding"):
        decoder_for("money")
    with pytest.raises(ValueError, match="needs a scale"):
        decoder_for("decimal_base64", None)


@pytest.mark.parametrize(
    "name,raw,expected",
    [
        ("trim", "  Ana \t", "Ana"),
        ("lower", "ÄBC", "äbc"),
        ("upper", "de", "DE"),
        ("empty_to_null", "", None),
        ("empty_to_null", "x", "x"),
        ("email", "  Ana.Garcia@Example.COM ", "ana.garcia@example.com"),
        ("email", "Zoë@Exämple.org", "zoë@exämple.org"),
        ("domain", "https://www.Example.com/about", "example.com"),
        ("domain", "shop.example.co.uk.", "shop.example.co.uk"),
        ("country_alpha2", " gb ", "GB"),
        ("e164", "+1 (415) 555-0132", "+14155550132"),
        ("e164", "0044 20 7946 0958", "+442079460958"),
        ("e164", "(415) 555-0132", "+14155550132"),
        ("e164", "+44.20.7946.0958", "+442079460958"),
    ],
)
def test_normalisers(name: str, raw: object, expected: object) -> None:
    assert normaliser_for(name)(raw) == expected


def test_e164_reads_national_numbers_in_the_given_region() -> None:
    assert normaliser_for("e164", "DE")("030 901820") == "+4930901820"
    assert normaliser_for("e164", "GB")("020 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    "name,raw",
    [
        ("email", "ana@"),
        ("email", "ana garcia@example.com"),
        ("email", "a@b"),
        ("email", "x" * 250 + "@example.com"),
        ("email", 5),
        ("domain", "not a domain"),
        ("country_alpha2", "ZZ"),
        ("country_alpha2", "U"),
        ("e164", "12"),
        ("e164", "+0 123 4567"),
        ("e164", "phone"),
        ("trim", None),
    ],
)
def test_normalisers_reject(name: str, raw: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        normaliser_for(name)(raw)


def test_iso_country_list_is_complete_and_unknown_normaliser_fails() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert {"US", "DE", "GB", "AQ", "SS", "XK"} & ISO_3166_ALPHA2 == {"US", "DE", "GB", "AQ", "SS"}
    with pytest.raises(ValueError, match="unknown normaliser"):
        normaliser_for("titlecase")


# Characters that decide an email's shape: atom and label characters, separators, specials,
# ASCII and Unicode whitespace, digits of other scripts, non-decimal digits, letters.
EMAIL_ALPHABET = 'aZ09._-@ ()<>[]\\,;:"\t\n\x1c\x85\xa0\u2028\u3000\ufeffüñ²½٣ﬁ'


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=EMAIL_ALPHABET, max_size=24))
def test_email_normaliser_accepts_exactly_the_email_pattern(text: str) -> None:
    """The set/str checks + domain cache in ``email`` decide like one regex would."""
    address = text.strip().lower()
    expected = len(address) <= 254 and re.fullmatch(EMAIL_PATTERN, address) is not None
    try:
        normalised = normaliser_for("email")(text)
    except ValueError:
        normalised = None
    assert (normalised is not None) == expected, address
    for _ in range(2):  # the domain cache answers the same
        try:
            again = normaliser_for("email")(text)
        except ValueError:
            again = None
        assert again == normalised


@pytest.mark.parametrize(
    "address",
    ["a.b.c@x-y.example.com", "a@x_y.com", "a@xn--p1ai.рф", "zoë@exämple.org", "a+tag@x.io"],
)
def test_email_normaliser_accepts_realistic_addresses(address: str) -> None:
    assert normaliser_for("email")(address) == address


@pytest.mark.parametrize(
    "address",
    [
        ".a@x.com",
        "a.@x.com",
        "a..b@x.com",
        "a@b@x.com",
        "a@-x.com",
        "a@x-.com",
        "a@x..com",
        "a@x.c0m",
        "a@x.c",
        "a\u2028b@x.com",
        "a@.x.com",
        "@x.com",
        "a@x.com.",
    ],
)
def test_email_normaliser_rejects_misshapen_addresses(address: str) -> None:
    with pytest.raises(ValueError, match="not an email address"):
        normaliser_for("email")(address)


PHONE_ALPHABET = "+0123456789 ()-./\t\u00a0٣x"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=PHONE_ALPHABET, max_size=20))
def test_e164_fast_path_takes_exactly_the_e164_shaped_numbers(text: str) -> None:
    """International numbers: separators dropped, ``00`` -> ``+``, then ``\\+[1-9][0-9]{6,14}``
    or (here) ``None``; the same on the ASCII bytes path and the str path."""
    compact = text.translate(str.maketrans("", "", " \t\u00a0().-/"))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    expected = compact if re.fullmatch(r"\+[1-9][0-9]{6,14}", compact) else None
    assert normaliser_for("e164", "+")(text) == expected
