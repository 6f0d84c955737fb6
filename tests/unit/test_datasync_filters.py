"""DataSync: date templates, catch-up ranges, folder expansion and the
filters DataSync accepts (pure; no emulator)."""
from datetime import date, datetime, timezone

import pytest

from bucketsync.datasync import filters
from bucketsync.datasync.expand import expand
from bucketsync.datasync.request import validate_datasync
from bucketsync.datasync.tasks import check_tasks
from bucketsync.datasync.templates import render, run_dates, target_date
from bucketsync.errors import InvalidInputError
from bucketsync.execution_input import validate_input

UTC = timezone.utc


@pytest.mark.parametrize("now, spec, zone, expected", [
    # Around midnight: the date is the zone's, never the machine's or UTC's.
    (datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "yesterday", "UTC", date(2026, 11, 21)),
    (datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "yesterday", "Europe/Paris", date(2026, 11, 22)),   # 00:30 in Paris
    (datetime(2026, 11, 23, 3, 0, tzinfo=UTC), "today", "America/Los_Angeles", date(2026, 11, 22)),  # 19:00 the day before
    (datetime(2026, 11, 22, 12, 0, tzinfo=UTC), "today", "Pacific/Kiritimati", date(2026, 11, 23)),  # UTC+14
    # Month, year and leap-day boundaries.
    (datetime(2026, 12, 1, 6, 0, tzinfo=UTC), "yesterday", "UTC", date(2026, 11, 30)),
    (datetime(2027, 1, 1, 0, 5, tzinfo=UTC), "yesterday", "UTC", date(2026, 12, 31)),
    (datetime(2028, 3, 1, 1, 0, tzinfo=UTC), "yesterday", "UTC", date(2028, 2, 29)),
    (datetime(2027, 3, 1, 1, 0, tzinfo=UTC), "yesterday", "UTC", date(2027, 2, 28)),
    # Across a daylight-saving change (Europe/Paris, 2026-10-25 at 03:00 -> 02:00).
    (datetime(2026, 10, 25, 22, 30, tzinfo=UTC), "yesterday", "Europe/Paris", date(2026, 10, 24)),
    (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), "yesterday", "Europe/Paris", date(2026, 10, 25)),
    # An explicit date is taken as is.
    (datetime(2026, 11, 22, tzinfo=UTC), "2024-02-29", "Asia/Tokyo", date(2024, 2, 29)),
])
def test_target_date_is_computed_in_the_time_zone(now, spec, zone, expected):
    assert target_date(spec, now, zone) == expected


@pytest.mark.parametrize("target, days, done, expected", [
    (date(2026, 11, 22), 0, set(), [date(2026, 11, 22)]),
    # No record: the whole window is missed.
    (date(2026, 3, 1), 2, set(), [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)]),
    (date(2028, 3, 1), 1, set(), [date(2028, 2, 29), date(2028, 3, 1)]),
    (date(2027, 1, 1), 2, set(), [date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1)]),
    # Done days are skipped; a failed (unrecorded) day in the middle is retried.
    (date(2026, 11, 22), 3, {date(2026, 11, 19), date(2026, 11, 21)}, [date(2026, 11, 20), date(2026, 11, 22)]),
    # The target always runs, done or not (a rerun of the same day).
    (date(2026, 11, 22), 1, {date(2026, 11, 21), date(2026, 11, 22)}, [date(2026, 11, 22)]),
    # Missed days older than the window are not caught up.
    (date(2026, 11, 22), 1, set(), [date(2026, 11, 21), date(2026, 11, 22)]),
])
def test_catch_up_ranges(target, days, done, expected):
    assert run_dates(target, days, done) == expected


