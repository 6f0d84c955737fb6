# ---
# Description: Apply the delete guards (empty source, max_delete) to the finished plan.
# MemorySize: 128
# Timeout: 30
# Access: {}
# ---
"""Lambda handler for the Guard state (logic in bucketsync.steps.guard)."""
from bucketsync import steps


def handler(event, context):
    return steps.guard(event)
