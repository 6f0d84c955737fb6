"""Execution input validation: the bad-input table and normalisation."""
import pytest

from bucketsync.errors import InvalidInputError
from bucketsync.sync_request import delete_limit, validate

GOOD = {"source": "src-bucket", "destination": "dst-bucket"}


@pytest.mark.parametrize("data, problem", [
    ({"destination": "dst-bucket"}, "'source' is missing"),
    ({"source": "src-bucket"}, "'destination' is missing"),
    ({"source": "", "destination": "dst-bucket"}, "'source' must not be empty"),
    ({"source": "src-bucket", "destination": "  "}, "'destination' must not be empty"),
    ({"source": "Src_Bucket", "destination": "dst-bucket"}, "'source' is not a valid bucket name"),
    ({"source": "ab", "destination": "dst-bucket"}, "3 to 63 characters"),
    ({"source": "src-bucket", "destination": "192.168.1.1"}, "IP address"),
    ({"source": "src..bucket", "destination": "dst-bucket"}, "'..'"),
    ({"source": "src-bucket-", "destination": "dst-bucket"}, "begin and end with a letter or digit"),
    ({"source": 12, "destination": "dst-bucket"}, "'source' must be a string"),
    ({"source": None, "destination": "dst-bucket"}, "'source' must be a string"),
    (dict(GOOD, colour="blue"), "unknown input key(s): 'colour'"),
    (dict(GOOD, Source="x"), "unknown input key(s): 'Source'"),
    (dict(GOOD, dry_run="yes"), "'dry_run' must be true or false"),
    (dict(GOOD, delete=1), "'delete' must be true or false"),
    (dict(GOOD, allow_empty_source=None), "'allow_empty_source' must be true or false"),
    (dict(GOOD, prefix=5), "'prefix' must be a string"),
    (dict(GOOD, include="*.txt"), "'include' must be a list"),
    (dict(GOOD, exclude=["ok", ""]), "'exclude' must be a list of non-empty"),
    (dict(GOOD, max_delete="lots"), "'max_delete' must be a count"),
    (dict(GOOD, max_delete=-1), "must not be negative"),
    (dict(GOOD, max_delete="150%"), "at most 100%"),
    (dict(GOOD, max_delete=True), "'max_delete' must be a count"),
    (dict(GOOD, max_delete=1.5), "'max_delete' must be a count"),
    (dict(GOOD, prefix="a/", source_prefix="b/"), "cannot be combined"),
    ({"source": "same-bucket", "destination": "same-bucket"}, "same bucket"),
    ({"source": "same-bucket", "destination": "same-bucket", "source_prefix": "a/",
      "destination_prefix": "a/b/"}, "overlapping prefixes"),
    ({"source": "same-bucket", "destination": "same-bucket", "prefix": "x/"}, "overlapping prefixes"),
    ({"source": "s3://src-bucket/a/", "destination": "dst-bucket", "source_prefix": "b/"}, "either in"),
    ([], "must be a JSON object"),
    ("src-bucket", "must be a JSON object"),
])
def test_bad_input_names_the_problem(data, problem):
    with pytest.raises(InvalidInputError) as info:
        validate(data)
    message = str(info.value)
    assert problem in message
    assert "\n" not in message


def test_minimal_input_gets_safe_defaults():
    request = validate(GOOD)
    assert (request.source, request.destination) == ("src-bucket", "dst-bucket")
    assert request.delete is True and request.dry_run is False
    assert request.max_delete is None and request.allow_empty_source is False   # None: the default
    assert request.source_prefix == request.destination_prefix == ""


def test_prefix_forms():
    assert validate(dict(GOOD, prefix="p/")).source_prefix == "p/"
    assert validate(dict(GOOD, prefix="p/")).destination_prefix == "p/"
    request = validate({"source": "s3://src-bucket/in/", "destination": "s3://dst-bucket/out/"})
    assert (request.source, request.source_prefix) == ("src-bucket", "in/")
    assert (request.destination, request.destination_prefix) == ("dst-bucket", "out/")
    # Same bucket, disjoint prefixes: allowed.
    request = validate({"source": "one-bucket", "destination": "one-bucket",
                        "source_prefix": "a/", "destination_prefix": "b/"})
    assert request.source_prefix == "a/"


@pytest.mark.parametrize("value, expected", [(0, 0), (10, 10), ("10", 10), ("10%", "10%"), (" 2.5 % ", "2.5%")])
def test_max_delete_forms(value, expected):
    assert validate(dict(GOOD, max_delete=value)).max_delete == expected


@pytest.mark.parametrize("max_delete, destination, source, limit", [
    (5, 100, 0, 5), (0, 100, 100, 0), ("50%", 100, 100, 50), ("100%", 70, 0, 70), ("2.5%", 1000, 0, 25),
    ("0%", 10, 10, 0),
    # a percentage the user gives has no floor
    ("1%", 100, 100, 1), ("50%", 11, 11, 5), ("50%", 3, 3, 1), ("1%", 50, 50, 0),
    # the default: half, or up to 10 while the source lists at least half as many objects
    (None, 100, 100, 50), (None, 3, 2, 10), (None, 3, 1, 1), (None, 11, 6, 10), (None, 11, 5, 5),
    (None, 11, 1, 5), (None, 22, 11, 11), (None, 0, 0, 10)])
def test_delete_limit(max_delete, destination, source, limit):
    assert delete_limit(max_delete, destination, source) == limit


def test_round_trip_through_the_state_machine_payload():
    from bucketsync.sync_request import SyncRequest
    request = validate(dict(GOOD, include=["*.txt"], exclude=["tmp/*"], max_delete=3))
    assert SyncRequest.from_dict(request.to_dict()) == request


@pytest.mark.parametrize("source, destination", [("s3://bkt/a/", "s3://bkt//a/x/"), ("s3://bkt/a/", "s3://bkt/a//x/"),
                                                 ("s3://bkt/a\\x/", "s3://bkt/a/")])
def test_prefixes_a_server_stores_as_one_overlap(source, destination):
    """SeaweedFS stores `/a/x/k` and `a//x/k` as `a/x/k`: inside the source."""
    with pytest.raises(InvalidInputError, match="overlapping prefixes"):
        validate({"source": source, "destination": destination})


def test_a_decimal_percentage_is_exact():
    assert delete_limit("18.4%", 375, 375) == 69          # 375 * 0.184 = 69 exactly; floats say 68
    assert delete_limit("0.1%", 1000, 1000) == 1 and delete_limit("33.3%", 1000, 1000) == 333


def test_a_sync_onto_itself_is_named_before_any_bad_option():
    """The first problem named is the one that matters most: a bucket synced
    onto itself, before a malformed option of the same input."""
    import pytest

    from bucketsync.errors import InvalidInputError
    from bucketsync.sync_request import validate
    with pytest.raises(InvalidInputError, match="same bucket"):
        validate({"source": "src", "destination": "src", "max_delete": "abc", "dry_run": "yes"})
