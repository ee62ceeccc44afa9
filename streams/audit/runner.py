"""One audit run: sample, read back, compare, re-check after the sync lag, check deletes.

The core is I/O-free behind small ports (``SourcePort``, a platform ``read`` function, a
``Settler``) with the clock and the random source injected, so it is tested with fakes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cdcbridge.clock import Clock
from streams.audit.compare import MISSING_PROPERTY, Comparator, Finding, lookup
from streams.audit.deletes import DeletedRow, DeleteExpectation
from streams.audit.sampling import SamplePlan, draw
from streams.audit.settle import Settler
from streams.contracts import InvalidRecord, VendorRecord
from streams.platform.records import chunks

ReadBack = Callable[[Sequence[str]], Mapping[str, Mapping[str, str]]]
Progress = Callable[[int, int], None]


class SourcePort(Protocol):
    def ids(self) -> list[str]: ...

    def rows(self, ids: Sequence[str]) -> Iterable[Mapping[str, object]]: ...

    def existing(self, ids: Sequence[str]) -> set[str]: ...

    def emails_present(self, emails: Sequence[str]) -> set[str]: ...


@dataclass
class AuditResult:
    """What one run found. ``checked`` counts source rows compared (deletes apart)."""

    plan: SamplePlan
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    rechecked: int = 0
    settled: bool = True
    deletes_checked: int = 0
    duration_s: float = 0.0

    @property
    def mismatched_records(self) -> int:
        return len({(f.source_id, f.kind) for f in self.findings})

    @property
    def match_rate(self) -> float:
        total = self.checked + self.deletes_checked
        return 1.0 if total == 0 else (total - self.mismatched_records) / total


@dataclass
class Auditor:
    """Checks source rows against the platform. ``read`` is the adapter's ``read_batch`` (called
    with at most ``batch_size`` emails); ``expected`` maps a source row to the vendor record the
    sync sends (``InvalidRecord`` makes the row an ``unmappable`` finding). Errors of the ports
    propagate: ``TransientPlatformError``/``FatalPlatformError`` from ``read``, the database's
    own from ``source``; nothing is reported from a run that raised."""

    source: SourcePort
    expected: Callable[[Mapping[str, object]], VendorRecord]
    read: ReadBack
    comparator: Comparator
    settler: Settler
    clock: Clock
    key_column: str = "id"
    batch_size: int = 100
    progress: Progress | None = None

    def run(
        self,
        plan: SamplePlan,
        rng: random.Random,
        deleted: Sequence[DeletedRow] = (),
        expectation: DeleteExpectation | None = None,
    ) -> AuditResult:
        """Audit ``plan.size`` sampled rows (and ``deleted`` against ``expectation``)."""
        return self.audit_ids(plan, draw(self.source.ids(), plan.size, rng), deleted, expectation)

    def audit_ids(
        self,
        plan: SamplePlan,
        sample: Sequence[str],
        deleted: Sequence[DeletedRow] = (),
        expectation: DeleteExpectation | None = None,
    ) -> AuditResult:
        """Audit the rows with these keys (and ``deleted``); mismatches are re-checked once
        the settler says the sync caught up, and only what still differs is reported."""
        started = self.clock.monotonic()
        result = AuditResult(plan)
        findings = self.__compare_rows(sample, result)
        gone = self.__deleted(deleted, expectation, result)
        suspects = {f.source_id for f in findings} | {f.source_id for f in gone}
        if suspects:  # changed within the sync lag? look again once the sync caught up
            result.settled = self.settler.wait()
            result.rechecked = len(suspects)
            findings = self.__compare_rows([s for s in sample if s in suspects], AuditResult(plan))
            retry = [d for d in deleted if d.source_id in suspects]
            gone = self.__deleted(retry, expectation, AuditResult(plan))
        result.findings = findings + gone
        result.duration_s = self.clock.monotonic() - started
        return result

    def __compare_rows(self, ids: Sequence[str], result: AuditResult) -> list[Finding]:
        findings: list[Finding] = []
        done = 0
        for batch in chunks(list(ids), self.batch_size):
            records: list[VendorRecord] = []
            for row in self.source.rows(batch):
                result.checked += 1
                try:
                    records.append(self.expected(row))
                except InvalidRecord as exc:
                    key = str(row.get(self.key_column, ""))
                    findings.append(Finding("unmappable", key, "", MISSING_PROPERTY, exc.field))
            answers = self.read([r.id_value for r in records]) if records else {}
            for record in records:
                findings += self.comparator.record(record, lookup(answers, record.id_value))
            done += len(batch)
            if self.progress is not None:
                self.progress(done, len(ids))
        return findings

    def __deleted(
        self,
        deleted: Sequence[DeletedRow],
        expectation: DeleteExpectation | None,
        result: AuditResult,
    ) -> list[Finding]:
        if expectation is None or not deleted:
            return []
        present = self.source.existing([d.source_id for d in deleted])
        back = self.source.emails_present([d.lookup for d in deleted])  # none for companies
        rows = [d for d in deleted if d.source_id not in present and d.lookup.lower() not in back]
        findings: list[Finding] = []
        for batch in chunks(rows, self.batch_size):
            answers = self.read([d.lookup for d in batch])
            for row in batch:
                actual = lookup(answers, row.lookup)
                findings += self.comparator.deleted(
                    row.source_id, row.lookup, actual, expectation.kept_with
                )
        result.deletes_checked = len(rows)
        return findings
