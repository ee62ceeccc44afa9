"""The queue: its protocol (``protocol``) and SQS behind it.

``sqs_send.SqsSender`` is the one send path (SendMessageBatch on an event loop), used by the
ASGI receiver and the Lambda handler alike; ``sqs.SqsQueue`` is the forwarder's receive side
(ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch) and the queue's attributes;
``sqs_wire`` holds what both speak: SigV4 signing, answer decoding and the one batch-result
parser. Only the protocol is imported here (no botocore).
"""

from webhook_bridge.queue.protocol import (
    MAX_BATCH_ENTRIES,
    QueueMessage,
    QueueReceiver,
    QueueSender,
    QueueUnavailable,
)

__all__ = [
    "MAX_BATCH_ENTRIES",
    "QueueMessage",
    "QueueReceiver",
    "QueueSender",
    "QueueUnavailable",
]
