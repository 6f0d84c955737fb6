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
    # Long flags only: with this many, invoke's generated one-letter flags
    # run out and one flag is shown as "--=STRING".
    auto_shortflags=False,
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
        "max-delete": "most deletes allowed: a count or a percentage of destination objects "
                      "(default: 50%, or up to 10 while the source lists at least half as many; see README)",
        "allow-empty-source": "allow deleting when the source lists no objects",
        "check-metadata": "also compare metadata and tags of same-content objects and update them",
        "verify": "also read every written object back with a HEAD (ETag or stamp = the source's)",
        "endpoint-url": "an S3-compatible endpoint for both sides (default: AWS_ENDPOINT_URL_S3 or AWS)",
        "source-endpoint-url": "the source's own S3-compatible endpoint (copies then stream through this machine)",
        "source-profile": "the AWS profile whose keys reach the source",
        "destination-endpoint-url": "the destination's own S3-compatible endpoint",
        "destination-profile": "the AWS profile whose keys reach the destination",
        "json": "print only the summary as JSON on the last line",
        "input": "a whole execution input as JSON, or @file.json (as the console would start it; "
                 "e.g. with a `datasync` key); replaces the flags above",
    },
)
def sync(c, source=None, destination=None, prefix=None, source_prefix=None, destination_prefix=None,
         include=None, exclude=None, dry_run=False, no_delete=False, max_delete=None,
         allow_empty_source=False, check_metadata=False, verify=False, endpoint_url=None, source_endpoint_url=None,
         source_profile=None, destination_endpoint_url=None, destination_profile=None, json=False, input=None):
    """Make the destination an exact copy of the source (one-way), from this machine."""
    from bucketsync.local import cli
    _refuse_flags_without_value(json)
    options = cli.SyncOptions(
        source=source, destination=destination, prefix=prefix, source_prefix=source_prefix,
        destination_prefix=destination_prefix, include=list(include or []), exclude=list(exclude or []),
        dry_run=dry_run, no_delete=no_delete, max_delete=max_delete,
        allow_empty_source=allow_empty_source, check_metadata=check_metadata, verify=verify,
        endpoint_url=endpoint_url,
        source_endpoint_url=source_endpoint_url, source_profile=source_profile,
        destination_endpoint_url=destination_endpoint_url, destination_profile=destination_profile,
        json=json, input=input)
    cli.exit_now(cli.sync(options))   # no interpreter teardown: ~0.5 s of a small sync


@task(
    iterable=["include", "exclude"],
    help={
        "task": "a task name of DATASYNC_TASKS (fabfile_config.py)",
        "include": "a folder template, e.g. '/{date:%Y-%m-%d}/*' (repeatable)",
        "exclude": "a DataSync exclude pattern, e.g. '*.tmp' (repeatable)",
        "date": "yesterday (default), today, or YYYY-MM-DD",
        "timezone": "IANA time zone the dates are computed in (default UTC)",
        "catch-up-days": "also include this many earlier days not yet transferred (local record)",
        "endpoint-url": "an S3-compatible endpoint of the task's source (default: AWS)",
        "json": "print one JSON object",
    },
)
def datasync_preview(c, task, include=None, exclude=None, date="yesterday", timezone="UTC", catch_up_days="0",
                     endpoint_url=None, json=False):
    """Show the include filter a DataSync run would pass, and the source keys it selects; writes nothing."""
    # A string default: invoke types a flag by its default, and an int one
    # would turn `--catch-up-days abc` into a raw ValueError before bucketsync
    # could refuse it in one line (the validation does it, as for inputs).
    from bucketsync.local import direct
    sys.exit(direct.datasync_preview(task, list(include or []), date, timezone, catch_up_days, list(exclude or []),
                                     endpoint_url, json))


@task(
    help={
        "events": "recorded EventBridge S3 events: a JSON array, or one event per line",
        "source": "source bucket (name or s3://bucket/prefix); events for other buckets are ignored",
        "destination": "destination bucket (name or s3://bucket/prefix)",
        "prefix": "key prefix that scopes both sides",
        "source-endpoint-url": "the source's S3-compatible endpoint (default: AWS)",
        "source-profile": "the AWS profile whose keys reach the source",
        "destination-endpoint-url": "the destination's S3-compatible endpoint (default: AWS)",
        "destination-profile": "the AWS profile whose keys reach the destination",
        "json": "print the summary (copied, deleted, unchanged, failed) as JSON on the last line",
    },
)
def mirror_replay(c, events, source, destination, prefix=None, source_endpoint_url=None,
                  destination_endpoint_url=None, json=False, source_profile=None, destination_profile=None):
    # (The profiles come last: invoke derives the one-letter flags in order,
    # so the earlier flags keep theirs.)
    """Reconcile the keys that recorded S3 events name, as the deployed mirror would."""
    from bucketsync.local import direct
    sys.exit(direct.mirror_replay(events, source, destination, prefix, source_endpoint_url,
                                  destination_endpoint_url, json, source_profile=source_profile,
                                  destination_profile=destination_profile))


