"""Files cdcbridge reads at run time, found through ``importlib.resources`` so they are the
same in a checkout, an editable install, a wheel and the container image.

In the checkout ``schemas/``, ``connectors/`` and ``jvm/`` stay where they are (top level);
``cdcbridge/run-files/`` holds symlinks to them (a folder name that is not a Python
identifier, so setuptools treats it as plain data), and the wheel build copies what they point
to. The SQL migrations and the JVM log configuration (``local_stack/sql``,
``local_stack/config``) are reached the same way.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(package: str) -> Path:
    root = files(package)
    if not isinstance(root, Path):
        raise RuntimeError(f"{package} is not installed as plain files (zipped?): {root}")
    return root


def schemas_dir() -> Path:
    """``schemas/``: canonical JSON Schema and Avro files, ``mappings/`` specs."""
    return _folder("cdcbridge") / "run-files" / "schemas"


def connectors_dir() -> Path:
    """``connectors/``: the Kafka Connect connector configurations."""
    return _folder("cdcbridge") / "run-files" / "connectors"


def jvm_pom() -> Path:
    """``jvm/pom.xml``: the Maven file that resolves the local stack's jars."""
    return _folder("cdcbridge") / "run-files" / "jvm" / "pom.xml"


def stack_sql_dir() -> Path:
    """``local_stack/sql/``: the local stack's database migrations, applied in name order."""
    return _folder("cdcbridge") / "run-files" / "stack-sql"


def stack_config(name: str) -> Path:
    """A file of ``local_stack/config/`` (e.g. the JVMs' ``log4j2.properties``)."""
    return _folder("cdcbridge") / "run-files" / "stack-config" / name
