# ---
# Description: Record a failed run in its report and pass the original error on.
# MemorySize: 512
# Timeout: 300
# Access:
#   work: [list, read, write, delete]
#   notifications: [publish]
# ---
"""Lambda handler for the ReportFailure state (logic in bucketsync.steps.report_failure)."""
from bucketsync import steps


def handler(event, context):
    return steps.report_failure(event)
