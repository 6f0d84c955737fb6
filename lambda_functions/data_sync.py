# ---
# Description: Start the run's DataSync execution (filters from date templates, catch-up of missed days) and follow it.
# MemorySize: 256
# Timeout: 300
# Access:
#   work: [list, read, write]
#   datasync: [start, follow]
# ---
"""Lambda handler for the DataSync state (logic in bucketsync.datasync.branch.step)."""
from bucketsync.datasync import branch


def handler(event, context):
    return branch.step(event)
