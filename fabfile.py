"""bucketsync tasks. Each task is thin: the work is in plain functions that
tests call without Fabric.

    fab demo                                   # the whole thing on an embedded emulator
    fab sync --source A --destination B        # sync two buckets from this machine
    fab --help sync                            # every flag
"""
import sys

from fabric import task


@task
def demo(c):
    """Seed two emulated buckets, sync them with the real state machine, verify, re-run."""
    from bucketsync.local import demo as demo_mod
    sys.exit(demo_mod.main())


@task(
    iterable=["include", "exclude"],
    help={
        "source": "source bucket (name or s3://bucket/prefix)",
        "destination": "destination bucket (name or s3://bucket/prefix)",
        "prefix": "key prefix that scopes both sides",
        "source-prefix": "source key prefix (remapped onto --destination-prefix)",
        "destination-prefix": "destination key prefix",
        "include": "glob of relative keys to include (repeatable)",
        "exclude": "glob of relative keys to exclude (repeatable)",
        "dry-run": "list and plan only; write nothing to either bucket",
        "no-delete": "never delete destination objects absent at the source",
        "max-delete": "most deletes allowed: a count or a percentage of destination objects (default 50%)",
        "allow-empty-source": "allow deleting when the source lists no objects",
        "endpoint-url": "an S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3 or AWS)",
        "json": "print only the summary as JSON on the last line",
    },
)
def sync(c, source=None, destination=None, prefix=None, source_prefix=None, destination_prefix=None,
         include=None, exclude=None, dry_run=False, no_delete=False, max_delete=None,
         allow_empty_source=False, endpoint_url=None, json=False):
    """Make the destination an exact copy of the source (one-way), from this machine."""
    from bucketsync.local import cli
    options = cli.SyncOptions(
        source=source, destination=destination, prefix=prefix, source_prefix=source_prefix,
        destination_prefix=destination_prefix, include=list(include or []), exclude=list(exclude or []),
        dry_run=dry_run, no_delete=no_delete, max_delete=max_delete,
        allow_empty_source=allow_empty_source, endpoint_url=endpoint_url, json=json)
    sys.exit(cli.sync(options))
