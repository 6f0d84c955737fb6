"""Endpoint inputs (bucketsync.endpoints): validation that never echoes a
credential, and the same-place rule that keeps a bucket from being synced
onto itself under another spelling."""
import pytest

from bucketsync import endpoints
from bucketsync.errors import InvalidInputError
from bucketsync.request import validate


@pytest.mark.parametrize("value,message", [
    ({"url": "https://AKIA:wJalrXUtnFEMI@s3.example.com"}, "must not carry credentials"),
    ({"url": "ftp://AKIA:wJalrXUtnFEMI@host"}, "must not carry credentials"),
    ({"secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCY EXAMPLEKEY"}, "not the key itself"),
    ({"url": "https://s3.example.com/bucket"}, "no path"),
    ({"region": "Not A Region"}, "not a region name"),
    ({"url": ""}, "non-empty string"),
    ({"token": "x"}, "unknown key"),
])
def test_bad_endpoints_are_refused_without_echoing_credentials(value, message):
    with pytest.raises(InvalidInputError, match=message) as caught:
        endpoints.parse(value, "source_endpoint")
    assert "wJalrXUtnFEMI" not in str(caught.value)


@pytest.mark.parametrize("a,b,same", [
    (None, "https://s3.us-east-1.amazonaws.com", True),
    ("http://127.0.0.1:8333", "http://127.0.0.1:8333/", True),
    ("https://S3.Example.com", "https://s3.example.com:443", True),
    ("https://s3.example.com", "https://s3.example.org", False),
    (None, "https://s3.example.com", False),
])
def test_same_place_sees_through_spellings(a, b, same):
    assert endpoints.same_place(endpoints.Endpoint(url=a), endpoints.Endpoint(url=b)) is same
    data = {"source": "bkt", "destination": "bkt", "source_endpoint": {"url": a} if a else {"region": "us-east-1"},
            "destination_endpoint": {"url": b}}
    if same:
        with pytest.raises(InvalidInputError, match="same bucket"):
            validate(data)
    else:
        assert validate(data).source == "bkt"


def test_a_configured_arn_and_a_given_name_are_the_same_secret():
    environ = {"BUCKETSYNC_ENDPOINT_SECRETS": "arn:aws:secretsmanager:us-east-1:123456789012:secret:lyve/keys-AbC123"}
    endpoints.check_secret_allowed(endpoints.Endpoint(secret="lyve/keys"), "e", endpoints.allowed_secrets(environ))
    with pytest.raises(InvalidInputError, match="ENDPOINT_SECRETS"):
        endpoints.check_secret_allowed(endpoints.Endpoint(secret="lyve/other"), "e", endpoints.allowed_secrets(environ))
