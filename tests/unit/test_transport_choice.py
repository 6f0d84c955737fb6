"""Where the CRT transport steps aside for boto3 (clients._crt_client):
what botocore does per request and awscrt 0.38's S3Client cannot."""
import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from bucketsync import clients
from bucketsync.s3.crt import CrtClient


def client(**config):
    return boto3.client("s3", region_name="us-east-1", aws_access_key_id="AKIAEXAMPLEKEY12",
                        aws_secret_access_key="secret", config=Config(**config))


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in clients._PROXY_VARIABLES + ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_a_plain_aws_client_goes_by_the_crt():
    assert isinstance(clients._crt_client(client(), 4), CrtClient)


@pytest.mark.parametrize("config", [{"use_fips_endpoint": True}, {"use_dualstack_endpoint": True},
                                    {"s3": {"use_accelerate_endpoint": True}}, {"signature_version": UNSIGNED}])
def test_per_request_endpoints_and_unsigned_requests_stay_with_boto3(config):
    made = client(**config)
    assert clients._crt_client(made, 4) is made


def test_a_proxy_keeps_boto3_unless_the_host_bypasses_it(monkeypatch):
    made = client()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert clients._crt_client(made, 4) is made
    monkeypatch.setenv("NO_PROXY", "amazonaws.com")
    assert isinstance(clients._crt_client(client(), 4), CrtClient)
