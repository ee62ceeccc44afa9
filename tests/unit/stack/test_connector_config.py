"""The Debezium connector file holds every setting we rely on (one test per setting)."""

from __future__ import annotations

import json
import re

import pytest

from cdcbridge.connect_api import ConnectorFile
from local_stack.layout import PROJECT_ROOT

pytestmark = pytest.mark.unit
PATH = PROJECT_ROOT / "connectors" / "debezium-postgres-source.json"


@pytest.fixture(scope="module")
def config() -> dict[str, str]:
    return ConnectorFile.load(PATH).config


def test_file_is_valid_json_with_name_and_config() -> None:
    doc = json.loads(PATH.read_text())
    assert doc["name"] == "cdcbridge-postgres-source"
    assert all(isinstance(v, str) for v in doc["config"].values()), "Connect wants strings"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("connector.class", "io.debezium.connector.postgresql.PostgresConnector"),
        ("plugin.name", "pgoutput"),
        ("publication.autocreate.mode", "filtered"),
        ("slot.name", "cdcbridge_slot"),
        ("publication.name", "cdcbridge_publication"),
        ("topic.prefix", "cdc"),
        ("snapshot.mode", "initial"),
        ("signal.data.collection", "public.debezium_signal"),  # backfill, audit --repair
        ("tombstones.on.delete", "true"),
        ("decimal.handling.mode", "string"),
        ("time.precision.mode", "adaptive_time_microseconds"),
        ("key.converter.schemas.enable", "false"),
        ("value.converter.schemas.enable", "false"),
        ("tasks.max", "1"),
    ],
)
def test_setting(config: dict[str, str], key: str, expected: str) -> None:
    assert config[key] == expected


def test_heartbeat_is_on_and_writes_a_captured_table(config: dict[str, str]) -> None:
    assert 0 < int(config["heartbeat.interval.ms"]) <= 30_000
    assert "cdcbridge_heartbeat" in config["heartbeat.action.query"]
    assert "public.cdcbridge_heartbeat" in config["table.include.list"].split(",")


def test_captures_customers_and_companies(config: dict[str, str]) -> None:
    tables = config["table.include.list"].split(",")
    assert {"public.customers", "public.companies"} <= set(tables)


def test_no_secret_literals_only_config_providers(config: dict[str, str]) -> None:
    for key in ("database.hostname", "database.port", "database.user", "database.password",
                "database.dbname"):
        assert re.fullmatch(r"\$\{(env|file):[^}]+\}", config[key]), key


def test_key_is_the_primary_key_no_key_override(config: dict[str, str]) -> None:
    # Debezium keys records by the table's primary key unless message.key.columns says otherwise.
    assert "message.key.columns" not in config


def test_low_latency_polling(config: dict[str, str]) -> None:
    assert int(config["poll.interval.ms"]) <= 100
