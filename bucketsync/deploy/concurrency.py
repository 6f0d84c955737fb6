"""MAP_CONCURRENCY and LAMBDA_CONCURRENCY against the Lambda concurrency the
account really has. New accounts get reduced quotas (10 or 50 concurrent
executions, not 1,000): a Distributed Map running 40 chunks at once there
would be throttled, and chunks that stay throttled past their retries fail.

Lambda's rules (GetAccountSettings, PutFunctionConcurrency): reserved
concurrency must leave at least 100 executions unreserved (on an account
whose whole quota is 100 or less, none can be reserved); unreserved
concurrency is shared by every function of the account and region."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from .config import DeployConfig
from .errors import ConcurrencyError

MIN_UNRESERVED = 100


@dataclass(frozen=True)
class Account:
    total: int          # AccountLimit.ConcurrentExecutions
    unreserved: int     # AccountLimit.UnreservedConcurrentExecutions
    reserved_now: int   # what the copy function has reserved today (a redeploy frees it)


def reconcile(map_concurrency: int, lambda_concurrency: int | None, account: Account) -> tuple[int, str | None]:
    """(the Map concurrency to deploy, a sentence for the user or None).
    Raises ConcurrencyError when the reservation is impossible."""
    if lambda_concurrency is not None:
        free = account.unreserved + account.reserved_now - MIN_UNRESERVED
        if lambda_concurrency > free:
            raise ConcurrencyError(
                f"LAMBDA_CONCURRENCY {lambda_concurrency} cannot be reserved: the account's Lambda concurrency is "
                f"{account.total}, {account.unreserved + account.reserved_now} of it unreserved, and Lambda keeps "
                f"{MIN_UNRESERVED} unreserved; set LAMBDA_CONCURRENCY to at most {max(free, 0)} or to None "
                f"(or ask AWS for a higher concurrency quota)")
        if map_concurrency > lambda_concurrency:
            return lambda_concurrency, (f"MAP_CONCURRENCY {map_concurrency} lowered to {lambda_concurrency}: the copy "
                                        f"function may run only LAMBDA_CONCURRENCY {lambda_concurrency} at once")
        return map_concurrency, None
    # The shared pool: leave one execution for the state machine's other steps.
    usable = max(1, account.unreserved + account.reserved_now - 1)
    if map_concurrency > usable:
        return usable, (f"MAP_CONCURRENCY {map_concurrency} lowered to {usable}: the account's unreserved Lambda "
                        f"concurrency is {account.unreserved + account.reserved_now} (quota {account.total}); ask AWS "
                        f"for a higher quota to run more chunks at once")
    return map_concurrency, None


def account(lam, copy_function: str) -> Account | None:
    """The account's Lambda concurrency, or None when it cannot be read
    (lambda:GetAccountSettings denied, or an emulator without it)."""
    try:
        limits = lam.get_account_settings()["AccountLimit"]
    except (ClientError, BotoCoreError, KeyError):
        return None
    try:
        reserved = lam.get_function_concurrency(FunctionName=copy_function).get("ReservedConcurrentExecutions") or 0
    except ClientError:   # not deployed yet
        reserved = 0
    return Account(int(limits["ConcurrentExecutions"]), int(limits["UnreservedConcurrentExecutions"]), int(reserved))


def apply(lam, config: DeployConfig, copy_function: str, out) -> DeployConfig:
    """The config with MAP_CONCURRENCY that this account can run; the user is told of any change."""
    found = account(lam, copy_function)
    if found is None:
        out(f"could not read the account's Lambda concurrency (lambda:GetAccountSettings): MAP_CONCURRENCY "
            f"{config.map_concurrency} is used as configured")
        return config
    wanted, note = reconcile(config.map_concurrency, config.lambda_concurrency, found)
    if note:
        out(note)
    return dataclasses.replace(config, map_concurrency=wanted)
