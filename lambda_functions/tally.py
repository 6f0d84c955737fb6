# ---
# Description: Sum the copy results and decide whether deletes may run.
# MemorySize: 512
# Timeout: 300
# Access:
#   work: [list, read, write]
# ---
"""Lambda handler for the Tally state (logic in bucketsync.steps.tally)."""
from bucketsync import steps


def handler(event, context):
    return steps.tally(event)
