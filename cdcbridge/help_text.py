"""What ``cdcbridge --help`` and each subcommand's ``--help`` tell a user.

One place for the words: what the tool does, the commands in the order a newcomer meets them,
and per command its environment variables, their defaults and one example. The packages
register the commands and their options (``cdcbridge.cli``); this module only adds the text.
"""

from __future__ import annotations

from dataclasses import dataclass

OVERVIEW = """\
Keeps your PostgreSQL database and your marketing platform (HubSpot, Marketo) in sync, both
ways, in real time. Outbound: PostgreSQL changes (Debezium on Kafka) are mapped to canonical
customers and upserted to the platform. Inbound: the platform's signed webhooks go through SQS
to Kafka.

First steps: `cdcbridge demo` (starts a local stack and shows the whole outbound path),
then `cdcbridge map` on your own change events, then `cdcbridge sync` against your platform.
Every command reads its settings from environment variables; `cdcbridge COMMAND --help` lists
them with their defaults and an example."""

EPILOG = "Example: cdcbridge demo    (then: cdcbridge stack down)"


@dataclass(frozen=True)
class CommandHelp:
    """The description (what it does, its environment) and one example of a command."""

    description: str
    example: str


_PLATFORM_ENV = """
platform (all commands that call it):
  CDCBRIDGE_PLATFORM            hubspot | marketo                  (default hubspot)
  CDCBRIDGE_HUBSPOT_TOKEN       private-app token (secret)         (required for hubspot)
  CDCBRIDGE_HUBSPOT_BASE_URL    API base URL                       (default: HubSpot's)
  CDCBRIDGE_MARKETO_BASE_URL, CDCBRIDGE_MARKETO_CLIENT_ID, CDCBRIDGE_MARKETO_CLIENT_SECRET
  CDCBRIDGE_SECRETS_DIR         folder of secret files named like the variables, lower case
                                (e.g. a Kubernetes secret volume; keeps secrets out of env)
  CDCBRIDGE_CONFIG_FILE         dotenv file with any of these  (default .env if present)"""

_STACK_ENV = """\
environment:
  CDCBRIDGE_STACK_DIR                state folder            (default: .stack in the checkout)
  CDCBRIDGE_STACK_POSTGRES_PORT      (default 15432)   CDCBRIDGE_STACK_KAFKA_PORT   (default 19092)
  CDCBRIDGE_STACK_CONNECT_PORT       (default 18083)   CDCBRIDGE_STACK_SQS_PORT     (default 19324)
  CDCBRIDGE_STACK_SANDBOX_PORT       (default 18090)
  CDCBRIDGE_STACK_KAFKA_CONTROLLER_PORT (default 19093)"""