@pytest.mark.parametrize("template, day, expected", [
    ("/{date:%Y-%m-%d}/*", date(2026, 11, 22), "/2026-11-22/*"),
    ("/topics/*/year={date:%Y}/month={date:%m}/day={date:%d}/*", date(2026, 1, 5),
     "/topics/*/year=2026/month=01/day=05/*"),
    ("/{date:%Y}/{date:%j}/", date(2028, 12, 31), "/2028/366/"),
    ("/{date:%d-%b-%Y}", date(2026, 3, 9), "/09-Mar-2026"),      # English names whatever the locale
    ("/logs/{date:%A}/*", date(2026, 11, 22), "/logs/Sunday/*"),
])
def test_render(template, day, expected):
    assert render(template, day) == expected


def test_datasync_owns_only_the_paths_this_runs_filter_selects():
    """Dated folders of other days are the object sync's (late files there
    are copied by it); the run's own folders, '*' folder names expanded, are
    DataSync's, at each side's own prefix."""
    from bucketsync.datasync.ownership import OwnedKeys, owned
    from bucketsync.datasync.tasks import Location
    includes = "/topics/car-1/year=2026/month=11/day=21/*|/topics/bus/year=2026/month=11/day=21/*"
    area = owned(Location("s3", bucket="b", prefix="data/"), includes)
    owns = OwnedKeys([area.to_dict()]).within("b", "data/topics/")
    assert owns("car-1/year=2026/month=11/day=21/part-0.json") and owns("bus/year=2026/month=11/day=21/x")
    assert not owns("car-1/year=2026/month=11/day=20/late.json")         # another day
    assert not owns("car-2/year=2026/month=11/day=21/x")                 # not in this run's filter
    assert not owns("car-1/year=2026/month=11/day=211/x")
    everything = OwnedKeys([owned(Location("s3", bucket="b", prefix="data/"), "").to_dict()]).within("b", "")
    assert everything("data/anything") and not everything("other/x")
    assert owned(Location("file", path="/srv"), includes) is None


class FakeFolders:
    """A source tree as a set of paths; counts the listings made."""

    def __init__(self, paths):
        self.paths = set(paths)
        self.listed = []

    def children(self, path):
        self.listed.append(path)
        return sorted({p[len(path):].split("/", 1)[0] for p in self.paths
                       if p.startswith(path) and "/" in p[len(path):]})

    def exists(self, path):
        return any(p.startswith(path) for p in self.paths)


def test_expand_folder_wildcards_and_drop_absent_dates():
    folders = FakeFolders([f"/topics/p{n}/year=2026/month=11/day=21/a.json" for n in range(3)]
                          + ["/topics/p9/year=2026/month=11/day=20/a.json", "/topics/readme.txt"])
    expansion = expand(["/topics/*/year={date:%Y}/month={date:%m}/day={date:%d}/*"],
                       [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)], folders)
    assert expansion.patterns == ["/topics/p9/year=2026/month=11/day=20/*"] + [
        f"/topics/p{n}/year=2026/month=11/day=21/*" for n in range(3)]
    assert expansion.dates == [date(2026, 11, 20), date(2026, 11, 21)]
    assert expansion.empty_dates == [date(2026, 11, 22)]
    assert folders.listed == ["/topics/"]      # the same level is listed once for every date


def test_expand_a_wildcard_inside_a_folder_name():
    folders = FakeFolders(["/cam-a/2026-11-22/x.jpg", "/cam-b/2026-11-22/y.jpg", "/other/2026-11-22/z.jpg"])
    expansion = expand(["/cam-*/{date:%Y-%m-%d}/*"], [date(2026, 11, 22)], folders)
    assert expansion.patterns == ["/cam-a/2026-11-22/*", "/cam-b/2026-11-22/*"]


@pytest.mark.parametrize("pattern, kind, problem", [
    ("*.txt", filters.INCLUDE, "must start with '/'"),
    ("/topics/*/year=2026/", filters.INCLUDE, "accept '*' only as the last character"),
    ("/a|/b", filters.INCLUDE, "must not contain '|'"),
    ("/a\x00b", filters.EXCLUDE, "NUL"),
    ("temp", filters.EXCLUDE, "must start with '/'"),
    ("", filters.EXCLUDE, "non-empty"),
])
def test_patterns_datasync_refuses(pattern, kind, problem):
    assert problem in filters.pattern_problem(pattern, kind)


