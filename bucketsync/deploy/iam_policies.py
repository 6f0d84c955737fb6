"""IAM statements of the stack's roles: what a function's front matter
`Access` grants (on the configured buckets and the stack's own work bucket
only), Secrets Manager and KMS use, and the trust of a service's role."""
from __future__ import annotations

import re

from . import datasync_template
from ..project.config import DeployConfig
from ..project.frontmatter import LambdaFile
from .notifications_template import topic_key_statements, topic_ref
from .stack_names import Names

S3_RIGHTS = {   # right -> (bucket-level actions, object-level actions)
    "list": (["s3:ListBucket"], []),   # also what turns a GET/HEAD of a missing key into 404, not 403
    "read": ([], ["s3:GetObject"]),
    "tags": ([], ["s3:GetObjectTagging"]),
    "write": ([], ["s3:PutObject"]),
    "retag": ([], ["s3:PutObjectTagging", "s3:DeleteObjectTagging"]),   # writes that carry or change tags
    # Aborting a failed copy's upload, and uploads of the key an earlier run left.
    "multipart": (["s3:ListBucketMultipartUploads"], ["s3:AbortMultipartUpload"]),
    "abort": ([], ["s3:AbortMultipartUpload"]),   # a failed copy's upload only (the mirror: no lease, no sweep)
    "tagged": ([], ["s3:PutObjectTagging"]),   # writes that carry the source's tags, never a tag change alone
    "delete": ([], ["s3:DeleteObject"]),
    # The bucket's default encryption (GetBucketEncryption): SSE-KMS decides
    # that copies carry the stamp from the start (copy/stamping.py).
    "encryption": (["s3:GetEncryptionConfiguration"], []),
}


# SSE-KMS objects: what S3 asks KMS for, on the caller's behalf, for a
# function that reads object content (`decrypt`) or writes it (`encrypt`:
# a data key, which multipart writes also decrypt: UploadPartCopy,
# CompleteMultipartUpload). Conditional deletes read no content: no KMS.
KMS_RIGHTS = {
    "decrypt": ("kms:Decrypt",),
    "encrypt": ("kms:GenerateDataKey", "kms:Decrypt"),
}


def assume_role(service: str, condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def work_bucket_arn(objects: bool):
    return {"Fn::Sub": "${WorkBucket.Arn}/*"} if objects else {"Fn::GetAtt": ["WorkBucket", "Arn"]}


def access_statements(file: LambdaFile, config: DeployConfig, names: Names) -> list[dict]:
    """IAM statements for a function's front matter `Access`."""
    statements = []
    kms_actions: set[str] = set()
    buckets = {"source": config.source_buckets, "destination": config.destination_buckets}
    for target, rights in (file.front_matter.get("Access") or {}).items():
        if target == "notifications":
            topic = topic_ref(config)
            if topic:
                statements.append({"Effect": "Allow", "Action": ["sns:Publish"], "Resource": topic})
                statements += topic_key_statements(config)
            continue
        if target == "datasync":
            statements += datasync_template.function_statements(rights, config.datasync_tasks, names)
            continue
        if target == "secrets":
            statements += secret_statements(config, names)
            continue
        bucket_actions = sorted({a for r in rights if r in S3_RIGHTS for a in S3_RIGHTS[r][0]})
        object_actions = sorted({a for r in rights if r in S3_RIGHTS for a in S3_RIGHTS[r][1]})
        if target == "work":   # SSE-S3: no KMS key
            bucket_res, object_res = [work_bucket_arn(False)], [work_bucket_arn(True)]
        else:
            bucket_res = [names.bucket_arn(b) for b in buckets[target]]
            object_res = [names.bucket_arn(b) + "/*" for b in buckets[target]]
        if bucket_actions:
            statements.append({"Effect": "Allow", "Action": bucket_actions, "Resource": bucket_res})
        if object_actions:
            statements.append({"Effect": "Allow", "Action": object_actions, "Resource": object_res})
        kms_actions |= {a for r in rights for a in KMS_RIGHTS.get(r, ())}
    statements += kms_statements(sorted(kms_actions), config.kms_key_arns)
    return statements


def secret_arn(secret: str, names: Names) -> str:
    """The ARN that grants exactly this secret: as given, or for a name, its
    ARN with the 6 random characters Secrets Manager appends (`-??????`, the
    form AWS's IAM guide for Secrets Manager gives for a name)."""
    if secret.startswith("arn:"):
        # A complete ARN ends with "-" and 6 characters; a partial one (which
        # GetSecretValue accepts) would match no real ARN in IAM.
        return secret if re.search(r"-[A-Za-z0-9]{6}$", secret) else f"{secret}-??????"
    return names.arn("secretsmanager", f"secret:{secret}-??????")


def secret_statements(config: DeployConfig, names: Names) -> list[dict]:
    """GetSecretValue on exactly ENDPOINT_SECRETS; kms:Decrypt on KMS_KEY_ARNS
    through Secrets Manager only (a secret under a customer managed key)."""
    if not config.endpoint_secrets:
        return []
    statements = [{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                   "Resource": sorted(secret_arn(s, names) for s in config.endpoint_secrets)}]
    by_region: dict[str, list[str]] = {}
    for key in config.kms_key_arns:
        by_region.setdefault(key.split(":")[3], []).append(key)
    statements += [{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": sorted(arns),
                    "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}}
                   for region, arns in sorted(by_region.items())]
    return statements


def kms_statements(actions: list[str], keys) -> list[dict]:
    """KMS use only through S3 in each key's own region (a bucket's key
    lives in the bucket's region; S3 calls KMS on the caller's behalf)."""
    if not actions or not keys:
        return []
    by_region: dict[str, list[str]] = {}
    for key in keys:
        by_region.setdefault(key.split(":")[3], []).append(key)
    # AWS documents the ViaService value as s3.REGION.amazonaws.com in every partition.
    return [{"Effect": "Allow", "Action": actions, "Resource": sorted(arns),
             "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}}
            for region, arns in sorted(by_region.items())]
