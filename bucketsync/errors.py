"""The project's typed errors.

Each class name is also a Step Functions error name: Lambda reports the raised
class's own name as `errorType`, and only that exact name matches `ErrorEquals`
(base classes do not match), so these names are part of the contract with
`state_machines/sync_buckets.yaml`.

The tooling's errors (`fab` tasks: settings file, front matter, deploy) are
at the end; they are never raised inside Lambda.
"""


class BucketsyncError(Exception):
    """Base class; never raised directly."""


class InvalidInputError(BucketsyncError):
    """The execution input is malformed. Raised before anything is written."""


class EventError(InvalidInputError):
    """An event that is not an EventBridge S3 object event."""


class SettingsError(BucketsyncError, ValueError):
    """A runtime setting (a BUCKETSYNC_* environment variable) is malformed;
    the message names the variable."""


class NoSuchBucketError(BucketsyncError):
    """A source or destination bucket does not exist."""


class AccessDeniedError(BucketsyncError):
    """The caller may not read or write a bucket it needs."""


class CredentialsError(BucketsyncError):
    """The server refused the credentials themselves (unknown key, wrong
    secret, expired token, none found): not a missing permission."""


class EndpointUnreachableError(BucketsyncError):
    """The S3 endpoint could not be reached at all (not retried for minutes:
    a wrong URL or a server that is down should fail in seconds)."""


class ListingOrderError(BucketsyncError):
    """A listing was not in strictly increasing UTF-8 binary order. The
    planner sorts such a side's listing and plans again from the start; it
    reaches Step Functions only if a sorted listing is out of order (a bug)."""

    def __init__(self, message: str, side: str | None = None):
        super().__init__(message)
        self.side = side


class DuplicateKeyError(BucketsyncError):
    """A listing returned the same key twice."""


class ListingPrefixError(BucketsyncError):
    """A listing returned a key that does not start with the prefix asked for
    (a server that normalises prefixes); nothing may be planned from it."""


class DestinationChangedError(BucketsyncError):
    """A conditional write or delete found the destination object changed since
    it was planned (another writer, or an overlapping run)."""


class DestinationBusyError(BucketsyncError):
    """Another live run holds the lease on an overlapping destination prefix."""


class LeaseLostError(BucketsyncError):
    """This run's lease expired and was taken over; it must stop writing."""


class RunInterrupted(BucketsyncError):
    """The run was asked to stop (SIGINT/SIGTERM); it stopped before deletes."""


class SourceUnreadableError(BucketsyncError):
    """A source could not be read (a local directory that does not exist or
    cannot be listed): never read as an empty source."""


class DeleteGuardError(BucketsyncError):
    """Deleting would remove more than allowed; nothing was deleted."""


class TransientError(BucketsyncError):
    """Throttling or a server error that outlasted the client's own retries;
    the state machine retries the whole task."""


class IntegrityError(TransientError):
    """The bytes read do not hash to the source's ETag. Retried (a corrupted
    read does not repeat), then reported as the object's failure."""


class SourceChangedError(BucketsyncError):
    """The source object changed or vanished between listing and copy."""


class NoSuchKeyError(BucketsyncError):
    """An object does not exist (any more)."""


class S3Error(BucketsyncError):
    """Any other S3 error, with the service's code in the message and in `code`."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


class PreconditionsUnsupportedError(S3Error):
    """The server refused a conditional request as not implemented (it must
    be sent again without the condition). Never leaves the S3 adapter's callers."""


class SyncFailedError(BucketsyncError):
    """The run finished but some objects could not be synced."""


class ReportDirectoryError(BucketsyncError):
    """A local run's report directory (BUCKETSYNC_REPORT_DIR) cannot be
    written: found before the run starts, so nothing is copied or deleted
    without a report."""


class SkippedFilesError(BucketsyncError):
    """Everything else was transferred, but these files were not (the local
    DataSync stand-in's FilesFailed; never raised in Lambda)."""
    code = "FilesFailed"

    def __init__(self, failed: list[tuple[str, str]]):
        shown = ", ".join(f"{path} ({why})" for path, why in failed[:10])
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        super().__init__(f"Transfer and verification completed. Selected files transferred except for "
                         f"{len(failed)} file(s) skipped due to errors: {shown}{more}")


class LayoutGuessError(BucketsyncError):
    """The bytes read disprove the part layout guessed for a streamed copy;
    never leaves the streamed writer, which then asks the source part by part."""


# The tooling's errors. Every one of them is a `DeployError`, so each `fab`
# task turns any of them into one line (`deploy.tasks._run`), never a traceback.

class DeployError(Exception):
    """A deploy step cannot go on; the message says which and why."""


class ConfigError(DeployError, ValueError):
    """A deploy setting is missing or wrong; the message says which and how to fix it."""


class FrontMatterError(DeployError, ValueError):
    """A lambda_functions/ file's front matter is malformed; the message names the file and key."""


class ConcurrencyError(DeployError, ValueError):
    """The configured concurrency cannot work in this account."""
