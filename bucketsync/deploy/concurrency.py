"""MAP_CONCURRENCY, LAMBDA_CONCURRENCY and MIRROR_CONCURRENCY against the Lambda concurrency the
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

from ..errors import ConcurrencyError
from ..project.config import DeployConfig

MIN_UNRESERVED = 100


@dataclass(frozen=True)
class Account:
    total: int          # AccountLimit.ConcurrentExecutions
    unreserved: int     # AccountLimit.UnreservedConcurrentExecutions
    reserved_now: int   # what the copy function has reserved today (a redeploy frees it)


def reconcile(map_concurrency: int, lambda_concurrency: int | None, account: Account,
              mirror: int = 0) -> tuple[int, str | None]:
    """(the Map concurrency to deploy, a sentence for the user or None).
    `mirror`: the mirror function's MaximumConcurrency (0: no mirrors); it
    runs from the unreserved pool, alongside the Map when there is no
    LAMBDA_CONCURRENCY. Raises ConcurrencyError when the reservation, or
    the mirror's share, is impossible."""
    pool = account.unreserved + account.reserved_now   # unreserved once the copy function's reservation is freed
    if lambda_concurrency is not None:
        free = pool - MIN_UNRESERVED
        if lambda_concurrency > free:
            raise ConcurrencyError(
                f"LAMBDA_CONCURRENCY {lambda_concurrency} cannot be reserved: the account's Lambda concurrency is "
                f"{account.total}, {pool} of it unreserved, and Lambda keeps "
                f"{MIN_UNRESERVED} unreserved; set LAMBDA_CONCURRENCY to at most {max(free, 0)} or to None "
                f"(or ask AWS for a higher concurrency quota)")
        # The mirror shares what stays unreserved; one execution is left
        # for the state machine's other steps.
        left = pool - lambda_concurrency - 1
        if mirror > left:
            raise ConcurrencyError(
                f"MIRROR_CONCURRENCY {mirror} does not fit: with LAMBDA_CONCURRENCY {lambda_concurrency} reserved, "
                f"{pool - lambda_concurrency} of the account's Lambda concurrency stays unreserved for the mirror "
                f"and the other steps; set MIRROR_CONCURRENCY to at most {left} or lower LAMBDA_CONCURRENCY")
        if map_concurrency > lambda_concurrency:
            return lambda_concurrency, (f"MAP_CONCURRENCY {map_concurrency} lowered to {lambda_concurrency}: the copy "
                                        f"function may run only LAMBDA_CONCURRENCY {lambda_concurrency} at once")
        return map_concurrency, None
    # The shared pool: the mirror's maximum, then one execution for the
    # state machine's other steps, and the rest for the Map.
    usable = pool - 1 - mirror
    if usable < 1:
        raise ConcurrencyError(
            f"MIRROR_CONCURRENCY {mirror} leaves nothing for the copy Map: the account's unreserved Lambda "
            f"concurrency is {pool} (quota {account.total}); set MIRROR_CONCURRENCY to at most {max(pool - 2, 2)} "
            f"(or ask AWS for a higher quota)")
    if map_concurrency > usable:
        mirrored = f", less MIRROR_CONCURRENCY {mirror} for the mirror" if mirror else ""
        return usable, (f"MAP_CONCURRENCY {map_concurrency} lowered to {usable}: the account's unreserved Lambda "
                        f"concurrency is {pool} (quota {account.total}){mirrored}; ask AWS "
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
    mirror = config.mirror_concurrency if config.mirrors else 0
    wanted, note = reconcile(config.map_concurrency, config.lambda_concurrency, found, mirror)
    if note:
        out(note)
    return dataclasses.replace(config, map_concurrency=wanted)
