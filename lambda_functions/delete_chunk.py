# ---
# Description: Delete one chunk of destination objects absent at the source.
# MemorySize: 512
# Timeout: 300
# Access:
#   destination: [read, delete]
#   work: [list, read, write]
#   secrets: [read]
# ---
"""Lambda handler for the DeleteChunk state (logic in bucketsync.steps.delete_chunk)."""
from bucketsync import steps


def handler(event, context):
    return steps.delete_chunk(event)
