"""Creating or updating the stack through a change set, printing its
events as they happen."""
from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timezone

from ..project.config import DeployConfig
from ..errors import DeployError
from .stack_state import TERMINAL_BAD, TERMINAL_OK, events, stack_status, wait_for_status

# NAMED_IAM: the DataSync tasks' roles have names a partner's bucket policy
# can name before the stack exists (datasync_template.role_name).
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
MAX_TEMPLATE_BODY = 51_200


def apply_stack(cfn, s3, config: DeployConfig, body: dict, bucket: str, out, poll: float = 2.0) -> str:
    """Create or update the stack through a change set, printing its events
    as they happen. Returns "created", "updated" or "no changes"."""
    name = config.stack_name
    status = _ready_status(cfn, name, out, poll)
    source = template_source(s3, bucket, body)
    change_set = f"bucketsync-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    kind = "CREATE" if status is None else "UPDATE"
    seen = {e["EventId"] for e in events(cfn, name)} if status else set()
    cfn.create_change_set(StackName=name, ChangeSetName=change_set, ChangeSetType=kind, Capabilities=CAPABILITIES,
                          Tags=[{"Key": k, "Value": v} for k, v in sorted(config.tags.items())], **source)
    described = _wait_for_change_set(cfn, name, change_set, poll)
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
        failures = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in events(cfn, name)
                    if e["ResourceStatus"].endswith("FAILED")]
        raise DeployError(f"stack {name} ended in {final}: {'; '.join(failures[:5]) or 'see its events'}")
    return "created" if kind == "CREATE" else "updated"


def _ready_status(cfn, name: str, out, poll: float) -> str | None:
    """The stack's status once a change set can be made for it (None: no
    stack); DeployError while it is busy."""
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
    return status


def template_source(s3, bucket: str, body: dict) -> dict:
    """The template as CreateChangeSet takes it: in the request, or, above
    MAX_TEMPLATE_BODY, uploaded to the artifacts bucket and named by a
    presigned URL."""
    text = json.dumps(body, sort_keys=True)
    if len(text) <= MAX_TEMPLATE_BODY:
        return {"TemplateBody": text}
    key = f"templates/{hashlib.sha256(text.encode()).hexdigest()}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    return {"TemplateURL": s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})}


def _wait_for_change_set(cfn, name: str, change_set: str, poll: float) -> dict:
    while True:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        time.sleep(poll)
