# ---
# Description: Copy one chunk of planned objects from source to destination, server-side.
# MemorySize: 1024
# Timeout: 900
# Access:
#   source: [list, read, tags, decrypt]
#   destination: [list, read, tags, write, retag, multipart, encrypt]
#   work: [list, read, write]
#   secrets: [read]
# ---
"""Lambda handler for the CopyChunk state (logic in bucketsync.steps.copy_chunk)."""
from bucketsync import steps


def handler(event, context):
    return steps.copy_chunk(event, context.get_remaining_time_in_millis())
