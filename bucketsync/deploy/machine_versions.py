"""The state machine's published versions and its `live` alias: publish
when the definition or the code changed, move the alias, roll back, and
prune the versions (and function versions) no rollback can reach."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from botocore.exceptions import ClientError

from ..s3 import error_code
from ..errors import DeployError
from .stack_names import ALIAS

_DESCRIPTION = re.compile(r"code (?P<code>[0-9a-f]+) definition (?P<definition>[0-9a-f]+)")


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
    alias_arn = f"{machine_arn}:{ALIAS}"
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
    out(f"published version {version.rsplit(':', 1)[-1]} ({wanted}); alias {ALIAS} -> it")
    return version, True


def move_alias(sfn, machine_arn: str, version_arn: str) -> None:
    alias_arn = f"{machine_arn}:{ALIAS}"
    routing = [{"stateMachineVersionArn": version_arn, "weight": 100}]
    if alias_target(sfn, alias_arn) is None:
        sfn.create_state_machine_alias(name=ALIAS, routingConfiguration=routing,
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
        current = alias_target(sfn, f"{machine_arn}:{ALIAS}")
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
    current = alias_target(sfn, f"{machine_arn}:{ALIAS}")
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
    out(f"alias {ALIAS} -> version {target['number']} ({target['description']})")
    return target["arn"]


def prune_versions(sfn, machine_arn: str, keep: int, out, versions: list[dict] | None = None) -> list[str]:
    """Delete versions beyond the newest `keep`, never the alias's.
    `versions`: list_versions' answer, when the caller has it already."""
    current = alias_target(sfn, f"{machine_arn}:{ALIAS}")
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
        for version in _function_versions(lam, function):
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


def _function_versions(lam, function: str):
    """The function's versions; none when it does not exist (AWS answers
    ListVersionsByFunction with ResourceNotFoundException, 404): a function
    this stack no longer has has nothing left to prune."""
    try:
        for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=function):
            yield from page["Versions"]
    except ClientError as exc:
        if error_code(exc) not in ("ResourceNotFoundException", "ResourceNotFound"):
            raise

