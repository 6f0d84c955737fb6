"""The local engine's routing decision for real AWS buckets: requests for the
user's two buckets pass through moto to AWS, everything else (the scratch
bucket, the interpreter) stays in memory."""
import pytest
from moto.core import config as moto_config

from bucketsync.local.emulator import aws_passthrough_urls, moto_config as engine_config


@pytest.fixture
def passthrough():
    saved = moto_config.default_user_config["core"]["passthrough"]["urls"]
    moto_config.default_user_config["core"]["passthrough"]["urls"] = aws_passthrough_urls(["my-data", "my.dotted.bucket"])
    yield moto_config.passthrough_url
    moto_config.default_user_config["core"]["passthrough"]["urls"] = saved


@pytest.mark.parametrize("url, real", [
    ("https://my-data.s3.amazonaws.com/photos/a.jpg", True),
    ("https://my-data.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=", True),
    ("https://my-data.s3.us-east-1.amazonaws.com", True),
    ("https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/key", True),
    ("https://s3.amazonaws.com/my-data?location", True),
    ("https://my-data.s3.cn-north-1.amazonaws.com.cn/k", True),
    ("https://bucketsync-scratch-abc.s3.amazonaws.com/runs/x", False),
    ("https://s3.amazonaws.com/bucketsync-scratch-abc/runs/x", False),
    ("https://my-data-2.s3.amazonaws.com/k", False),
    ("https://s3.amazonaws.com/my-data-2/k", False),
    ("https://states.us-east-1.amazonaws.com/", False),
    ("https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/x/invocations", False),
    ("https://evil.example.com/my-data.s3.amazonaws.com/", False),
])
def test_only_the_users_buckets_pass_through(passthrough, url, real):
    assert passthrough(url) is real


def test_real_runs_keep_the_users_credentials():
    assert engine_config(real_credentials=True)["core"]["mock_credentials"] is False
    assert engine_config()["core"]["mock_credentials"] is True
