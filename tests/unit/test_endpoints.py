"""Endpoint inputs (bucketsync.endpoints): validation that never echoes a
credential, and the same-place rule that keeps a bucket from being synced
onto itself under another spelling."""
import pytest

from bucketsync import endpoints, lease
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


@pytest.mark.parametrize("a,b,same", [
    ("http://localhost:8333", "http://127.0.0.1:8333/", True),
    ("http://[::1]:8333", "http://LocalHost:8333", True),
    ("http://127.0.0.1", "http://localhost:80", True),
    ("https://S3.Example.com.", "https://s3.example.com:443/", True),
    ("http://s3.example.com:443", "https://s3.example.com", True),   # a port speaks one scheme
    (None, "https://s3.eu-west-1.amazonaws.com", True),
    ("http://localhost:8333", "http://localhost:8334", False),
    ("http://s3.example.com", "https://s3.example.com", False),        # ports 80 and 443
    ("http://127.0.0.1:8333", "http://192.168.1.5:8333", False),
])
def test_one_canonical_place_serves_the_lease_and_the_same_bucket_check(a, b, same):
    assert (endpoints.place(a) == endpoints.place(b)) is same
    assert endpoints.same_place(endpoints.Endpoint(url=a), endpoints.Endpoint(url=b)) is same
    assert (lease.lease_name("bkt", a) == lease.lease_name("bkt", b)) is same
    assert lease.lease_name("bkt", a) != lease.lease_name("other-bkt", a)


def test_an_invalid_port_is_refused():
    with pytest.raises(InvalidInputError, match="no valid port"):
        endpoints.parse({"url": "http://127.0.0.1:99999"}, "source_endpoint")


@pytest.mark.parametrize("source_url, destination_url, prefixes, refused", [
    # The most common migration: one bucket name on another server.
    ("http://127.0.0.1:8333", "http://127.0.0.1:9333", ("", ""), False),
    (None, "https://s3.example.com", ("", ""), False),
    # One server spelled two ways is one bucket.
    ("http://127.0.0.1:8333", "http://localhost:8333/", ("a/", "a/b/"), True),
    ("http://127.0.0.1:8333", "http://localhost:8333", ("a/", "b/"), False),
])
def test_the_same_bucket_check_compares_the_places_the_run_resolves(source_url, destination_url, prefixes,
                                                                    refused):
    """The flags' places (`known`), as `fab sync --source-endpoint-url A
    --destination-endpoint-url B` gives them, count as the input's would."""
    known = {"source": endpoints.Endpoint(url=source_url), "destination": endpoints.Endpoint(url=destination_url)}
    data = {"source": "bkt", "destination": "bkt", "source_prefix": prefixes[0], "destination_prefix": prefixes[1]}
    through_input = dict(data, source_endpoint={"url": source_url} if source_url else {"region": "us-east-1"},
                         destination_endpoint={"url": destination_url})
    for attempt in (lambda: validate(data, known), lambda: validate(through_input)):
        if refused:
            with pytest.raises(InvalidInputError, match="same bucket"):
                attempt()
        else:
            assert attempt().source == "bkt"
