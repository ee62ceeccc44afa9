"""The JVM components: Kafka (KRaft, one node), Kafka Connect (distributed) with Debezium, and
ElasticMQ. Each runs as ``java -cp <resolved jars> <main class>`` with its config generated in
the state folder, its log in the logs folder and its pid recorded."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from cdcbridge import package_data
from local_stack import jars
from local_stack.layout import HOST, PG_DATABASE, PG_PASSWORD, PG_USER, StackLayout
from local_stack.processes import StackError, spawn

LOG4J = package_data.stack_config("log4j2.properties")


@dataclass(frozen=True)
class JvmService:
    name: str
    main_class: str
    heap: str

    def pid_file(self, layout: StackLayout) -> Path:
        return layout.run / f"{self.name}.pid"

    def log_file(self, layout: StackLayout) -> Path:
        return layout.logs / f"{self.name}.log"


KAFKA = JvmService("kafka", "kafka.Kafka", "768m")
CONNECT = JvmService("connect", "org.apache.kafka.connect.cli.ConnectDistributed", "768m")
ELASTICMQ = JvmService("elasticmq", "org.elasticmq.server.Main", "512m")


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError("java is not installed (a JDK 17+ is needed for Kafka and Debezium)")
    return java


def _jvm_argv(service: JvmService, layout: StackLayout, classpath: str) -> list[str]:
    return [
        _java(), f"-Xms{service.heap}", f"-Xmx{service.heap}", "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J}",
        f"-Dcdcbridge.log.file={service.log_file(layout)}",
        f"-Dkafka.logs.dir={layout.logs}", "-cp", classpath, service.main_class,
    ]


def kafka_properties(layout: StackLayout) -> str:
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{HOST}:{layout.controller_port}",
        f"listeners=PLAINTEXT://{HOST}:{layout.kafka_port},CONTROLLER://{HOST}:{layout.controller_port}",
        f"advertised.listeners=PLAINTEXT://{HOST}:{layout.kafka_port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={layout.root / 'kafka' / 'data'}",
        "num.partitions=3",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=10",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=true",
        "log.retention.hours=168",
        "",
    ])


def start_kafka(layout: StackLayout) -> int:
    """Format the KRaft storage once, then start the broker. Returns its pid."""
    base = layout.root / "kafka"
    base.mkdir(parents=True, exist_ok=True)
    props = base / "server.properties"
    props.write_text(kafka_properties(layout))
    classpath = jars.classpath(layout, "kafka")
    if not (base / "data" / "meta.properties").exists():
        cluster_id = (base / "cluster.id")
        if not cluster_id.exists():
            cluster_id.write_text(_random_cluster_id())
        argv = _jvm_argv(JvmService("kafka-format", "kafka.tools.StorageTool", "256m"),
                         layout, classpath)
        argv += ["format", "-t", cluster_id.read_text().strip(), "-c", str(props),
                 "--ignore-formatted"]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"kafka storage format failed: {result.stdout}{result.stderr}")
    argv = [*_jvm_argv(KAFKA, layout, classpath), str(props)]
    return spawn(argv, pid_file=KAFKA.pid_file(layout), log_file=layout.logs / "kafka.out",
                 cwd=base)


def _random_cluster_id() -> str:
    # KRaft wants a base64url-encoded 16-byte UUID (22 characters).
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def connect_properties(layout: StackLayout) -> str:
    return "\n".join([
        f"bootstrap.servers={layout.bootstrap_servers}",
        "group.id=cdcbridge-connect",
        "key.converter=org.apache.kafka.connect.json.JsonConverter",
        "value.converter=org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable=false",
        "value.converter.schemas.enable=false",
        "config.storage.topic=_cdcbridge_connect_configs",
        "offset.storage.topic=_cdcbridge_connect_offsets",
        "status.storage.topic=_cdcbridge_connect_status",
        "config.storage.replication.factor=1",
        "offset.storage.replication.factor=1",
        "status.storage.replication.factor=1",
        "offset.flush.interval.ms=2000",
        # One worker: a worker that lost its group membership (a broker restart longer than the
        # session) gets its connector back at once, not after the 5-minute default delay that
        # waits for a departed worker to return (the connector stays UNASSIGNED meanwhile).
        "scheduled.rebalance.max.delay.ms=0",
        f"listeners=http://{HOST}:{layout.connect_port}",
        f"rest.advertised.host.name={HOST}",
        f"rest.advertised.port={layout.connect_port}",
        f"plugin.path={layout.plugins}",
        "plugin.discovery=service_load",
        "config.providers=env,file",
        "config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider",
        "config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
        "producer.linger.ms=1",
        "",
    ])


def connect_env(layout: StackLayout) -> dict[str, str]:
    """What the connector config's ``${env:...}`` placeholders resolve to on this stack."""
    return {
        "CDCBRIDGE_PG_HOST": HOST,
        "CDCBRIDGE_PG_PORT": str(layout.pg_port),
        "CDCBRIDGE_PG_USER": PG_USER,
        "CDCBRIDGE_PG_PASSWORD": PG_PASSWORD,
        "CDCBRIDGE_PG_DATABASE": PG_DATABASE,
    }


def start_connect(layout: StackLayout) -> int:
    base = layout.root / "connect"
    base.mkdir(parents=True, exist_ok=True)
    props = base / "connect-distributed.properties"
    props.write_text(connect_properties(layout))
    argv = [*_jvm_argv(CONNECT, layout, jars.classpath(layout, "kafka")), str(props)]
    return spawn(argv, pid_file=CONNECT.pid_file(layout), log_file=layout.logs / "connect.out",
                 cwd=base, env=connect_env(layout))


