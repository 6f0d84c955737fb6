# ---
# Description: Validate the execution input, resolve bucket regions, check access, read the buckets' default encryption; begin the DataSync state (filters, dates, guards).
# MemorySize: 256
# Timeout: 300
# Access:
#   source: [list, encryption]
#   destination: [list, encryption]
#   work: [list, read, write]
#   secrets: [read]
#   datasync: [list]
# ---
"""Lambda handler for the ValidateInput state (logic in bucketsync.steps.validate_input).

Its time is the DataSync function's: expanding a template's '*' folder names
lists every page of them, and the empty-source guard lists the task's ends."""
from bucketsync import steps


def handler(event, context):
    return steps.validate_input(event)
