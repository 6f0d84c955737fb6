"""What an execution ended with, as `fab sync` and `fab start --wait` show
it: read from DescribeExecution, whether the execution ran in the local
engine or on AWS (this module imports neither moto nor the engine)."""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Outcome:
    status: str                 # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: dict | None         # the summary (also for SyncFailedError, from the cause)
    error: str | None
    cause: str | None
    execution_arn: str
    report_path: Path | None
    notes: list = field(default_factory=list)   # what the report says the user should know
    # Why the report could not be kept (a local run whose report directory
    # failed after the work was done); the counts are in `output` all the same.
    report_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "SUCCEEDED" and bool(self.output) and self.output.get("failed", 1) == 0


def outcome_from(description: dict, execution_arn: str) -> Outcome:
    """An Outcome from DescribeExecution; for SyncFailedError the summary is the cause."""
    status = description["status"]
    output = json.loads(description["output"]) if description.get("output") else None
    error, cause = description.get("error"), description.get("cause")
    if status == "FAILED" and error == "SyncFailedError" and cause:
        with contextlib.suppress(ValueError):
            output = json.loads(cause)
    return Outcome(status, output, error, cause, execution_arn, None)