@pytest.mark.parametrize("pattern, kind", [
    ("/documents*", filters.INCLUDE), ("/folder-to-transfer/*", filters.INCLUDE), ("/photos", filters.INCLUDE),
    ("*.temp", filters.EXCLUDE), ("*/.snapshot", filters.EXCLUDE), ("/reports*", filters.EXCLUDE),
    ("*/temporary-folder-*", filters.EXCLUDE),
])
def test_patterns_datasync_accepts(pattern, kind):
    assert filters.pattern_problem(pattern, kind) is None


def test_join_refuses_a_filter_longer_than_datasync_takes():
    patterns = [f"/{n:05d}/{'x' * 90}/*" for n in range(1200)]     # about 118,000 characters
    with pytest.raises(InvalidInputError, match="at most 102,400"):
        filters.join(patterns, filters.INCLUDE)
    assert filters.join(patterns[:900], filters.INCLUDE).count("|") == 899
    assert filters.join(["/a/*", "/b/*", "/a/*"], filters.INCLUDE) == "/a/*|/b/*"


@pytest.mark.parametrize("bad, message", [
    ({"include": ["/{date:%Y-%m-%d}/*"]}, "'datasync.task'"),
    ({"task": "t", "include": ["{date:%Y}/*"]}, "must start with '/'"),
    ({"task": "t", "include": ["/{date:%Y}/*.jpg"]}, "accept '*' only at the end"),
    ({"task": "t", "include": ["/{date:%c}/*"]}, "%c is not a supported date directive"),
    ({"task": "t", "include": ["/{date}/*"]}, "brace"),
    ({"task": "t", "date": "2026-02-30"}, "'datasync.date'"),
    ({"task": "t", "date": "tomorrow"}, "'datasync.date'"),
    ({"task": "t", "timezone": "Mars/Olympus"}, "IANA"),
    ({"task": "t", "catch_up_days": -1}, "catch_up_days"),
    ({"task": "t", "catch_up_days": True}, "catch_up_days"),
    ({"task": "t", "exclude": ["temp"]}, "exclude pattern 'temp'"),
    ({"task": "t", "when": "now"}, "unknown 'datasync' key"),
])
def test_bad_datasync_input(bad, message):
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace("*", r"\*").replace("%", "%")):
        validate_datasync(bad)


def test_datasync_only_input_and_keys_that_need_a_sync():
    inputs = validate_input({"datasync": {"task": "share"}, "dry_run": True})
    assert inputs.sync is None and inputs.datasync.task == "share" and inputs.dry_run
    with pytest.raises(InvalidInputError, match="'delete' apply to the object-level sync"):
        validate_input({"datasync": {"task": "share"}, "delete": False})
    with pytest.raises(InvalidInputError, match="'destination' is missing"):
        validate_input({"datasync": {"task": "share"}, "source": "bucket-a"})


@pytest.mark.parametrize("tasks, message", [
    ({"t": {"source": "s3://a-bucket/x/", "destination": "s3://b-bucket/"}, "u": 1}, "'u' must be a dict"),
    ({"t": {"source": "s3://a-bucket/x/", "destination": "file:///tmp/x"}}, "must start with s3://"),
    ({"t": {"source": "s3://a-bucket/x/", "destination": "s3://a-bucket/x/y/"}}, "overlap"),
    ({"t": {"source": "s3://a-bucket/", "destination": "s3://b-bucket/",
            "options": {"TransferMode": "ALL", "PreserveDeletedFiles": "REMOVE"}}}, "REMOVE cannot be combined"),
    ({"t": {"source": "s3://a-bucket/", "destination": "s3://b-bucket/", "options": {"Verify": "NONE"}}},
     "'Verify' is not a DataSync option"),
    ({"t": {"source": "s3://a-bucket/", "destination": "s3://b-bucket/", "options": {"OverwriteMode": "SOMETIMES"}}},
     "OverwriteMode must be one of ALWAYS, NEVER"),
    ({"t": {"source": {"efs": "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123abcd",
                       "subnet": "subnet-1", "security_groups": []}, "destination": "s3://b-bucket/"}}, "'subnet'"),
])
def test_bad_datasync_tasks(tasks, message):
    with pytest.raises(InvalidInputError, match=message):
        check_tasks(tasks)


