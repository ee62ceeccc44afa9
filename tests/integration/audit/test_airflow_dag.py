"""The Airflow DAG executed with ``airflow dags test`` against the local stack: it passes when
the data matches, fails (the audit task, and the run) after an edit on the platform, and with
``repair`` on, re-sends the row and succeeds.

Airflow lives in a virtualenv of its own (``scripts/install-airflow.sh``); the test is skipped
when that has not been run (``make airflow-dag-test`` runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from local_stack.layout import PROJECT_ROOT
from tests.fakes.audit_bridge import Bridge, insert_segment
from tests.fakes.processes import wait_for

pytestmark = pytest.mark.integration

AIRFLOW = Path(
    os.environ.get("CDCBRIDGE_AIRFLOW_BIN", PROJECT_ROOT / ".stack/airflow/venv/bin/airflow")
)
DAG_ID = "cdcbridge_daily_audit"


@pytest.mark.skipif(not AIRFLOW.exists(), reason="no Airflow: run scripts/install-airflow.sh")
@pytest.mark.parametrize("bridge", ["hubspot"], indirect=True)
def test_dag_passes_fails_on_a_mismatch_and_repairs(
    bridge: Bridge, pg: psycopg.Connection[tuple[object, ...]], tmp_path: Path
) -> None:
    env = {
        **bridge.env,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "deploy" / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "CDCBRIDGE_BIN": str(Path(sys.executable).parent / "cdcbridge"),
    }

    def airflow(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AIRFLOW), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    for step in (("db", "migrate"), ("dags", "reserialize")):
        done = airflow(*step)
        assert done.returncode == 0, done.stderr[-3000:]
    tag = f"airflow{uuid.uuid4().hex[:8]}"
    rows = insert_segment(pg, tag, 5)
    wait_for(lambda: sum(e.startswith(tag) for e in bridge.platform.contacts()) == 5, 90, "sync")
    conf = {"where": f"email LIKE '{tag}-%'", "sample": None}

    def dag_test(**params: object) -> subprocess.CompletedProcess[str]:
        return airflow("dags", "test", DAG_ID, "-c", json.dumps(conf | params))

    passed = dag_test()
    assert passed.returncode == 0, (passed.stdout + passed.stderr)[-4000:]
    assert "state=success" in passed.stdout + passed.stderr

    bridge.platform.edit(rows[0][1], firstname="Mallory")
    failed = dag_test()
    log = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "state=failed" in log, log[-4000:]
    assert '"property": "firstname"' in log, "the audit task logs which field differs"

    repaired = dag_test(repair=True)
    log = repaired.stdout + repaired.stderr
    assert repaired.returncode == 0 and "state=success" in log, log[-4000:]
    assert bridge.platform.contacts()[rows[0][1].lower()]["firstname"] == "Zoë 1"
