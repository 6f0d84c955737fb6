"""The whole deploy: package, template, change set, state machine version
and the `live` alias (each in a module of its own). Plain functions over a
boto3 session, so tests run them against an emulated account without Fabric."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from . import concurrency, package, sam, template
from .artifacts import artifacts_bucket, ensure_bucket, upload_code
from .change_sets import apply_stack
from ..project.config import DeployConfig
from ..project.frontmatter import lambda_files
from .machine_versions import list_versions, prune_function_versions, prune_versions, publish_if_changed
from .region_checks import check_datasync_regions, check_mirror_regions
from .stack_names import Names
from .stack_state import outputs


@dataclass
class Deployment:
    status: str                  # "created" | "updated" | "no changes"
    outputs: dict
    version_arn: str | None      # the version the alias points at
    published: bool
    code_uploaded: bool


def emulated() -> bool:
    """Deploying into an emulator (an endpoint override): CloudFormation there
    cannot expand the SAM transform, so it is expanded here."""
    return any(os.environ.get(v) for v in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDFORMATION"))


def account_id(session) -> str:
    return session.client("sts").get_caller_identity()["Account"]


def render(config: DeployConfig, account: str, bucket: str, key: str, translate: bool) -> dict:
    body = template.build(config, account, bucket, key)
    return sam.translate(body, config.region) if translate else body


def deploy(session, config: DeployConfig, out: Callable[[str], None] = print, poll: float = 2.0) -> Deployment:
    # First: the awscrt wheel may have to be downloaded, and offline that
    # fails, with nothing created yet.
    data = package.build(config.lambda_architecture)
    account = account_id(session)
    s3 = session.client("s3")
    # Before anything is created: a mirror of another region's bucket would never fire.
    check_mirror_regions(s3, config)
    check_datasync_regions(s3, config)   # and a DataSync task needs one end in REGION
    cfn = session.client("cloudformation")
    sfn = session.client("stepfunctions")
    bucket = artifacts_bucket(config, account)
    ensure_bucket(s3, bucket, config.region, out)
    key, uploaded = upload_code(s3, bucket, data)
    out(f"code package {key} ({len(data):,} bytes, awscrt for {config.lambda_architecture}) "
        f"{'uploaded' if uploaded else 'unchanged (already uploaded)'}")
    names = Names(config, account)
    copier = next(file for file in lambda_files() if file.module == "copy_chunk")
    config = concurrency.apply(session.client("lambda"), config, names.function(copier), out)
    body = render(config, account, bucket, key, translate=emulated())
    status = apply_stack(cfn, s3, config, body, bucket, out, poll)
    if status == "no changes":
        out(f"stack {config.stack_name}: no changes")
    # What the template's outputs say; derived from the names where an
    # emulator's CloudFormation keeps no outputs.
    found = {"StateMachineArn": names.state_machine_arn, "AliasArn": names.alias_arn}
    found.update(outputs(cfn, config.stack_name))
    machine = found["StateMachineArn"]
    version, published = publish_if_changed(sfn, machine, package.digest(data), out)
    versions = list_versions(sfn, machine)
    deleted = prune_versions(sfn, machine, config.keep_versions, out, versions)
    prune_function_versions(sfn, session.client("lambda"), machine,
                            [v for v in versions if v["arn"] not in deleted],
                            # Only the state machine's functions have versions (and
                            # a trigger's function may not be deployed at all).
                            [names.function(file) for file in lambda_files() if file.is_state], out)
    return Deployment(status, found, version, published, uploaded)
