"""How one S3 call is made: its `ClientError` becomes one of the project's
errors, raised `from` it; a conditional request's failures are told apart;
transient failures are retried."""
from __future__ import annotations

import contextlib
import random
import time

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ParamValidationError

from .. import errors, interrupt

_THROTTLE = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
             "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "503", "500"}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# The server refused the credentials, not an action (S3 error codes).
CREDENTIAL_CODES = {
    "InvalidAccessKeyId": "the access key ID does not exist on this server",
    "SignatureDoesNotMatch": "the secret key does not match the access key ID",
    "ExpiredToken": "the session token has expired: refresh your credentials",
    "TokenRefreshRequired": "the session token must be refreshed",
    "InvalidToken": "the session token is malformed or invalid",
    "InvalidSecurity": "the security credentials are invalid",
}


def translate(exc: ClientError, what: str) -> errors.BucketsyncError:
    code = error_code(exc)
    message = exc.response.get("Error", {}).get("Message", "") or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    text = f"{what}: {code or status}: {message}"
    if code in CREDENTIAL_CODES:
        return errors.CredentialsError(f"credentials refused ({code}): {CREDENTIAL_CODES[code]}; {what}")
    if code == "NoSuchBucket":
        return errors.NoSuchBucketError(text)
    if code in ("NoSuchKey", "404", "NotFound"):
        return errors.NoSuchKeyError(text)
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled", "AccountProblem"):
        return errors.AccessDeniedError(text)
    if code in ("PreconditionFailed", "412") or status == 412:
        return errors.SourceChangedError(text)
    if code in _THROTTLE or status >= 500:
        return errors.TransientError(text)
    return errors.S3Error(text, code or str(status))


@contextlib.contextmanager
def _call(what: str):
    try:
        yield
    except ClientError as exc:
        raise translate(exc, what) from exc
    except NoCredentialsError as exc:
        raise errors.CredentialsError(f"{what}: no credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)") from exc
    except ParamValidationError as exc:   # never succeeds on a retry (e.g. non-ASCII metadata for boto3)
        raise errors.S3Error(f"{what}: {exc}", "ParamValidation") from exc
    except BotoCoreError as exc:   # connection errors that outlasted retries
        raise errors.TransientError(f"{what}: {exc}") from exc


def retrying(operation, seconds: float, sleep=time.sleep, now=time.monotonic):
    """`operation()`, called again after a TransientError (throttling, 5xx,
    broken connections that outlasted the client's own retries) with
    exponential backoff until `seconds` have passed: long enough to ride out
    an outage of a minute. A run asked to stop stops retrying."""
    deadline = now() + seconds
    delay = 1.0
    while True:
        try:
            return operation()
        except errors.TransientError:
            if now() + delay > deadline or interrupt.requested():
                raise
            sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 15.0)


# Answers of servers that do not implement conditional writes.
_NOT_IMPLEMENTED = {"NotImplemented", "501", "InvalidArgument", "InvalidRequest"}


@contextlib.contextmanager
def _conditional(what: str, key: str, condition: dict | None, destination_only: bool = False):
    """Errors of a request that may carry a destination condition.

    A failed destination condition is DestinationChangedError (412; or 409
    ConditionalRequestConflict: written or deleted meanwhile); a server that
    does not implement the condition raises errors.PreconditionsUnsupportedError. AWS
    names the failed condition in the error's `Condition`; a 412 that names
    none (other servers) stays SourceChangedError, and the copier tells the
    two apart by re-reading the source. A request with no source
    (`destination_only`: PutObject, CompleteMultipartUpload) has every 412
    for the destination."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        named = str(exc.response.get("Error", {}).get("Condition", "")).lower()
        if condition and (code == "ConditionalRequestConflict" or status == 409
                          or (status == 412 and named in ("if-match", "if-none-match"))):
            raise errors.DestinationChangedError(f"{key} is no longer as planned ({code or status})") from exc
        if condition and (status == 501 or code in _NOT_IMPLEMENTED):
            raise errors.PreconditionsUnsupportedError(f"{what}: {code or status}") from exc
        translated = translate(exc, what)
        if destination_only and isinstance(translated, errors.SourceChangedError):
            raise errors.DestinationChangedError(f"{key} is no longer as planned ({translated})") from exc
        raise translated from exc
    except NoCredentialsError as exc:
        raise errors.CredentialsError(f"{what}: no credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)") from exc
    except ParamValidationError as exc:
        raise errors.S3Error(f"{what}: {exc}", "ParamValidation") from exc
    except BotoCoreError as exc:
        raise errors.TransientError(f"{what}: {exc}") from exc