COMMANDS: dict[str, CommandHelp] = {
    "demo": CommandHelp(
        "Starts the local stack if needed (PostgreSQL, Kafka, Kafka Connect + Debezium,\n"
        "ElasticMQ, sandbox platform), applies the Debezium connector, runs `sync`, writes\n"
        "customers and shows each change event until the sandbox platform holds what the\n"
        "database holds. Prints a JSON summary last; exit 1 if anything was missing.\n\n"
        + _STACK_ENV,
        "cdcbridge demo --rows 50",
    ),
    "stack": CommandHelp(
        "The local stack of real components on loopback, state in one folder. `up` is\n"
        "idempotent and waits for health; `down --purge` also deletes the state.\n\n"
        + _STACK_ENV,
        "CDCBRIDGE_STACK_POSTGRES_PORT=25432 cdcbridge stack up",
    ),
    "connectors": CommandHelp(
        "Applies, checks, restarts or validates a Kafka Connect connector through Connect's\n"
        "REST API (default file: the shipped Debezium PostgreSQL source). Defaults to the\n"
        "local stack's Connect and Kafka.\n\n" + _STACK_ENV,
        "cdcbridge connectors apply --connect-url http://connect:8083 "
        "--bootstrap-servers kafka:9092",
    ),
    "map": CommandHelp(
        "Reads Debezium envelopes (JSON lines) on stdin and prints canonical customers or the\n"
        "vendor payloads, one JSON line each; a line that cannot be mapped prints a typed\n"
        "error. Exit 1 if any line failed. No network, no environment needed.",
        "cdcbridge map --target hubspot < envelopes.jsonl",
    ),
    "sync": CommandHelp(
        "The outbound service: consumes the CDC topic, maps each record, upserts batches to\n"
        "the platform and commits offsets only after the platform's ack. Records that can never\n"
        "succeed go to the dead-letter topic.\n\n"
        "environment (CDCBRIDGE_SYNC_*):\n"
        "  CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS   Kafka              (default 127.0.0.1:9092)\n"
        "  CDCBRIDGE_SYNC_TOPIC               one CDC topic      (default: every mapped topic)\n"
        "  CDCBRIDGE_MAPPINGS_DIR             your table mapping files (see schemas/README.md)\n"
        "  CDCBRIDGE_SYNC_GROUP_ID            consumer group     (default cdcbridge-sync)\n"
        "  CDCBRIDGE_SYNC_DLQ_TOPIC           dead letters       (default cdcbridge.sync.dlq)\n"
        "  CDCBRIDGE_SYNC_DELETE_POLICY       archive | unsubscribe | ignore (default archive)\n"
        "  CDCBRIDGE_SYNC_DRAIN_TIMEOUT_S     drain on shutdown  (default 10)\n"
        "  CDCBRIDGE_METRICS_PORT             Prometheus /metrics (default 0: off)\n"
        + _PLATFORM_ENV,
        "CDCBRIDGE_HUBSPOT_TOKEN=pat-... CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS=kafka:9092 "
        "cdcbridge sync",
    ),
    "webhooks": CommandHelp(
        "The inbound receiver: verifies each webhook's signature on the raw bytes, puts it on\n"
        "SQS and answers 202 only then.\n\n"
        "environment (CDCBRIDGE_WEBHOOKS_*):\n"
        "  CDCBRIDGE_WEBHOOKS_SOURCES_FILE    YAML of sources and their secrets (required)\n"
        "  CDCBRIDGE_WEBHOOKS_QUEUE_NAME      SQS queue          (default engagement)\n"
        "  CDCBRIDGE_WEBHOOKS_QUEUE_URL       SQS queue URL      (default: from the name)\n"
        "  CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT    SQS endpoint       (default: AWS's)\n"
        "  CDCBRIDGE_WEBHOOKS_HOST / _PORT    listen address     (default 127.0.0.1:8080)",
        "cdcbridge webhooks serve --sources-file sources.yaml --host 0.0.0.0",
    ),
    "forward": CommandHelp(
        "Long-polls the SQS queue and produces each webhook to Kafka; deletes it from SQS\n"
        "only after Kafka's delivery report. Runs until SIGTERM.\n\n"
        "environment:\n"
        "  CDCBRIDGE_FORWARD_BOOTSTRAP_SERVERS  Kafka            (default 127.0.0.1:9092)\n"
        "  CDCBRIDGE_FORWARD_TOPIC              topic    (default marketing.engagement.v1)\n"
        "  CDCBRIDGE_FORWARD_WAIT_S             long-poll wait   (default 20)\n"
        "  CDCBRIDGE_WEBHOOKS_QUEUE_NAME / _QUEUE_URL / _SQS_ENDPOINT   as for `webhooks`",
        "CDCBRIDGE_FORWARD_BOOTSTRAP_SERVERS=kafka:9092 cdcbridge forward",
    ),
    "dlq": CommandHelp(
        "Lists or re-submits records of the sync dead-letter topic (trace ids kept).\n\n"
        "environment:\n"
        "  CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS   Kafka              (default 127.0.0.1:9092)\n"
        "  CDCBRIDGE_SYNC_DLQ_TOPIC           dead letters       (default cdcbridge.sync.dlq)",
        "cdcbridge dlq replay --since 2h --filter error_class=InvalidRecord",
    ),
    "lag": CommandHelp(
        "Consumer lag per partition: the sync group (outbound, default) or, with\n"
        "--direction inbound, the write-back group on the engagement topic.\n\n"
        "environment:\n"
        "  CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS   Kafka              (default 127.0.0.1:9092)\n"
        "  CDCBRIDGE_SYNC_GROUP_ID            consumer group     (default cdcbridge-sync)\n"
        "  CDCBRIDGE_WRITEBACK_GROUP_ID       inbound group      (default cdcbridge-writeback)",
        "cdcbridge lag --bootstrap-servers kafka:9092",
    ),
    "sandbox": CommandHelp(
        "The sandbox marketing platform: HubSpot and Marketo APIs as published, with knobs\n"
        "for latency, errors, rate limits and outages; it also emits signed webhooks.\n"
        "No environment needed.",
        "cdcbridge sandbox serve --port 8099",
    ),
}

# The order a newcomer meets the commands; commands not named here follow in their
# registration order.
NEWCOMER_ORDER = ("demo", "stack", "connectors", "map", "sync", "webhooks", "forward",
                  "dlq", "lag", "sandbox")
