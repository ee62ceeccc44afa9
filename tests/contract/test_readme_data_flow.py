"""README's "How data flows" names one owner for each concern of issue #12 (decode, map,
coalesce, rate limit, retry, DLQ, commit, verify, enqueue, forward), and each owner it names
exists: the file or package, and the class or function given beside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
CONCERNS = ("decode", "map", "coalesce", "rate limit", "retry", "DLQ", "commit", "verify",
            "enqueue", "forward")  # fmt: skip


def _owners() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## How data flows", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| (.+?) \| .+ \|$", section, flags=re.MULTILINE)
    return {concern: owner for concern, owner in rows if concern in CONCERNS}


def test_every_concern_has_one_row() -> None:
    assert sorted(_owners()) == sorted(CONCERNS)


@pytest.mark.parametrize("concern", CONCERNS)
def test_the_named_owner_exists(concern: str) -> None:
    owner = _owners()[concern]
    path, _, rest = owner.partition("` (`")
    first = ROOT / path.strip("`").split("`")[0]
    assert first.exists(), f"{concern}: {first} is missing"
    named = re.match(r"`?([A-Za-z_][\w.]*)", rest)
    if first.is_file() and named:
        name = named.group(1).split(".")[0]
        assert re.search(rf"^(class|def) {name}\b", first.read_text(), flags=re.MULTILINE), (
            f"{concern}: {first.name} defines no {name}"
        )
