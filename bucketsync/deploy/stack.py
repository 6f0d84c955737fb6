"""Stack operations: package, template, change sets, state machine versions
and the `live` alias. Plain functions over a boto3 session, so tests run
them against an emulated account without Fabric."""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from botocore.exceptions import ClientError

from ..s3 import error_code
from . import concurrency, package, sam, template
from ..errors import DeployError
from ..project.config import DeployConfig
from ..project.frontmatter import lambda_files
from .regions import check_datasync_regions, check_mirror_regions

# NAMED_IAM: the DataSync tasks' roles have names a partner's bucket policy
# can name before the stack exists (datasync_template.role_name).
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
MAX_TEMPLATE_BODY = 51_200
TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
TERMINAL_BAD = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
                "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_COMPLETE"}
_DESCRIPTION = re.compile(r"code (?P<code>[0-9a-f]+) definition (?P<definition>[0-9a-f]+)")


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


def artifacts_bucket(config: DeployConfig, account: str) -> str:
    return f"{config.stack_name.lower()[:20]}-artifacts-{account}-{config.region}"


def tls_only_policy(bucket: str, region: str) -> dict:
    """The artifacts bucket's policy: every request without TLS is refused
    (as the work bucket's, in the template)."""
    arn = f"arn:{template.partition_of(region)}:s3:::{bucket}"
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def ensure_bucket(s3, bucket: str, region: str, out) -> None:
    """The artifacts bucket (deploy's own, outside the stack: the stack's
    code must be uploaded before the stack exists): private, encrypted,
    TLS only. A bucket an earlier deploy made without a policy gets the
    TLS-only one; a policy someone put there is left as it is."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise DeployError(f"artifacts bucket {bucket}: {exc}") from exc
        out(f"creating artifacts bucket {bucket}")
        kwargs = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    if not s3.meta.endpoint_url.startswith("https://"):
        # An emulator reached over plain HTTP: a TLS-only policy would refuse
        # every later request of this very deploy (moto enforces it).
        return
    try:
        s3.get_bucket_policy(Bucket=bucket)
        return
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucketPolicy":
            raise DeployError(f"artifacts bucket {bucket}: {exc}") from exc
    # A Deny is not a public policy: BlockPublicPolicy lets it in.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only_policy(bucket, region)))


def upload_code(s3, bucket: str, data: bytes) -> tuple[str, bool]:
    """Upload the package under its content hash unless it is already there."""
    key = package.object_key(data)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return key, False
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return key, True


def render(config: DeployConfig, account: str, bucket: str, key: str, translate: bool) -> dict:
    body = template.build(config, account, bucket, key)
    return sam.translate(body, config.region) if translate else body


def stack_status(cfn, name: str) -> str | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except ClientError as exc:
        # CloudFormation has no code of its own for a missing stack: it is a
        # ValidationError whose message says the stack "does not exist".
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise


def apply_stack(cfn, s3, config: DeployConfig, body: dict, bucket: str, out, poll: float = 2.0) -> str:
    """Create or update the stack through a change set, printing its events
    as they happen. Returns "created", "updated" or "no changes"."""
    name = config.stack_name
    status = stack_status(cfn, name)
    if status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
        # Nothing was ever created: a failed first create, or a first change
        # set that was never executed (a deploy that stopped half-way).
        out(f"stack {name} is in {status} (it was never created; nothing is left): deleting it first")
        cfn.delete_stack(StackName=name)
        wait_for_status(cfn, name, {"DELETE_COMPLETE", None}, out, poll, set())
        status = None
    if status and status.endswith("_IN_PROGRESS"):
        raise DeployError(f"stack {name} is busy ({status}); wait for it to finish and deploy again")
    text = json.dumps(body, sort_keys=True)
    source = {"TemplateBody": text}
    if len(text) > MAX_TEMPLATE_BODY:
        key = f"templates/{hashlib.sha256(text.encode()).hexdigest()}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
        source = {"TemplateURL": s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})}
    change_set = f"bucketsync-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    kind = "CREATE" if status is None else "UPDATE"
    seen = {e["EventId"] for e in _events(cfn, name)} if status else set()
    cfn.create_change_set(StackName=name, ChangeSetName=change_set, ChangeSetType=kind, Capabilities=CAPABILITIES,
                          Tags=[{"Key": k, "Value": v} for k, v in sorted(config.tags.items())], **source)
    while True:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(poll)
    reason = described.get("StatusReason") or ""
    unchanged = "didn't contain changes" in reason or "No updates are to be performed" in reason
    if described["Status"] == "FAILED" and not unchanged:
        # A template or permission error. Leave nothing behind: the change
        # set goes, and so does the empty REVIEW_IN_PROGRESS stack that a
        # failed first change set leaves (it would block the next deploy).
        cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        if kind == "CREATE":
            cfn.delete_stack(StackName=name)
        raise DeployError(f"change set for {name} failed: {reason or 'no reason given'}; nothing was changed")
    if unchanged or not described.get("Changes"):
        cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        return "no changes"
    out(f"{'creating' if kind == 'CREATE' else 'updating'} stack {name}: {len(described['Changes'])} change(s)")
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    final = wait_for_status(cfn, name, TERMINAL_OK | TERMINAL_BAD, out, poll, seen)
    if final not in TERMINAL_OK:
        failures = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in _events(cfn, name)
                    if e["ResourceStatus"].endswith("FAILED")]
        raise DeployError(f"stack {name} ended in {final}: {'; '.join(failures[:5]) or 'see its events'}")
    return "created" if kind == "CREATE" else "updated"


def _events(cfn, name: str) -> list[dict]:
    try:
        return cfn.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return []


def wait_for_status(cfn, name: str, until: set, out, poll: float, seen: set) -> str | None:
    while True:
        for event in reversed(_events(cfn, name)):
            if event["EventId"] not in seen:
                seen.add(event["EventId"])
                reason = f" {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
                out(f"  {event['ResourceStatus']:<24} {event['LogicalResourceId']}{reason}")
        status = stack_status(cfn, name)
        if status in until or (status is None and None in until):
            return status
        time.sleep(poll)


def outputs(cfn, name: str) -> dict:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# ---- versions and the alias ----------------------------------------------------

def version_description(code_hash: str, definition: str, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    digest = hashlib.sha256(definition.encode()).hexdigest()
    return f"deployed {now:%Y-%m-%dT%H:%M:%SZ} code {code_hash[:16]} definition {digest[:16]}"


def alias_target(sfn, alias_arn: str) -> str | None:
    try:
        alias = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    except ClientError as exc:
        if error_code(exc) in ("ResourceNotFound", "ResourceNotFoundException", "StateMachineDoesNotExist"):
            return None
        raise
    return alias["routingConfiguration"][0]["stateMachineVersionArn"]


def publish_if_changed(sfn, machine_arn: str, code_hash: str, out) -> tuple[str, bool]:
    """Publish a version when the definition or the code differs from the
    version the alias points at; move the alias to it. Returns (version, published)."""
    alias_arn = f"{machine_arn}:{template.ALIAS}"
    current = alias_target(sfn, alias_arn)
    definition = sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"]
    wanted = version_description(code_hash, definition)
    if current:
        have = _DESCRIPTION.search(sfn.describe_state_machine(stateMachineArn=current).get("description", "") or "")
        want = _DESCRIPTION.search(wanted)
        if have and have.groupdict() == want.groupdict():
            return current, False
    # UpdateStateMachine with publish=true: the definition is the deployed one,
    # unchanged; it publishes it as a new version with our description.
    response = sfn.update_state_machine(stateMachineArn=machine_arn, definition=definition,
                                        publish=True, versionDescription=wanted)
    version = response["stateMachineVersionArn"]
    move_alias(sfn, machine_arn, version)
    out(f"published version {version.rsplit(':', 1)[-1]} ({wanted}); alias {template.ALIAS} -> it")
    return version, True


def move_alias(sfn, machine_arn: str, version_arn: str) -> None:
    alias_arn = f"{machine_arn}:{template.ALIAS}"
    routing = [{"stateMachineVersionArn": version_arn, "weight": 100}]
    if alias_target(sfn, alias_arn) is None:
        sfn.create_state_machine_alias(name=template.ALIAS, routingConfiguration=routing,
                                       description="the version schedules and fab start run")
    else:
        sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, routingConfiguration=routing)


def list_versions(sfn, machine_arn: str) -> list[dict]:
    """[{arn, number, description, definition}] newest first. Uses ListStateMachineVersions;
    on an emulator without it, probes version numbers below the alias's."""
    try:
        arns, token = [], None
        while True:
            page = sfn.list_state_machine_versions(stateMachineArn=machine_arn, **({"nextToken": token} if token else {}))
            arns += [v["stateMachineVersionArn"] for v in page["stateMachineVersions"]]
            token = page.get("nextToken")
            if not token:
                break
    except ClientError:
        current = alias_target(sfn, f"{machine_arn}:{template.ALIAS}")
        top = int(current.rsplit(":", 1)[-1]) if current else 0
        arns = [f"{machine_arn}:{n}" for n in range(top + 5, 0, -1)]
    versions = []
    for arn in arns:
        try:
            described = sfn.describe_state_machine(stateMachineArn=arn)
        except ClientError:
            continue
        versions.append({"arn": arn, "number": int(arn.rsplit(":", 1)[-1]),
                         "description": described.get("description", ""),
                         "definition": described.get("definition", "")})
    return sorted(versions, key=lambda v: -v["number"])


