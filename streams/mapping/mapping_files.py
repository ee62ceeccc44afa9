"""The declarative mapping files in ``schemas/mappings/``: where they are and how one is read.

Reads YAML (the only file I/O of the mapping code, done once at start-up) and validates it
against its own JSON Schema. ``MappingFileError`` names the file and what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from cdcbridge import package_data
from cdcbridge.errors import FatalError

SCHEMAS_DIR = package_data.schemas_dir()
MAPPINGS_DIR = SCHEMAS_DIR / "mappings"
CUSTOMER_SCHEMA_PATH = SCHEMAS_DIR / "customer.schema.json"


class MappingFileError(FatalError, ValueError):
    """A mapping file is malformed or refers to something that does not exist."""


@dataclass(frozen=True)
class EnumRule:
    map: Mapping[str, str]
    default: str
    reverse_default: str = ""


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_checked(path: Path, schema_name: str) -> dict[str, Any]:
    """The YAML document at ``path``, valid against ``MAPPINGS_DIR/schema_name``.
    Raises ``MappingFileError``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingFileError(f"{path}: cannot read: {exc}") from exc
    validator = jsonschema.Draft202012Validator(load_json(MAPPINGS_DIR / schema_name))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        raise MappingFileError(f"{path}: {where}: {errors[0].message}")
    assert isinstance(document, dict)
    return document


def canonical_properties() -> Mapping[str, Any]:
    """Field name -> JSON Schema of the canonical customer's properties."""
    properties: Mapping[str, Any] = load_json(CUSTOMER_SCHEMA_PATH)["properties"]
    return properties


def company_properties() -> Mapping[str, Any]:
    """Field name -> JSON Schema of the canonical company's properties."""
    properties: Mapping[str, Any] = load_json(SCHEMAS_DIR / "company.schema.json")["properties"]
    return properties


def enum_rule(raw: Mapping[str, Any] | None) -> EnumRule | None:
    if raw is None:
        return None
    return EnumRule(dict(raw["map"]), raw["default"], raw.get("reverse_default", ""))
