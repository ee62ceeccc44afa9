"""Every table mapping in effect: the package's (``schemas/mappings/``) and the user's.

A team adds a table with a mapping file in a folder of its own, named by
``CDCBRIDGE_MAPPINGS_DIR`` (several folders separated by ``os.pathsep``), never by editing the
package. A YAML file is a table mapping when its document has ``source`` and ``fields`` (the
platform, engagement and writeback files beside them have neither). A user file mapping a
table the package already maps replaces the package's mapping of that table. Read once at
start-up; raises ``MappingFileError`` (fatal) for a broken file, or for two files of one folder
set claiming the same table or topic.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from streams.mapping.mapping_files import MAPPINGS_DIR, MappingFileError
from streams.mapping.table_mapping import TableMapping, load_table_mapping

MAPPINGS_DIR_ENV = "CDCBRIDGE_MAPPINGS_DIR"


def user_mapping_dirs(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The folders named by ``CDCBRIDGE_MAPPINGS_DIR`` (none when unset)."""
    raw = (os.environ if environ is None else environ).get(MAPPINGS_DIR_ENV, "")
    return tuple(Path(part) for part in raw.split(os.pathsep) if part.strip())


def _is_table_mapping(path: Path) -> bool:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingFileError(f"{path}: cannot read: {exc}") from exc
    return isinstance(document, dict) and "source" in document and "fields" in document


def table_mapping_files(folder: Path) -> list[Path]:
    """The table mapping files of one folder, by name. Raises ``MappingFileError`` when the
    folder does not exist."""
    if not folder.is_dir():
        raise MappingFileError(f"{folder}: mappings folder not found ({MAPPINGS_DIR_ENV})")
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    return [path for path in files if _is_table_mapping(path)]


def _merge(found: dict[str, TableMapping], mapping: TableMapping, path: Path) -> None:
    for other in found.values():
        shared = set(other.topics) & set(mapping.topics)
        if other.table != mapping.table and shared:
            raise MappingFileError(f"{path}: topic {sorted(shared)[0]} is {other.table}'s too")
    found[mapping.table] = mapping


def load_table_mappings(
    extra_dirs: Sequence[Path] | None = None, replacing: Sequence[Path] = ()
) -> tuple[TableMapping, ...]:
    """The mapping of every table: the package's, then each user folder's (``extra_dirs``,
    default from ``CDCBRIDGE_MAPPINGS_DIR``), then the files ``replacing`` (e.g. an edited
    mapping to try). A later file of the same table wins. Raises ``MappingFileError``."""
    found: dict[str, TableMapping] = {}
    folders = [MAPPINGS_DIR, *(user_mapping_dirs() if extra_dirs is None else extra_dirs)]
    for folder in folders:
        in_folder: set[str] = set()
        for path in table_mapping_files(folder):
            mapping = load_table_mapping(path)
            if mapping.table in in_folder:
                raise MappingFileError(f"{path}: {mapping.table} is mapped twice in {folder}")
            in_folder.add(mapping.table)
            _merge(found, mapping, path)
    for path in replacing:
        _merge(found, load_table_mapping(path), path)
    return tuple(found.values())


def mapped_topics(mappings: Sequence[TableMapping]) -> tuple[str, ...]:
    """Every topic the mappings read, in order, each once."""
    return tuple(dict.fromkeys(topic for m in mappings for topic in m.topics))
