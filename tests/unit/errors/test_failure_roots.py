"""Every exception class of the project hangs under exactly one failure root (issue #12 item 3).

The scan walks the package folders (not a list of modules), imports every module it finds and
checks each class defined there, so it keeps holding when modules move or new ones appear.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from cdcbridge.errors import FatalError, InvalidError, TransientError, failure_class

pytestmark = pytest.mark.unit

PACKAGES = ("cdcbridge", "streams", "webhook_bridge", "local_stack", "sandbox_platform", "bench")
ROOTS = (InvalidError, TransientError, FatalError)


def _project_root() -> Path:
    here = Path(__file__).resolve()
    return next(p for p in here.parents if (p / "pyproject.toml").is_file())


ROOT = _project_root()


def _sources() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name != "__main__.py":  # running it is importing it
                yield path


def _is_package_module(path: Path) -> bool:
    return (ROOT / path.relative_to(ROOT).parts[0] / "__init__.py").is_file()


def _module(path: Path) -> ModuleType:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


def _classes(owner: object, module: str) -> Iterator[type]:
    for value in list(vars(owner).values()):
        if isinstance(value, type) and value.__module__ == module:
            yield value
            if value is not owner:
                yield from _classes(value, module)


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for path in filter(_is_package_module, _sources()):
        module = _module(path)
        for cls in _classes(module, module.__name__):
            if issubclass(cls, BaseException):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


EXCEPTIONS = _exception_classes()


def test_every_exception_class_has_exactly_one_root() -> None:
    offenders = {
        name: [root.__name__ for root in ROOTS if issubclass(cls, root)]
        for name, cls in EXCEPTIONS.items()
        if sum(issubclass(cls, root) for root in ROOTS) != 1
    }
    assert offenders == {}, "each needs exactly one of InvalidError/TransientError/FatalError"


def test_the_scan_sees_the_project() -> None:
    assert len(EXCEPTIONS) >= 25
    packages = {name.split(".")[0] for name in EXCEPTIONS}
    assert {"cdcbridge", "streams", "webhook_bridge", "local_stack"} <= packages


def test_each_exception_class_is_defined_once() -> None:
    """One class per failure (before, each SQS client had its own private ``_Stale``)."""
    names = [cls.__name__ for cls in EXCEPTIONS.values()]
    assert sorted({n for n in names if names.count(n) > 1}) == []
    assert "StaleConnection" in names


@pytest.mark.parametrize(
    ("name", "expected"),
    [("InvalidRecord", "invalid"), ("RequestRefused", "invalid"),
     ("InvalidSignature", "invalid"), ("InvalidEngagement", "invalid"),
     ("TransientPlatformError", "transient"), ("QueueUnavailable", "transient"),
     ("ProducerFull", "transient"), ("Backpressure", "transient"),
     ("FatalPlatformError", "fatal"), ("BreakerTripped", "fatal"),
     ("DeadLetterWriteFailed", "fatal"), ("UnsupportedDeletePolicy", "fatal"),
     ("StackError", "fatal"), ("WritebackFatal", "fatal")],
)  # fmt: skip
def test_the_classes_the_design_names_have_its_root(name: str, expected: str) -> None:
    (cls,) = [cls for cls in EXCEPTIONS.values() if cls.__name__ == name]
    assert failure_class(cls) == expected


_EXCEPTION_NAME = re.compile(r"(Error|Exception|Warning)$")


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _unimportable_classes(path: Path) -> Iterator[ast.ClassDef]:
    """Classes the import scan cannot see: those local to a function, and every class of a
    folder of scripts (``bench/``: its modules import each other as top-level scripts)."""
    tree = ast.parse(path.read_text(), str(path))
    if not _is_package_module(path):
        yield from (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef))
        return
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from (node for node in ast.walk(function) if isinstance(node, ast.ClassDef))


def test_no_exception_class_escapes_the_import_scan() -> None:
    """A class the import scan cannot see is checked by its bases' names: an exception there
    must name one of the project's exception classes (a root or below) as a base."""
    project = {cls.__name__ for cls in EXCEPTIONS.values()}
    builtin = {n for n, v in vars(builtins).items() if isinstance(v, type)
               and issubclass(v, BaseException)}  # fmt: skip
    unrooted: list[str] = []
    for path in _sources():
        for node in _unimportable_classes(path):
            bases = {_base_name(b) for b in node.bases}
            looks_like_one = any(b in builtin | project or _EXCEPTION_NAME.search(b) for b in bases)
            if looks_like_one and not bases & project:
                unrooted.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert unrooted == []


def test_transient_carries_an_optional_retry_after() -> None:
    assert TransientError("busy").retry_after is None
    assert TransientError("busy", retry_after=2.5).retry_after == 2.5
    platform_error = next(c for c in EXCEPTIONS.values() if c.__name__ == "TransientPlatformError")
    raised = platform_error("429", 7.0)
    assert isinstance(raised, TransientError) and raised.retry_after == 7.0
    assert failure_class(ValueError) is None
