# ---
# Description: Reconcile the keys that S3 events name (EventBridge -> SQS), for MIRRORS.
# MemorySize: 1024
# Timeout: 300
# Trigger: mirror-queue
# Access:
#   source: [list, read, tags, decrypt]
#   destination: [list, read, write, tagged, abort, delete, encrypt]
#   secrets: [read]
# ---
"""Lambda handler for the mirror queue (logic in bucketsync.mirror): an SQS
batch in, the partial batch response out (only failed messages are retried)."""
import os

from bucketsync import mirror, settings
from bucketsync.copy import start_deadline


def handler(event, context):
    mirrors = mirror.load_mirrors(os.environ.get(mirror.MIRRORS_VARIABLE))
    # No copy starts too late to finish: a key not started fails its message,
    # which SQS hands out again.
    remaining = context.get_remaining_time_in_millis() if context is not None else None
    return mirror.handle_sqs(event, mirrors, settings.load(), start_deadline(remaining))