def rollback(sfn, machine_arn: str, to: int | None, out) -> str:
    versions = list_versions(sfn, machine_arn)
    current = alias_target(sfn, f"{machine_arn}:{template.ALIAS}")
    if to is None:
        older = [v for v in versions if current and v["number"] < int(current.rsplit(":", 1)[-1])]
        if not older:
            raise DeployError("there is no older version to roll back to")
        target = older[0]
    else:
        matches = [v for v in versions if v["number"] == to]
        if not matches:
            raise DeployError(f"version {to} does not exist; versions: {[v['number'] for v in versions]}")
        target = matches[0]
    move_alias(sfn, machine_arn, target["arn"])
    out(f"alias {template.ALIAS} -> version {target['number']} ({target['description']})")
    return target["arn"]


def prune_versions(sfn, machine_arn: str, keep: int, out, versions: list[dict] | None = None) -> list[str]:
    """Delete versions beyond the newest `keep`, never the alias's.
    `versions`: list_versions' answer, when the caller has it already."""
    current = alias_target(sfn, f"{machine_arn}:{template.ALIAS}")
    versions = list_versions(sfn, machine_arn) if versions is None else versions
    doomed = [v["arn"] for v in versions[keep:] if v["arn"] != current]
    deleted = []
    for arn in doomed:
        try:
            sfn.delete_state_machine_version(stateMachineVersionArn=arn)
            deleted.append(arn)
        except ClientError as exc:
            out(f"could not delete version {arn}: {exc}")
            break
    if deleted:
        out(f"deleted {len(deleted)} old version(s)")
    return deleted


