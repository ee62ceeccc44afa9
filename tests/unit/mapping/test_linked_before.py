"""``CustomerUpsert.linked_before`` from Debezium's before image: a customer never linked to a
company costs no association call, an unlink (the before image had a company) is still sent."""

from __future__ import annotations

import json

import pytest

from streams.contracts import CustomerUpsert
from streams.mapping.change_decoder import default_decoder

pytestmark = pytest.mark.unit

TOPIC = "cdc.public.customers"


def envelope(op: str, after: dict[str, object], before: dict[str, object] | None) -> bytes:
    source = {"schema": "public", "table": "customers", "lsn": 7, "ts_ms": 1}
    document = {"before": before, "after": after, "source": source, "op": op, "ts_ms": 2}
    return json.dumps(document).encode()


def row(company: int | None) -> dict[str, object]:
    return {
        "id": 3, "email": "ann@example.com", "company_id": company,
        "lifecycle_stage": "lead", "marketing_opt_in": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("op", "before", "linked"),
    [
        ("c", None, False),  # an insert was never linked
        ("r", None, False),  # a snapshot read: the row as it is
        ("u", row(None), False),  # the before image had no company
        ("u", row(42), True),  # it had one: the unlink must be sent
        ("u", None, True),  # no before image (no REPLICA IDENTITY FULL): it may have had one
    ],
)
def test_linked_before_follows_the_before_image(
    op: str, before: dict[str, object] | None, linked: bool
) -> None:
    change = default_decoder().decode(TOPIC, None, envelope(op, row(None), before))
    assert isinstance(change, CustomerUpsert)
    assert change.fields["company_id"] is None and change.linked_before is linked
