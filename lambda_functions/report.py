# ---
# Description: Sum all result files, write the run report and return the summary.
# MemorySize: 512
# Timeout: 300
# Access:
#   work: [list, read, write, delete]
#   notifications: [publish]
# ---
"""Lambda handler for the Report state (logic in bucketsync.steps.finish)."""
from bucketsync import steps


def handler(event, context):
    return steps.finish(event)
