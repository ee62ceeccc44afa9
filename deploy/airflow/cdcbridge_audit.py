"""Apache Airflow 3 DAG: the daily cdcbridge data audit, with an optional repair.

``audit`` runs ``cdcbridge audit`` (99 % confidence / 1 % margin unless the params say
otherwise); it exits non-zero on any mismatch, so the task fails and Airflow's failure alerting
(``on_failure_callback``, e-mail, Slack...) fires. ``repair`` runs only after a failed audit and
only when the ``repair`` param is true: it re-sends the mismatched rows through the normal sync
path (``cdcbridge audit --repair``) and fails if any row is still different afterwards.
``verdict`` makes the DAG run fail unless the audit passed or the repair fixed every row.

Configuration comes from the worker's environment, as for every cdcbridge process
(``CDCBRIDGE_PG_DSN``, ``CDCBRIDGE_PLATFORM`` and the platform's settings, ``CDCBRIDGE_SYNC_*``);
``CDCBRIDGE_BIN`` names the cdcbridge executable (its own virtualenv, not Airflow's).
Tested with ``airflow dags test cdcbridge_daily_audit`` (see deploy/airflow/README.md).
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Param, dag

TABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$"  # schema.table, no quoting
SKIPPED = 99  # BashOperator's skip_on_exit_code: the repair was not asked for

AUDIT_ARGS = (
    "--json --table {{ params.table }}"
    " {% if params.sample %}--sample {{ params.sample }}{% else %}"
    "--confidence {{ params.confidence }} --margin {{ params.margin }}{% endif %}"
)
# The segment filter travels in the environment (no shell quoting of SQL).
AUDIT_ENV = {"CDCBRIDGE_AUDIT_WHERE": "{{ params.where or '' }}"}


@dag(
    dag_id="cdcbridge_daily_audit",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["cdcbridge", "data-quality"],
    default_args={"retries": 0},
    params={
        "confidence": Param(0.99, type="number", exclusiveMinimum=0, exclusiveMaximum=1),
        "margin": Param(0.01, type="number", exclusiveMinimum=0, exclusiveMaximum=1),
        "sample": Param(None, type=["null", "integer"], minimum=1),
        "where": Param(None, type=["null", "string"]),
        # One mapped table per run (a schema-qualified name, so no shell quoting is needed);
        # trigger the DAG with another table to audit it (doctor lists the mapped tables).
        "table": Param("public.customers", type="string", pattern=TABLE_NAME),
        "repair": Param(False, type="boolean"),
    },
    doc_md=__doc__,
)
def cdcbridge_daily_audit() -> None:
    binary = os.environ.get("CDCBRIDGE_BIN", "cdcbridge")
    audit = BashOperator(
        task_id="audit",
        bash_command=f"{binary} audit {AUDIT_ARGS}",
        env=AUDIT_ENV,
        append_env=True,
    )
    repair = BashOperator(
        task_id="repair",
        bash_command=(
            "{% if not params.repair %}exit " + str(SKIPPED) + "{% endif %}\n"
            f"{binary} audit --repair {AUDIT_ARGS}"
        ),
        env=AUDIT_ENV,
        append_env=True,
        trigger_rule="all_failed",
        skip_on_exit_code=SKIPPED,
    )
    # The run fails unless the audit passed or the repair fixed every row.
    verdict = EmptyOperator(task_id="verdict", trigger_rule="one_success")
    audit >> repair
    [audit, repair] >> verdict


cdcbridge_daily_audit()
