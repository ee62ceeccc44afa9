"""``cdcbridge map``: JSON lines in, one JSON line out per input line, exit code 0/1."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cdcbridge.cli import build_parser
from streams.mapping.cli import map_lines
from streams.mapping.mapping_files import MAPPINGS_DIR
from tests.unit.mapping.mapping_fixtures import CAPTURED, fixture_bytes

pytestmark = pytest.mark.unit


def one_line(name: str) -> bytes:
    return json.dumps(json.loads(fixture_bytes(name))).encode()


def run(lines: list[bytes], target: str = "canonical") -> tuple[int, list[dict[str, object]]]:
    out = io.BytesIO()
    code = map_lines(lines, out, target, "cdc.public.customers")  # type: ignore[arg-type]
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_line_mapped_exits_zero_with_canonical_records() -> None:
    code, results = run([one_line("create"), b"null", b"", one_line("delete")])
    assert code == 0
    assert len(results) == 3  # the blank line is skipped
    ok = results[0]["ok"]
    assert isinstance(ok, dict) and ok["email"] == "ana.garcia@example.com"
    assert results[1] == {"skip": "tombstone"}
    deleted = results[2]["ok"]
    assert isinstance(deleted, dict) and deleted["deleted"] is True


def test_a_bad_line_is_reported_in_place_and_exits_one() -> None:
    bad = json.loads(fixture_bytes("create"))
    bad["after"]["phone"] = "12"
    code, results = run([b"{oops", json.dumps(bad).encode(), one_line("update")])
    assert code == 1
    assert results[0]["error"] == {
        "field": "value",
        "rule": "json",
        "reason": results[0]["error"]["reason"],  # type: ignore[index]
        "value": "{oops",
    }
    assert results[1]["error"]["field"] == "phone"  # type: ignore[index]
    assert results[1]["error"]["rule"] == "e164"  # type: ignore[index]
    assert results[1]["error"]["value"] == "12"  # type: ignore[index]
    assert "ok" in results[2]


@pytest.mark.parametrize(
    "target,first_name_property", [("hubspot", "firstname"), ("marketo", "firstName")]
)
def test_target_prints_the_vendor_payload(target: str, first_name_property: str) -> None:
    code, results = run([one_line("update_email_change"), one_line("delete")], target)
    assert code == 0
    upsert = results[0]["ok"]
    assert isinstance(upsert, dict)
    assert upsert["platform"] == target and upsert["action"] == "upsert"
    assert upsert["id_value"] == "ana@garcia.dev"
    assert upsert["previous_id_value"] == "ana.garcia@example.com"
    assert upsert["properties"][first_name_property] == "Ana"
    archive = results[1]["ok"]
    assert isinstance(archive, dict) and archive["action"] == "archive"


def test_captured_record_lines_carry_their_own_topic_and_key() -> None:
    files = sorted(CAPTURED.glob("*.json")) if CAPTURED.is_dir() else []
    if not files:
        pytest.skip("no captured envelopes in this checkout")
    code, results = run([json.dumps(json.loads(p.read_text())).encode() for p in files])
    assert code == 0
    assert len(results) == len(files)


def test_map_is_registered_on_the_cli() -> None:
    args = build_parser().parse_args(["map", "--target", "hubspot"])
    assert args.target == "hubspot" and callable(args.handler)


def test_cdcbridge_map_as_a_process_reads_stdin_and_sets_the_exit_code() -> None:
    stdin = one_line("create") + b"\n" + b"not json\n"
    done = subprocess.run(
        [sys.executable, "-m", "cdcbridge", "map"],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert "ok" in lines[0] and "error" in lines[1]


def test_mapping_option_tries_another_mapping_file(tmp_path: Path) -> None:
    edited = tmp_path / "customers.yaml"
    text = (MAPPINGS_DIR / "customers.yaml").read_text()
    edited.write_text(text.replace("normalise: [trim, lower, empty_to_null]", "normalise: [trim]"))
    args = build_parser().parse_args(["map", "--mapping", str(edited)])
    stdin = io.BytesIO(one_line("create") + b"\n")
    out = io.BytesIO()
    stdin_wrapper = io.TextIOWrapper(stdin)
    stdout_wrapper = io.TextIOWrapper(out)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", stdin_wrapper)
        patch.setattr(sys, "stdout", stdout_wrapper)
        assert args.handler(args) == 0
    stdout_wrapper.flush()
    [result] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert result["ok"]["plan"] == "Pro"  # not lower-cased by the edited mapping


def test_broken_mapping_file_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "customers.yaml"
    broken.write_text("version: 2")
    args = build_parser().parse_args(["map", "--mapping", str(broken)])
    assert args.handler(args) == 2
    assert "customers.yaml" in capsys.readouterr().err
