"""The platform's re-spellings of a value match; a different value never does."""

from __future__ import annotations

import pytest

from streams.audit.platform_values import same_value

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("sent", "read_back"),
    [
        ("Zoë", "Zoë"),
        ("Zoë", "  Zoë "),  # whitespace
        (None, ""),  # HubSpot: empty string = no value
        ("", None),
        (True, "true"),  # HubSpot booleans are strings
        ("false", "False"),  # Marketo read back through str()
        (42, "42"),
        ("42.50", "42.5"),  # number formats
        ("1990-05-01", "641520000000"),  # HubSpot date as epoch ms at midnight UTC
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"),  # datetime in milliseconds
        ("2024-01-02T03:04:05.123000Z", "2024-01-02T04:04:05.123+01:00"),
        ('{"a":1,"b":[1,2]}', '{"b": [1, 2], "a": 1}'),  # JSON text, other key order
    ],
)
def test_same_value_accepts_the_platforms_spelling(sent: object, read_back: object) -> None:
    assert same_value(sent, read_back)


@pytest.mark.parametrize(
    ("sent", "read_back"),
    [
        ("Zoë", "Zoe"),
        ("Zoë", "zoë"),  # case matters for ordinary text
        ("Zoë", ""),
        (None, "x"),
        ("true", "false"),
        ("42.50", "42.51"),
        ("1990-05-01", "1990-05-02"),
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z"),
        ('{"a":1}', '{"a":2}'),
        ("+4930123456", "+4930123457"),
    ],
)
def test_same_value_rejects_a_different_value(sent: object, read_back: object) -> None:
    assert not same_value(sent, read_back)


def test_case_insensitive_properties_ignore_case_only() -> None:
    assert same_value("Ann@Example.com", "ann@example.com", case_insensitive=True)
    assert not same_value("ann@example.com", "bob@example.com", case_insensitive=True)
