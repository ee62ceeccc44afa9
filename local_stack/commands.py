"""CLI: ``stack up|down|status``, ``connectors apply|status|restart|validate``,
``demo`` and ``demo seed``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from cdcbridge import package_data
from cdcbridge.connect_api import ConnectClient, ConnectError, ConnectorFile
from local_stack import pg_home, stack
from local_stack.connector_setup import ensure_connector_running, mapped_tables, with_tables
from local_stack.layout import StackLayout
from local_stack.processes import StackError
from streams.mapping.mapping_files import MappingFileError

DEFAULT_CONNECTOR = package_data.connectors_dir() / "debezium-postgres-source.json"


def _say(text: str) -> None:
    print(text, flush=True)


def _stack_up(args: argparse.Namespace) -> int:
    layout = StackLayout.default()
    try:
        timings = stack.up(layout, with_prometheus=args.prometheus or None)
    except StackError as exc:
        print(f"stack up failed: {exc}", file=sys.stderr)
        return 1
    _print_status(layout)
    print(json.dumps({"stack_up_seconds": {k: round(v, 2) for k, v in timings.items()}}))
    return 0


def _print_status(layout: StackLayout) -> bool:
    rows = stack.status(layout)
    for s in rows:
        print(f"{s.name:<9} {'up' if s.up else 'down':<5} 127.0.0.1:{s.port:<6} "
              f"pid={s.pid if s.pid else '-'}")
    print(f"state and logs: {layout.root}")
    return all(s.up for s in rows)


def _stack_down(args: argparse.Namespace) -> int:
    layout = StackLayout.default()
    stopped = stack.down(layout)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    if args.purge:
        pg_home.discard(layout)
        shutil.rmtree(layout.root, ignore_errors=True)
        print(f"removed the stack's state: {layout.root} and its PostgreSQL cluster")
    return 0


def _stack_status(args: argparse.Namespace) -> int:
    return 0 if _print_status(StackLayout.default()) else 3


def _connectors(args: argparse.Namespace) -> int:
    url = args.connect_url or StackLayout.default().connect_url
    servers = args.bootstrap_servers or (
        None if args.connect_url else StackLayout.default().bootstrap_servers)
    client = ConnectClient(url)
    try:
        connector = with_tables(ConnectorFile.load(args.file), mapped_tables())
    except MappingFileError as exc:
        print(f"connectors {args.action} failed: {exc}", file=sys.stderr)
        return 2
    try:
        if args.action == "apply":
            ensure_connector_running(url, args.file, bootstrap_servers=servers)
            print(f"{connector.name}: applied, RUNNING")  # settled: a second read could race
            return 0
        elif args.action == "validate":
            errors = client.validate(connector)
            print("\n".join(errors) if errors else f"{connector.name}: valid")
            return 1 if errors else 0
        elif args.action == "restart":
            client.restart(connector.name)
            print(f"{connector.name}: restart requested")
        state = client.status(connector.name)
    except (ConnectError, StackError) as exc:
        print(f"connectors {args.action} failed: {exc}", file=sys.stderr)
        return 1
    print(f"{state.name}: {state.state}")
    for task in state.tasks:
        print(f"  task {task.task_id}: {task.state}")
        if task.trace:
            print("    " + task.trace.replace("\n", "\n    "))
    return 0 if state.state == "RUNNING" and all(t.state == "RUNNING" for t in state.tasks) else 1


def _demo(args: argparse.Namespace) -> int:
    from local_stack.demo import DemoOptions, run_demo
    from local_stack.demo_summary import render_table

    options = DemoOptions(rows=args.rows, duration_s=args.duration, rate=args.rate,
                          webhooks=args.webhooks, webhook_rate=args.webhook_rate)
    try:
        summary = run_demo(StackLayout.default(), args.rows, _say, options)
    except (StackError, ConnectError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    table = summary.get("table")
    if args.json:
        print(json.dumps(summary))
    elif isinstance(table, list):
        print(render_table([(str(label), str(value)) for label, value in table]))
    if "error" in summary:
        print(f"demo failed: {summary['error']}", file=sys.stderr)
        return 1
    return 0


def _demo_seed(args: argparse.Namespace) -> int:
    from local_stack.seed import seed

    result = seed(args.dsn or StackLayout.default().pg_dsn, args.rows, seed_value=args.seed)
    print(json.dumps(result.__dict__))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stack_p = sub.add_parser("stack", help="the local stack of real components")
    stack_sub = stack_p.add_subparsers(dest="stack_command", required=True)
    stack_up = stack_sub.add_parser("up", help="start (idempotent) and wait for health")
    stack_up.add_argument("--prometheus", action="store_true",
                          help="also start Prometheus, our rules loaded (or env "
                               "CDCBRIDGE_STACK_PROMETHEUS=1)")
    stack_up.set_defaults(handler=_stack_up, default_log_level="WARNING")
    down_p = stack_sub.add_parser("down", help="stop the processes the stack started")
    down_p.add_argument("--purge", action="store_true",
                        help="also delete the state folder and the PostgreSQL cluster")
    down_p.set_defaults(handler=_stack_down)
    stack_sub.add_parser("status", help="each component up/down with its port").set_defaults(
        handler=_stack_status)

    conn_p = sub.add_parser("connectors", help="Kafka Connect connectors (REST API)")
    conn_p.add_argument("action", choices=("apply", "status", "restart", "validate"))
    conn_p.add_argument("--file", type=Path, default=DEFAULT_CONNECTOR)
    conn_p.add_argument("--connect-url", default=None, help="default: the local stack's")
    conn_p.add_argument("--bootstrap-servers", default=None,
                        help="create cdcbridge's topics here first (default: the local stack's)")
    conn_p.set_defaults(handler=_connectors)

    demo_p = sub.add_parser("demo", help="end-to-end demo on the local stack")
    demo_p.add_argument("--rows", type=int, default=20)
    demo_p.add_argument("--duration", type=float, default=0.0, metavar="SECONDS",
                        help="run a steady load this long instead of the short demo")
    demo_p.add_argument("--rate", type=float, default=50.0,
                        help="with --duration: customer inserts per second (default 50)")
    demo_p.add_argument("--webhooks", type=int, default=20,
                        help="webhooks the sandbox sends in the short demo (default 20)")
    demo_p.add_argument("--webhook-rate", type=float, default=10.0,
                        help="with --duration: webhooks per second (default 10)")
    demo_p.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo_p.set_defaults(handler=_demo, default_log_level="WARNING")
    demo_sub = demo_p.add_subparsers(dest="demo_command")
    seed_p = demo_sub.add_parser("seed", help="insert N generated customers")
    seed_p.add_argument("--rows", type=int, default=100)
    seed_p.add_argument("--seed", type=int, default=7)
    seed_p.add_argument("--dsn", default=None)
    seed_p.set_defaults(handler=_demo_seed)
