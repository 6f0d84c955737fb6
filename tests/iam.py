"""The rights contract: every AWS call a handler makes, checked against the
role the generated template gives that very function, as AWS would
authorise it. moto enforces no IAM, so the calls are recorded (with the
function that made them, see handlers.INVOKED) and each is turned into the
IAM actions and resource ARNs AWS documents for it, which a real policy
evaluator (moto's) then checks against the rendered policy.

AWS rules encoded here that moto never applies:
- a GET or HEAD of a missing key answers 404 only with s3:ListBucket on the
  bucket (else 403: "read it if it exists" needs `list`);
- CopyObject reads the source (s3:GetObject) and writes the destination
  (s3:PutObject), and with TaggingDirective COPY reads and writes tags; a
  missing source answers 404 only with s3:ListBucket on the source bucket;
  UploadPartCopy reads the source too;
- a write that carries tags (Tagging) needs s3:PutObjectTagging;
- DeleteObjects is authorised per key (s3:DeleteObject), and a per-key ETag
  condition also needs s3:GetObject;
- GetObject answers x-amz-tagging-count only with s3:GetObjectTagging (we
  rely on it where IfMatch marks a metadata read).
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from urllib.parse import unquote

from moto.iam.access_control import IAMPolicy, PermissionResult

from bucketsync import clients
from bucketsync.local import datasync as local_datasync
from bucketsync.local.handlers import INVOKED
from bucketsync.s3 import crt as s3_crt

WORK = "WORK-BUCKET"   # the work bucket's name in rendered policies and recorded calls


@dataclass(frozen=True)
class Call:
    function: str
    service: str
    operation: str
    params: dict
    status: int

    def __hash__(self):
        return hash((self.function, self.operation, json.dumps(self.params, sort_keys=True, default=str)))


@contextlib.contextmanager
def recording():
    """Record every AWS call made by a handler (anything else, such as the
    local engine setting up its scratch area, is not a function's call),
    whichever transport makes it (botocore's hooks, the CRT's CALL_HOOKS)."""
    calls: list[Call] = []

    def params(params, context, **_):
        context["bucketsync_params"] = dict(params)

    def after(http_response, model, context, **_):
        function = INVOKED.get()
        if function is not None:
            calls.append(Call(function, model.service_model.service_name, model.name,
                              context.get("bucketsync_params", {}), http_response.status_code))

    def crt(operation, params, status):   # the S3 calls the CRT transport makes (s3/crt.py)
        function = INVOKED.get()
        if function is not None:
            calls.append(Call(function, "s3", operation, dict(params), status))

    def datasync(operation, params, status):   # the local DataSync stands in for AWS's
        function = INVOKED.get()
        if function is not None:
            calls.append(Call(function, "datasync", operation, dict(params), status))

    clients.add_hook("before-parameter-build", params)
    clients.add_hook("after-call", after)
    local_datasync.CALL_HOOKS.append(datasync)
    s3_crt.CALL_HOOKS.append(crt)
    try:
        yield calls
    finally:
        s3_crt.CALL_HOOKS.remove(crt)
        clients.remove_hook("before-parameter-build", params)
        clients.remove_hook("after-call", after)
        local_datasync.CALL_HOOKS.remove(datasync)


def _bucket(name: str, work_buckets: set[str]) -> str:
    return f"arn:aws:s3:::{WORK if name in work_buckets else name}"


# Calls that AWS authorises by one action on the bucket, or on the object.
BUCKET_ACTIONS = {"ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket", "HeadBucket": "s3:ListBucket",
                  "GetBucketLocation": "s3:GetBucketLocation", "GetBucketEncryption": "s3:GetEncryptionConfiguration",
                  "ListMultipartUploads": "s3:ListBucketMultipartUploads"}
OBJECT_ACTIONS = {"GetObjectTagging": "s3:GetObjectTagging", "PutObjectTagging": "s3:PutObjectTagging",
                  "DeleteObjectTagging": "s3:DeleteObjectTagging", "UploadPart": "s3:PutObject",
                  "CompleteMultipartUpload": "s3:PutObject", "AbortMultipartUpload": "s3:AbortMultipartUpload",
                  "DeleteObject": "s3:DeleteObject"}


def needs(call: Call, work_buckets: set[str]) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs AWS checks for this call."""
    p = call.params
    if call.service == "sns":
        return [("sns:Publish", p.get("TopicArn") or p.get("TargetArn"))]
    if call.service == "datasync":   # list_awsdatasync.html: task, taskexecution, or no resource type
        if call.operation in ("StartTaskExecution", "DescribeTask"):
            return [(f"datasync:{call.operation}", p["TaskArn"])]
        if call.operation == "DescribeTaskExecution":
            return [("datasync:DescribeTaskExecution", p["TaskExecutionArn"])]
        if call.operation == "ListTaskExecutions":
            return [("datasync:ListTaskExecutions", "*")]
        raise AssertionError(f"{call.function} called datasync.{call.operation}, which the contract does not know")
    if call.service == "secretsmanager" and call.operation == "GetSecretValue":
        # A secret's ARN ends with "-" and 6 random characters Secrets Manager adds.
        secret = p["SecretId"]
        return [("secretsmanager:GetSecretValue", secret if secret.startswith("arn:")
                 else f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{secret}-Ab12Cd")]
    if call.service != "s3":
        raise AssertionError(f"{call.function} called {call.service}.{call.operation}, which the contract does not know")
    bucket = _bucket(p["Bucket"], work_buckets)
    obj = f"{bucket}/{p.get('Key')}"
    op = call.operation
    if op in BUCKET_ACTIONS:
        return [(BUCKET_ACTIONS[op], bucket)]
    if op in OBJECT_ACTIONS:
        return [(OBJECT_ACTIONS[op], obj)]
    if op in ("GetObject", "HeadObject"):
        out = [("s3:GetObject", obj)]
        if call.status == 404:
            out.append(("s3:ListBucket", bucket))
        if op == "GetObject" and "IfMatch" in p:
            out.append(("s3:GetObjectTagging", obj))
        return out
    if op in ("PutObject", "CreateMultipartUpload"):
        out = [("s3:PutObject", obj)]
        if p.get("Tagging"):
            out.append(("s3:PutObjectTagging", obj))
        return out
    if op in ("CopyObject", "UploadPartCopy"):
        source = p["CopySource"]
        if isinstance(source, str):   # boto3 may have quoted it into "bucket/key" already
            bucket_name, _, key = unquote(source.split("?versionId=")[0]).lstrip("/").partition("/")
            source = {"Bucket": bucket_name, "Key": key}
        src = f"{_bucket(source['Bucket'], work_buckets)}/{source['Key']}"
        out = [("s3:GetObject", src), ("s3:PutObject", obj)]
        if call.status == 404:   # a missing source is a 404 only with ListBucket on its bucket
            out.append(("s3:ListBucket", _bucket(source["Bucket"], work_buckets)))
        if op == "CopyObject" and p.get("TaggingDirective", "COPY") == "COPY":
            out += [("s3:GetObjectTagging", src), ("s3:PutObjectTagging", obj)]
        return out
    if op == "DeleteObjects":
        out = []
        for item in p["Delete"]["Objects"]:
            out.append(("s3:DeleteObject", f"{bucket}/{item['Key']}"))
            if item.get("ETag"):
                out.append(("s3:GetObject", f"{bucket}/{item['Key']}"))
        return out
    raise AssertionError(f"{call.function} called s3.{op}, which the contract does not know")


def resolve(node, values: dict):
    """A rendered policy with the template's intrinsic functions filled in."""
    if isinstance(node, list):
        return [resolve(item, values) for item in node]
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return values[node["Ref"]]
        if set(node) == {"Fn::GetAtt"}:
            return values[".".join(node["Fn::GetAtt"])]
        if set(node) == {"Fn::Sub"}:
            text = node["Fn::Sub"]
            for name, value in values.items():
                text = text.replace("${" + name + "}", value)
            return text
        return {key: resolve(value, values) for key, value in node.items()}
    return node


def role_policies(template: dict, values: dict) -> dict[str, list[dict]]:
    """{logical role name: [policy documents]} with intrinsics resolved."""
    return {name: [resolve(p["PolicyDocument"], values) for p in r["Properties"].get("Policies", ())]
            for name, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}


def allowed(documents: list[dict], action: str, resource: str, context: dict | None = None) -> bool:
    """Whether identity policies allow it (an explicit deny wins)."""
    # IAM's "?" matches one character; moto's matcher passes it to a regular
    # expression as is, so it is given as "." (one character) there.
    results = [IAMPolicy(json.dumps(d).replace("?", ".")).is_action_permitted(
        action, resource, incoming_condition_values=context) for d in documents]
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


def without(documents: list[dict], action: str) -> list[dict]:
    """The documents with `action` taken out of every statement."""
    out = []
    for document in documents:
        statements = []
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            kept = [a for a in actions if a != action]
            if kept:
                statements.append(dict(statement, Action=kept))
        out.append(dict(document, Statement=statements))
    return out