_FUNCTION_VERSION = re.compile(r"arn:[\w-]+:lambda:[\w-]+:\d+:function:[\w-]+:\d+")


def prune_function_versions(sfn, lam, machine_arn: str, kept: list[dict], functions: list[str], out) -> list[str]:
    """Delete the function versions that neither the state machine nor any
    of its `kept` versions (list_versions' entries) calls. The stack keeps
    every version it publishes (`Retain`), so that rollback finds the old
    code; this bounds them to what a rollback can reach."""
    called = set(_FUNCTION_VERSION.findall(sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"]))
    for version in kept:
        called |= set(_FUNCTION_VERSION.findall(version["definition"]))
    deleted = []
    for function in functions:
        for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=function):
            for version in page["Versions"]:
                arn = version["FunctionArn"]
                if version["Version"] == "$LATEST" or arn in called:
                    continue
                try:
                    lam.delete_function(FunctionName=function, Qualifier=version["Version"])
                    deleted.append(arn)
                except ClientError as exc:
                    out(f"could not delete function version {arn}: {exc}")
    if deleted:
        out(f"deleted {len(deleted)} function version(s) no kept state machine version calls")
    return deleted


# ---- the whole deploy --------------------------------------------------------------

def deploy(session, config: DeployConfig, out: Callable[[str], None] = print, poll: float = 2.0) -> Deployment:
    account = account_id(session)
    s3 = session.client("s3")
    # Before anything is created: a mirror of another region's bucket would never fire.
    check_mirror_regions(s3, config)
    check_datasync_regions(s3, config)   # and a DataSync task needs one end in REGION
    cfn = session.client("cloudformation")
    sfn = session.client("stepfunctions")
    bucket = artifacts_bucket(config, account)
    ensure_bucket(s3, bucket, config.region, out)
    data = package.build()
    key, uploaded = upload_code(s3, bucket, data)
    out(f"code package {key} {'uploaded' if uploaded else 'unchanged (already uploaded)'}")
    names = template.Names(config, account)
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
