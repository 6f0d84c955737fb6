"""MAP_CONCURRENCY and LAMBDA_CONCURRENCY reconciled with the account's Lambda
concurrency (new accounts get reduced quotas)."""
import pytest
from botocore.exceptions import ClientError

from bucketsync.deploy import concurrency
from bucketsync.project.config import DeployConfig
from bucketsync.errors import ConcurrencyError, DeployError

FULL = concurrency.Account(total=1000, unreserved=1000, reserved_now=0)
NEW_ACCOUNT = concurrency.Account(total=10, unreserved=10, reserved_now=0)


def test_a_full_quota_changes_nothing():
    assert concurrency.reconcile(40, None, FULL) == (40, None)
    assert concurrency.reconcile(40, 50, FULL) == (40, None)


def test_a_reduced_quota_lowers_the_map_concurrency_and_says_why():
    wanted, note = concurrency.reconcile(40, None, NEW_ACCOUNT)
    assert wanted == 9 and "MAP_CONCURRENCY 40 lowered to 9" in note and "quota 10" in note


def test_the_map_never_runs_more_chunks_than_the_copy_function_may():
    wanted, note = concurrency.reconcile(40, 20, FULL)
    assert wanted == 20 and "LAMBDA_CONCURRENCY 20" in note


def test_a_reservation_must_leave_100_unreserved():
    with pytest.raises(ConcurrencyError, match="at most 0"):
        concurrency.reconcile(5, 5, concurrency.Account(total=50, unreserved=50, reserved_now=0))
    with pytest.raises(ConcurrencyError, match="at most 850"):
        concurrency.reconcile(40, 900, concurrency.Account(total=1000, unreserved=950, reserved_now=0))
    # What the copy function already holds is freed by the redeploy.
    assert concurrency.reconcile(40, 900, concurrency.Account(total=1000, unreserved=100, reserved_now=900)) == (40, None)
    assert issubclass(ConcurrencyError, DeployError), "every fab task prints it as one line"


class Lambda:
    def __init__(self, settings=None, reserved=None):
        self.settings, self.reserved = settings, reserved

    def get_account_settings(self):
        if self.settings is None:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetAccountSettings")
        return {"AccountLimit": self.settings}

    def get_function_concurrency(self, FunctionName):
        if self.reserved is None:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "GetFunctionConcurrency")
        return {"ReservedConcurrentExecutions": self.reserved}


def test_apply_reads_the_account_and_tells_the_user():
    config = DeployConfig(region="eu-west-1", source_buckets=("a",), destination_buckets=("b",))
    lines = []
    lowered = concurrency.apply(Lambda({"ConcurrentExecutions": 20, "UnreservedConcurrentExecutions": 20}),
                                config, "bucketsync-copy-chunk", lines.append)
    assert lowered.map_concurrency == 19 and "lowered to 19" in lines[0]
    lines.clear()
    kept = concurrency.apply(Lambda(), config, "bucketsync-copy-chunk", lines.append)
    assert kept.map_concurrency == 40 and "lambda:GetAccountSettings" in lines[0]


def test_the_mirrors_maximum_is_counted_in_the_shared_pool():
    """The mirror's SQS event source runs up to MIRROR_CONCURRENCY functions
    from the unreserved pool: the Map gets what is left of it."""
    assert concurrency.reconcile(40, None, FULL, mirror=5) == (40, None)
    wanted, note = concurrency.reconcile(40, None, concurrency.Account(total=40, unreserved=40, reserved_now=0), 5)
    assert wanted == 34 and "MAP_CONCURRENCY 40 lowered to 34" in note and "MIRROR_CONCURRENCY 5" in note
    with pytest.raises(ConcurrencyError, match="MIRROR_CONCURRENCY 10 leaves nothing.*at most 8"):
        concurrency.reconcile(40, None, NEW_ACCOUNT, mirror=10)


def test_the_mirror_must_fit_beside_the_reservation():
    account = concurrency.Account(total=1000, unreserved=1000, reserved_now=0)
    assert concurrency.reconcile(40, 800, account, mirror=199) == (40, None)
    with pytest.raises(ConcurrencyError, match="MIRROR_CONCURRENCY 200 does not fit.*at most 199"):
        concurrency.reconcile(40, 800, account, mirror=200)


def test_apply_counts_the_mirror_only_when_there_are_mirrors():
    from bucketsync import mirror
    config = DeployConfig(region="eu-west-1", source_buckets=("a",), destination_buckets=("b",),
                          map_concurrency=40, mirror_concurrency=5)
    small = Lambda({"ConcurrentExecutions": 30, "UnreservedConcurrentExecutions": 30})
    assert concurrency.apply(small, config, "f", lambda _: None).map_concurrency == 29
    from bucketsync import endpoints
    entry = mirror.check_mirror({"name": "m", "source": "src-bucket", "destination": "dst-bucket"}, "m", endpoints.DEPLOYED)
    with_mirror = concurrency.apply(small, DeployConfig(**{**config.__dict__, "mirrors": (entry,)}), "f",
                                    lambda _: None)
    assert with_mirror.map_concurrency == 24
