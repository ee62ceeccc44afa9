"""Resolve the JVM components' jars with Maven from ``jvm/pom.xml`` (once; cached in the state
folder and in Maven's local repository)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from cdcbridge import package_data
from local_stack.layout import StackLayout
from local_stack.processes import StackError

POM = package_data.jvm_pom()
# Maven profile -> where its jars go (relative to the state folder).
COMPONENTS = {
    "kafka": Path("lib/kafka"),
    "debezium": Path("plugins/debezium-connector-postgres"),
    "elasticmq": Path("lib/elasticmq"),
    "kafka-tools": Path("lib/kafka-tools"),
}


def component_dir(layout: StackLayout, component: str) -> Path:
    return layout.root / COMPONENTS[component]


def classpath(layout: StackLayout, component: str) -> str:
    return str(component_dir(layout, component) / "*")


def ensure_jars(layout: StackLayout) -> None:
    """Run Maven for each component whose folder is missing or empty.

    Raises StackError when Maven is missing or fails (its output is in the logs folder).
    """
    for component in COMPONENTS:
        target = component_dir(layout, component)
        marker = target / ".resolved"
        if marker.exists():
            continue
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError("Maven (mvn) is not installed; run `make deps` or `bash .ci/run`")
        if target.exists():
            shutil.rmtree(target)
        log = layout.logs / f"maven-{component}.log"
        with log.open("wb") as out:
            result = subprocess.run(
                [mvn, "-B", "-q", "-f", str(POM), f"-P{component}",
                 "dependency:copy-dependencies", f"-Dlib.dir={target}"],
                stdout=out, stderr=subprocess.STDOUT, check=False,
            )
        if result.returncode != 0:
            raise StackError(f"Maven could not resolve {component}; see {log}")
        marker.write_text("ok\n")
