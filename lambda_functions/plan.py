# ---
# Description: List both buckets and write copy and delete chunk files; resumable through a cursor.
# MemorySize: 1024
# Timeout: 900
# EphemeralStorage:
#   Size: 4096
# Access:
#   source: [list]
#   destination: [list]
#   work: [list, read, write]
#   secrets: [read]
# ---
"""Lambda handler for the Plan state (logic in bucketsync.steps.plan)."""
from bucketsync import steps


def handler(event, context):
    return steps.plan(event)
