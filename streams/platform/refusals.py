"""Finding the records at fault when a vendor refuses a whole request.

A refusal (``RequestRefused``: HubSpot 400/404/409/422 ..., Marketo 609/610/1011 ...) is
persistent: sending the same request again gets the same answer. So the batch is split in
halves until each refused part is a single record, which gets ``RecordOutcome.INVALID`` with
the vendor's answer (the sync dead-letters it); every other record is delivered. One bad record
in a batch of ``n`` costs about ``2·log2(n)`` extra calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from cdcbridge.metrics import Metrics
from streams.contracts import RecordOutcome, RecordResult, RequestRefused, VendorRecord

log = logging.getLogger(__name__)

BatchCall = Callable[[Sequence[VendorRecord]], list[RecordResult]]

MAX_VENDOR_MESSAGE = 500
"""Characters of the vendor's message kept in a dead letter (the head is what explains it)."""


def isolate_refused(
    records: Sequence[VendorRecord], call: BatchCall, metrics: Metrics, platform: str
) -> list[RecordResult]:
    """``call(records)``, splitting the batch on a refusal: one result per record, in order.

    Raises what ``call`` raises other than ``RequestRefused`` (transient and fatal errors are
    the whole call's, and the caller retries or stops).
    """
    try:
        return call(records)
    except RequestRefused as refused:
        if len(records) == 1:
            record = records[0]
            metrics.increment(
                "cdcbridge_platform_refused_records_total",
                tags={"platform": platform, "code": refused.code},
            )
            return [
                RecordResult(
                    record.key,
                    RecordOutcome.INVALID,
                    error_code=refused.code,
                    error_message=refused.message[:MAX_VENDOR_MESSAGE],
                )
            ]
        log.warning(
            "platform refused a batch, splitting it to find the records at fault",
            extra={"records": len(records), "code": refused.code, "platform": platform},
        )
        half = len(records) // 2
        return [
            *isolate_refused(records[:half], call, metrics, platform),
            *isolate_refused(records[half:], call, metrics, platform),
        ]