def _refuse_flags_without_value(as_json):
    """`--include` with no value would reach the task as no filter at all."""
    from bucketsync.project import options
    status = options.refuse_flags_without_value(sys.argv[1:], as_json, sys.stdout, sys.stderr)
    if status is not None:
        sys.exit(status)


# ---- deploying to AWS (settings in fabfile_config.py; see fabfile_config_template.py) ----

CONFIG_HELP = {"region": "override REGION", "profile": "override PROFILE", "stack-name": "override STACK_NAME"}


def _overrides(region, profile, stack_name):
    return {"region": region, "profile": profile, "stack_name": stack_name}


@task(help=dict(CONFIG_HELP, account="account id to render for, without asking AWS"))
def template(c, region=None, profile=None, stack_name=None, account=None):
    """Print the generated SAM template."""
    from bucketsync.deploy import tasks
    sys.exit(tasks.template_command(_overrides(region, profile, stack_name), account=account))


@task(help=CONFIG_HELP)
def deploy(c, region=None, profile=None, stack_name=None):
    """Package, create or update the stack, publish a version and move the `live` alias."""
    from bucketsync.deploy import tasks
    sys.exit(tasks.deploy_command(_overrides(region, profile, stack_name)))


@task(help=CONFIG_HELP)
def versions(c, region=None, profile=None, stack_name=None):
    """List the state machine's published versions; * marks the one `live` points at."""
    from bucketsync.deploy import tasks
    sys.exit(tasks.versions_command(_overrides(region, profile, stack_name)))


@task(help=dict(CONFIG_HELP, to="version number to move `live` to (default: the one before)"))
def rollback(c, to=None, region=None, profile=None, stack_name=None):
    """Move the `live` alias back to an earlier version."""
    from bucketsync.deploy import tasks
    sys.exit(tasks.rollback_command(_overrides(region, profile, stack_name), to))


@task(iterable=["include", "exclude"], help=dict(CONFIG_HELP, wait="follow the execution and print its summary",
                                                input="a whole execution input as JSON, or @file.json"))
def start(c, source=None, destination=None, prefix=None, source_prefix=None, destination_prefix=None,
          include=None, exclude=None, dry_run=False, no_delete=False, max_delete=None, allow_empty_source=False,
          check_metadata=False, verify=False, json=False, wait=False, input=None, region=None, profile=None,
          stack_name=None):
    """Start a sync on the deployed stack (the `live` alias); same flags as `fab sync`."""
    from bucketsync.deploy import tasks
    from bucketsync.project.options import SyncOptions
    _refuse_flags_without_value(json)
    options = SyncOptions(
        source=source, destination=destination, prefix=prefix, source_prefix=source_prefix,
        destination_prefix=destination_prefix, include=list(include or []), exclude=list(exclude or []),
        dry_run=dry_run, no_delete=no_delete, max_delete=max_delete, allow_empty_source=allow_empty_source,
        check_metadata=check_metadata, verify=verify, json=json, input=input)
    sys.exit(tasks.start_command(_overrides(region, profile, stack_name), options, wait))


@task(help=dict(CONFIG_HELP, task="a task name of DATASYNC_TASKS"))
def datasync_policy(c, task, region=None, profile=None, stack_name=None):
    """Print the bucket policy another account applies to a DataSync task's destination bucket."""
    from bucketsync.deploy import tasks
    sys.exit(tasks.datasync_policy_command(_overrides(region, profile, stack_name), task))


@task(help=dict(CONFIG_HELP, limit="how many executions"))
def status(c, limit=10, region=None, profile=None, stack_name=None):
    """Show the most recent executions and their counts."""
    from bucketsync.deploy import tasks
    sys.exit(tasks.status_command(_overrides(region, profile, stack_name), int(limit)))


@task(help=dict(CONFIG_HELP, yes="do not ask for confirmation",
                delete_work_bucket="also empty and delete the work bucket (its reports)"))
def destroy(c, yes=False, delete_work_bucket=False, region=None, profile=None, stack_name=None):
    """Delete the stack (asks first); the work bucket and its reports are kept unless told otherwise."""
    from bucketsync.deploy import tasks
    sys.exit(tasks.destroy_command(_overrides(region, profile, stack_name), yes, delete_work_bucket))
