"""Endpoint inputs (bucketsync.endpoints): validation that never echoes a
credential, and the same-place rule that keeps a bucket from being synced
onto itself under another spelling."""
import os
import socket

import pytest

from bucketsync import endpoints, lease, stores
from bucketsync.errors import DestinationBusyError, InvalidInputError
from bucketsync.sync_request import SyncRequest, validate
from bucketsync.settings import load
from bucketsync.work import Run


@pytest.mark.parametrize("value,message", [
    ({"url": "https://AKIA:wJalrXUtnFEMI@s3.example.com"}, "must not carry credentials"),
    ({"url": "ftp://AKIA:wJalrXUtnFEMI@host"}, "must not carry credentials"),
    ({"secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCY EXAMPLEKEY"}, "not the key itself"),
    ({"url": "https://s3.example.com/bucket"}, "no path"),
    ({"url": "http://%6cocalhost:8333"}, "no percent-encoding"),
    ({"region": "Not A Region"}, "not a region name"),
    ({"url": ""}, "non-empty string"),
    ({"token": "x"}, "unknown key"),
])
def test_bad_endpoints_are_refused_without_echoing_credentials(value, message):
    with pytest.raises(InvalidInputError, match=message) as caught:
        endpoints.parse(value, "source_endpoint")
    assert "wJalrXUtnFEMI" not in str(caught.value)


@pytest.mark.parametrize("a,b,same", [
    ("http://localhost:8333", "http://127.0.0.1:8333/", True),
    ("http://[::1]:8333", "http://LocalHost:8333", True),
    ("http://127.0.0.1", "http://localhost:80", True),
    # Every other spelling of this machine (the resolver's legacy forms too).
    ("http://127.1:8333", "http://127.0.0.1:8333", True),
    ("http://2130706433:8333", "http://localhost:8333", True),
    ("http://0x7f000001:8333", "http://localhost:8333", True),
    ("http://0.0.0.0:8333", "http://localhost:8333", True),
    ("http://[::ffff:127.0.0.1]:8333", "http://localhost:8333", True),
    (f"http://{socket.gethostname()}:8333", "http://localhost:8333", True),
    ("https://S3.Example.com.", "https://s3.example.com:443/", True),
    ("http://s3.example.com:443", "https://s3.example.com", True),   # a port speaks one scheme
    (None, "https://s3.eu-west-1.amazonaws.com", True),
    ("http://localhost:8333", "http://localhost:8334", False),
    ("http://s3.example.com", "https://s3.example.com", False),        # ports 80 and 443
    ("http://127.0.0.1:8333", "http://192.168.1.5:8333", False),
])
def test_one_canonical_place_serves_the_lease_and_the_same_bucket_check(a, b, same, tmp_path):
    assert endpoints.may_be_one(a, b) is same
    assert endpoints.same_place(endpoints.Endpoint(url=a), endpoints.Endpoint(url=b)) is same
    first, second = (_lease(tmp_path, name, url) for name, url in (("first", a), ("second", b)))
    first.acquire()
    if same:
        with pytest.raises(DestinationBusyError):
            second.acquire()
    else:
        second.acquire()


def test_a_host_and_its_address_may_be_one_store(monkeypatch):
    """Two names of one server, or a name and its address: one store, in doubt."""
    monkeypatch.setattr(endpoints.socket, "getaddrinfo", lambda host, port: [
        (2, 1, 6, "", ({"s3.example.com": "203.0.113.7", "alias.example.com": "203.0.113.7"}.get(host, "198.51.100.1"),
                       0))])
    endpoints._addresses.cache_clear()
    try:
        assert endpoints.may_be_one("https://s3.example.com", "https://alias.example.com")
        assert endpoints.may_be_one("https://s3.example.com", "https://203.0.113.7")
        assert not endpoints.may_be_one("https://s3.example.com", "https://other.example.com")
        assert not endpoints.may_be_one("https://s3.example.com:443", "http://203.0.113.7:80")
    finally:
        endpoints._addresses.cache_clear()


def _lease(tmp_path, run_id, url):
    run = Run(run_id, SyncRequest("src", "bkt"), None, None, "work", "runs/x/", started="2026-11-23T10:00:00Z",
              destination_endpoint=endpoints.Endpoint(url=url))
    return lease.Lease(run, load(), stores.DirectoryStore(tmp_path), pid=os.getpid(), host="this-host")


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
