"""What the deploy-side `fab` tasks do, as plain functions (the fabfile only
parses flags). Each returns an exit status and prints one-line errors."""
from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import datetime, timezone

import boto3
import yaml
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from .. import endpoints
from ..errors import ConfigError, DeployError, InvalidInputError
from ..project.outcome import outcome_from
from ..execution_input import validate_input
from ..project import config as config_mod
from ..project import options
from ..project.terminal import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, report_outcome
from . import artifacts, datasync_template, machine_versions, package, stack, stack_state, template
from .stack_names import ALIAS, Names

EXIT_BAD_CONFIG = EXIT_BAD_INPUT   # what the user gave must be fixed first


def session_for(cfg: config_mod.DeployConfig):
    return boto3.Session(profile_name=cfg.profile, region_name=cfg.region)


def _run(action, overrides: dict, err=None):
    """Load the config, run `action(cfg, session)`, turn errors into one line."""
    err = err or sys.stderr
    try:
        cfg = config_mod.load(overrides=overrides)
    except ConfigError as exc:
        print(f"error: ConfigError: {exc}", file=err)
        return EXIT_BAD_CONFIG
    try:
        return action(cfg, session_for(cfg))
    except (DeployError, InvalidInputError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=err)
    except ClientError as exc:
        print(f"error: {exc.response.get('Error', {}).get('Code', 'ClientError')}: {exc}", file=err)
    except BotoCoreError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=err)
    return EXIT_FAILED


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors and aliases (`&id001`/`*id001`), which
    CloudFormation does not accept: a value used twice is written twice."""

    def ignore_aliases(self, data) -> bool:
        return True


def template_yaml(body: dict) -> str:
    return yaml.dump(body, Dumper=_PlainDumper, sort_keys=False, width=120)


def template_command(overrides: dict, account: str | None = None, out=None) -> int:
    out = out or sys.stdout

    def action(cfg, session):
        acct = account or stack.account_id(session)
        data = package.build(cfg.lambda_architecture)
        body = template.build(cfg, acct, artifacts.artifacts_bucket(cfg, acct), package.object_key(data))
        print(template_yaml(body), file=out)
        return EXIT_OK
    return _run(action, overrides)


def deploy_command(overrides: dict, out=print) -> int:
    def action(cfg, session):
        result = stack.deploy(session, cfg, out=out)
        for key, value in sorted(result.outputs.items()):
            out(f"{key}: {value}")
        return EXIT_OK
    return _run(action, overrides)


def _machine(cfg, session) -> str:
    return Names(cfg, stack.account_id(session)).state_machine_arn


def versions_command(overrides: dict, out=None) -> int:
    def action(cfg, session):
        sfn = session.client("stepfunctions")
        machine = _machine(cfg, session)
        current = machine_versions.alias_target(sfn, f"{machine}:{ALIAS}")
        table = Table(title=f"{cfg.stack_name} versions")
        for column in ("version", ALIAS, "description"):
            table.add_column(column)
        for version in machine_versions.list_versions(sfn, machine):
            table.add_row(str(version["number"]), "*" if version["arn"] == current else "", version["description"])
        Console(file=out or sys.stdout).print(table)
        return EXIT_OK
    return _run(action, overrides)


def rollback_command(overrides: dict, to: int | str | None, out=print, err=None) -> int:
    """`to`: a version number (as typed after --to), or None for the one before."""
    def action(cfg, session):
        machine_versions.rollback(session.client("stepfunctions"), _machine(cfg, session), version_number(to), out)
        return EXIT_OK
    return _run(action, overrides, err)


def version_number(to: int | str | None) -> int | None:
    if to is None or isinstance(to, int):
        return to
    if not str(to).strip().isdigit() or int(to) < 1:
        raise DeployError(f"--to must be a version number (see `fab versions`), got {to!r}")
    return int(to)


def start_command(overrides: dict, opts: options.SyncOptions, wait: bool, out=None, err=None, poll: float = 2.0) -> int:
    """Start an execution on the `live` alias; with `wait`, follow it and
    print the summary (exit status as for `fab sync`)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        execution_input = options.execution_input(opts)
        inputs = validate_input(execution_input, endpoints.DEPLOYED)
    except InvalidInputError as exc:
        print(f"error: InvalidInputError: {exc}", file=err)
        return EXIT_BAD_INPUT
    request = inputs.sync

    def action(cfg, session):
        if request is not None and (request.source not in cfg.source_buckets
                                    or request.destination not in cfg.destination_buckets):
            raise InvalidInputError(
                f"the stack may read only {list(cfg.source_buckets)} and write only {list(cfg.destination_buckets)}; "
                f"add the buckets to SOURCE_BUCKETS/DESTINATION_BUCKETS and deploy first")
        if inputs.datasync is not None and not inputs.datasync.by_arn and inputs.datasync.task not in cfg.datasync_tasks:
            raise InvalidInputError(f"datasync task {inputs.datasync.task!r} is not in DATASYNC_TASKS; add it and "
                                    f"deploy first")
        sfn = session.client("stepfunctions")
        alias = f"{_machine(cfg, session)}:{ALIAS}"
        name = f"start-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        arn = sfn.start_execution(stateMachineArn=alias, name=name, input=json.dumps(execution_input))["executionArn"]
        print(f"started {arn}", file=err)
        if not wait:
            return EXIT_OK
        return follow(sfn, arn, opts.json, out, err, poll)
    return _run(action, overrides, err)


