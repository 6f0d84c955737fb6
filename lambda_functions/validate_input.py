# ---
# Description: Validate the execution input, resolve bucket regions and check access.
# MemorySize: 256
# Timeout: 60
# Access:
#   source: [list]
#   destination: [list]
#   work: [list, read, write]
#   secrets: [read]
#   datasync: [list]
# ---
"""Lambda handler for the ValidateInput state (logic in bucketsync.steps.validate_input)."""
from bucketsync import steps


def handler(event, context):
    return steps.validate_input(event)
