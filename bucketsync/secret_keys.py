"""Access key pairs kept in AWS Secrets Manager, for endpoints whose
credentials are not the functions' own (endpoints.Endpoint.secret).

The secret's value is a JSON object: {"access_key_id": "...",
"secret_access_key": "..."} (optionally "session_token"; the AWS-style names
aws_access_key_id/aws_secret_access_key and AccessKeyId/SecretAccessKey are
accepted too). It is read at run time with GetSecretValue
(`secretsmanager:GetSecretValue` on the secret; `kms:Decrypt` too when a
customer managed key encrypts it), held in this process's memory for a few
minutes, and handed only to the S3 client that needs it: never to the
environment, the state machine's state, a log line, a report or an error
message (errors name the secret, never its value).
"""
from __future__ import annotations

import json
import logging
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .errors import CredentialsError

TTL_SECONDS = 600
_NAMES = (("access_key_id", "secret_access_key", "session_token"),
          ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"),
          ("AccessKeyId", "SecretAccessKey", "SessionToken"))
_lock = threading.Lock()
_cache: dict[str, tuple[float, dict]] = {}


class _NoSecretValues(logging.Filter):
    """botocore logs whole response bodies at DEBUG ("Response body: ..."),
    a GetSecretValue answer included: such records are dropped, so turning
    on debug logging never writes a key pair into a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:   # noqa: BLE001 - a record that cannot format is not ours to judge
            return True
        lowered = text.lower()
        return not any(mark in lowered for mark in ("secretstring", "secretbinary", "x-amz-security-token"))


for _name in ("botocore.parsers", "botocore.endpoint", "botocore.hooks", "botocore.auth", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_NoSecretValues())


def epoch(now=time.time) -> int:
    """Changes every TTL_SECONDS: clients made from a secret are remade then."""
    return int(now() // TTL_SECONDS)


def forget() -> None:
    with _lock:
        _cache.clear()


def access_keys(session, secret_id: str) -> dict:
    """boto3 client keyword arguments (aws_access_key_id, ...) from the secret.
    Raises CredentialsError naming the secret and the problem."""
    with _lock:
        cached = _cache.get(secret_id)
        if cached and cached[0] > time.monotonic():
            return dict(cached[1])
    keys = parse(_read(session, secret_id), secret_id)
    with _lock:
        _cache[secret_id] = (time.monotonic() + TTL_SECONDS, keys)
    return dict(keys)


def _read(session, secret_id: str) -> str:
    region = secret_id.split(":")[3] if secret_id.startswith("arn:") else None
    client = session.client("secretsmanager", **({"region_name": region} if region else {}))
    try:
        response = client.get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        why = {"ResourceNotFoundException": f"no such secret in {client.meta.region_name}",
               "AccessDeniedException": "access denied (the role needs secretsmanager:GetSecretValue on it, "
                                        "and kms:Decrypt on its key if that is a customer managed key)",
               "DecryptionFailure": "Secrets Manager cannot decrypt it with its KMS key",
               "InvalidRequestException": "it is scheduled for deletion or otherwise unusable"}.get(code, code)
        raise CredentialsError(f"cannot read secret {secret_id!r}: {why}") from None
    except NoCredentialsError:
        raise CredentialsError(f"cannot read secret {secret_id!r}: no AWS credentials to call Secrets Manager") from None
    except BotoCoreError as exc:
        raise CredentialsError(f"cannot read secret {secret_id!r}: {type(exc).__name__}") from None
    if "SecretString" not in response:
        raise CredentialsError(f"secret {secret_id!r} holds binary data: store the key pair as a JSON string")
    return response["SecretString"]


def parse(text: str, secret_id: str) -> dict:
    """The key pair in a secret's string. Error messages never quote it."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        for key_id, secret_key, token in _NAMES:
            if isinstance(value.get(key_id), str) and isinstance(value.get(secret_key), str) \
                    and value[key_id] and value[secret_key]:
                keys = {"aws_access_key_id": value[key_id], "aws_secret_access_key": value[secret_key]}
                if isinstance(value.get(token), str) and value[token]:
                    keys["aws_session_token"] = value[token]
                return keys
    # `from None` everywhere: a traceback must not carry the secret's text.
    raise CredentialsError(f"secret {secret_id!r} is not a JSON object with \"access_key_id\" and "
                           f"\"secret_access_key\" (strings)")