def follow(sfn, arn: str, as_json: bool, out, err, poll: float) -> int:
    last = None
    while True:
        description = sfn.describe_execution(executionArn=arn)
        counts = _map_counts(sfn, arn)
        if counts and counts != last and not as_json:
            print("  " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=err)
            last = counts
        if description["status"] != "RUNNING":
            break
        time.sleep(poll)
    return report_outcome(outcome_from(description, arn), as_json, out, err)


def _map_counts(sfn, arn: str) -> dict:
    """Item counts of the execution's Map runs (chunks done / total)."""
    try:
        runs = sfn.list_map_runs(executionArn=arn).get("mapRuns", [])
        totals: dict = {}
        for run in runs:
            counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"]).get("itemCounts", {})
            for key in ("total", "succeeded", "failed", "running"):
                totals[f"chunks {key}"] = totals.get(f"chunks {key}", 0) + counts.get(key, 0)
        return totals
    except (ClientError, KeyError):
        return {}


def status_command(overrides: dict, limit: int = 10, out=None) -> int:
    def action(cfg, session):
        sfn = session.client("stepfunctions")
        executions = sfn.list_executions(stateMachineArn=_machine(cfg, session), maxResults=limit)["executions"]
        table = Table(title=f"{cfg.stack_name}: last {limit} executions")
        for column in ("name", "status", "started", "copied", "deleted", "failed"):
            table.add_column(column)
        for execution in executions:
            output = sfn.describe_execution(executionArn=execution["executionArn"]).get("output")
            summary = json.loads(output) if output else {}
            table.add_row(execution["name"], execution["status"], f"{execution['startDate']:%Y-%m-%d %H:%M:%S}",
                          *(str(summary.get(k, "")) for k in ("copied", "deleted", "failed")))
        Console(file=out or sys.stdout).print(table)
        return EXIT_OK
    return _run(action, overrides)


def destroy_command(overrides: dict, yes: bool, delete_work_bucket: bool, ask=input, out=print) -> int:
    def action(cfg, session):
        cfn = session.client("cloudformation")
        if stack_state.stack_status(cfn, cfg.stack_name) is None:
            out(f"stack {cfg.stack_name} does not exist: nothing to destroy")
            return EXIT_OK
        if not yes and ask(f"Delete stack {cfg.stack_name} in {cfg.region}? Type its name to confirm: ").strip() != cfg.stack_name:
            out("not confirmed: nothing deleted")
            return EXIT_FAILED
        work_bucket = stack_state.outputs(cfn, cfg.stack_name).get("WorkBucketName")
        cfn.delete_stack(StackName=cfg.stack_name)
        stack_state.wait_for_status(cfn, cfg.stack_name, {"DELETE_COMPLETE", None}, out, 2.0, set())
        out(f"stack {cfg.stack_name} deleted")
        if work_bucket and delete_work_bucket:
            bucket = session.resource("s3").Bucket(work_bucket)
            bucket.objects.all().delete()
            bucket.delete()
            out(f"work bucket {work_bucket} emptied and deleted")
        elif work_bucket:
            out(f"work bucket {work_bucket} kept with its reports (--delete-work-bucket removes it)")
        return EXIT_OK
    return _run(action, overrides)


def datasync_policy_command(overrides: dict, task: str, out=None) -> int:
    """Print the bucket policy the owner of a task's destination bucket (in
    another account) applies, naming the task's bucket-access role. The
    role's name follows from the configuration, so this works before the
    first deploy, as the cross-account order requires (the policy first,
    then the stack, whose task location needs it)."""
    out = out or sys.stdout

    def action(cfg, session):
        if task not in cfg.datasync_tasks:
            raise DeployError(f"datasync task {task!r} is not in DATASYNC_TASKS ({', '.join(sorted(cfg.datasync_tasks)) or 'none'})")
        names = Names(cfg, stack.account_id(session))
        role = datasync_template.role_arn(cfg, names, task)
        print(json.dumps(datasync_template.bucket_policy(cfg, names, task, role), indent=2), file=out)
        return EXIT_OK
    return _run(action, overrides)