def test_datasync_tasks_parse_all_three_sources():
    efs = {"efs": "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123abcd",
           "subnet": "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0123abcd",
           "security_groups": ["arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123abcd"], "path": "/share"}
    tasks = check_tasks({"images": {"source": "s3://src-bucket/images", "destination": "s3://dst-bucket/"},
                         "local": {"source": "file:///srv/share/", "destination": "s3://dst-bucket/share/"},
                         "efs": {"source": efs, "destination": "s3://dst-bucket/share/",
                                 "options": {"PreserveDeletedFiles": "REMOVE"}}})
    assert tasks["images"].source.prefix == "images/"          # a location's subdirectory is a folder
    assert tasks["local"].source.path == "/srv/share"
    assert tasks["efs"].source.kind == "efs" and tasks["efs"].option("PreserveDeletedFiles") == "REMOVE"


def selected(paths, include="", exclude=""):
    includes, excludes = filters.compile_filter(include), filters.compile_filter(exclude)
    return {p for p in paths if filters.selects(p, includes, excludes)}


TREE = {"/reports2021/a.csv", "/reports2022/b.csv", "/reports", "/old/reports2021/c.csv", "/a/.temp/x", "/a/temp/y",
        "/x/folder-to-exclude-1/f", "/folder-to-exclude-2/g", "/top-level-folder-to-exclude-1/h",
        "/deep/top-level-folder-to-exclude-1/i", "/folder-to-transfer/j/k", "/folder-to-transfer2/l", "/m.temp",
        "/n/o.temp", "/folder/subfolder/file1.txt", "/folder/subfolder/file2.txt", "/folder/subfolder/file3.txt",
        "/photos/a.jpg", "/photos2/b.jpg", "/FolderA/c", "/folderA/d"}


@pytest.mark.parametrize("include, exclude, expected_out", [
    # The examples of DataSync's filtering documentation.
    ("", "*/.temp", {"/a/.temp/x"}),
    ("", "/reports*", {"/reports2021/a.csv", "/reports2022/b.csv", "/reports"}),
    ("", "*/folder-to-exclude-1|*/folder-to-exclude-2", {"/x/folder-to-exclude-1/f", "/folder-to-exclude-2/g"}),
    ("", "/top-level-folder-to-exclude-1|/top-level-folder-to-exclude-2", {"/top-level-folder-to-exclude-1/h"}),
    ("", "*.temp", {"/m.temp", "/n/o.temp", "/a/.temp/x"}),   # a folder named so goes with what it holds
])
def test_exclude_examples_of_the_datasync_documentation(include, exclude, expected_out):
    assert TREE - selected(TREE, include, exclude) == expected_out


@pytest.mark.parametrize("include, expected", [
    ("/folder-to-transfer/*", {"/folder-to-transfer/j/k"}),
    ("/folder/subfolder/file1.txt|/folder/subfolder/file2.txt|/folder/subfolder/file2.txt",
     {"/folder/subfolder/file1.txt", "/folder/subfolder/file2.txt"}),
    ("/photos", {"/photos/a.jpg"}),                  # a folder and what it holds, not /photos2
    ("/photos/", {"/photos/a.jpg"}),                 # the same as /photos
    ("/photos*", {"/photos/a.jpg", "/photos2/b.jpg"}),   # trailing '*': any name that starts so
    ("/folderA", {"/folderA/d"}),                    # case-sensitive
])
def test_include_examples_of_the_datasync_documentation(include, expected):
    assert selected(TREE, include) == expected


def test_exclude_wins_over_include():
    assert selected(TREE, "/folder/*", "*/file2.txt") == {"/folder/subfolder/file1.txt", "/folder/subfolder/file3.txt"}