H2_DURABLE_SETTINGS = ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;RETENTION_TIME=0"
"""ElasticMQ answers a send once its H2 insert returned, so that insert must be on disk by then:

- ``WRITE_DELAY=0``: H2 writes every commit to its file before the statement returns (to the
  OS: it survives the server's death, as a kill -9 test shows, not a power loss). Its
  default (500 ms) keeps commits in memory for up to half a second; a server killed in that
  window lost 2 and 46 messages it had answered 200 (measured with SIGKILL under load).
- ``DB_CLOSE_ON_EXIT=FALSE``: H2 would otherwise close the database in its own JVM shutdown
  hook while ElasticMQ's hook still serves requests (seen on SIGTERM under load: "Database is
  already closed", then 500s for 2 s). The failing persistence actor is restarted by Pekko with
  no queue repositories, and ElasticMQ 1.6.16's ``SqlQueuePersistenceActor`` then answers every
  later insert "successful" without storing it; H2 also lets a new connection reopen the file
  during shutdown, with the 500 ms write delay and no closing hook. With every commit written
  before its answer, leaving the database open until the process ends loses nothing.
- ``RETENTION_TIME=0``: H2 reuses the space of an old chunk as soon as nothing live is in it,
  instead of keeping every chunk for 45 s (a guard against a disk that has not flushed yet:
  power loss, which ``WRITE_DELAY=0`` does not cover either; a killed server's writes are in
  the OS already). Each commit writes a new chunk, so with the default the file grew by the
  last 45 s of commits: 1.25 GB after one ``bench_inbound_rates`` run (~13,000 messages sent,
  received and deleted), 9 MB with this setting, and ~10% faster.
"""


def h2_uri(path: Path) -> str:
    """The JDBC URI of ElasticMQ's message journal at ``path`` (H2 adds ``.mv.db``)."""
    return f"jdbc:h2:{path}{H2_DURABLE_SETTINGS}"


def elasticmq_conf(layout: StackLayout) -> str:
    """The server config: queues ``engagement`` (+ DLQ), persisted in the state folder so a
    message answered 202 survives a restart of the server (queue metadata in a HOCON file,
    messages journalled to an H2 database; see shared reference, operations section 7)."""
    queues = """
queues {
  engagement {
    defaultVisibilityTimeout = 30 seconds
    receiveMessageWait = 0 seconds
    deadLettersQueue { name = "engagement-dlq", maxReceiveCount = 5 }
  }
  engagement-dlq { }
}"""
    data = layout.root / "elasticmq" / "data"
    return f"""include classpath("application.conf")
node-address {{ protocol = http, host = {HOST}, port = {layout.sqs_port}, context-path = "" }}
# Accepted messages survive a restart: every queue and message event is journalled to H2
# (queues with their attributes too, so no separate queues-storage file is needed).
messages-storage {{
  enabled = true, uri = "{h2_uri(data / 'messages')}", prune-data-on-init = false
}}
rest-sqs {{
  enabled = true, bind-port = {layout.sqs_port}, bind-hostname = "{HOST}", sqs-limits = strict
}}
rest-stats {{ enabled = false }}
aws {{ region = us-east-1, accountId = 000000000000 }}
{queues}
"""


H2_COMPACT_ABOVE_BYTES = 64 * 1024 * 1024
"""With ``WRITE_DELAY=0`` H2 has no background thread to compact its file; ``RETENTION_TIME=0``
keeps it near its live size while the server runs, and a journal over this size (one written
before that setting, or fragmented) is compacted offline before the server starts (97 MB ->
0.5 MB in about 2 s, messages kept)."""


def compact_elasticmq_journal(layout: StackLayout) -> bool:
    """Compact the H2 journal in place when it is over ``H2_COMPACT_ABOVE_BYTES``; only while
    ElasticMQ is stopped. True if it ran. Raises StackError when H2's tool fails."""
    journal = layout.root / "elasticmq" / "data" / "messages.mv.db"
    if not journal.exists() or journal.stat().st_size <= H2_COMPACT_ABOVE_BYTES:
        return False
    argv = _jvm_argv(JvmService("h2-compact", "org.h2.mvstore.MVStoreTool", "256m"), layout,
                     jars.classpath(layout, "elasticmq"))  # fmt: skip
    result = subprocess.run([*argv, "-compact", str(journal)], capture_output=True, text=True,
                            check=False)  # fmt: skip
    if result.returncode != 0:
        raise StackError(f"compacting {journal} failed: {result.stdout}{result.stderr}")
    return True


def start_elasticmq(layout: StackLayout) -> int:
    """Start ElasticMQ (after compacting its journal if it grew large). Returns its pid."""
    base = layout.root / "elasticmq"
    (base / "data").mkdir(parents=True, exist_ok=True)
    compact_elasticmq_journal(layout)
    conf = base / "elasticmq.conf"
    conf.write_text(elasticmq_conf(layout))
    argv = _jvm_argv(ELASTICMQ, layout, jars.classpath(layout, "elasticmq"))
    argv.insert(1, f"-Dconfig.file={conf}")
    return spawn(argv, pid_file=ELASTICMQ.pid_file(layout),
                 log_file=ELASTICMQ.log_file(layout), cwd=base)
