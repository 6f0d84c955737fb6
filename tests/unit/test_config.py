"""Deploy settings: the documented template loads, and bad configuration
fails before anything is created, with a message naming the problem."""
import shutil

import pytest

from bucketsync.errors import ConfigError
from bucketsync.project import config
from bucketsync.project.schedule_checks import expression_problem

GOOD = '''
REGION = "eu-west-1"
SOURCE_BUCKETS = ["src-bucket"]
DESTINATION_BUCKETS = ["dst-bucket"]
'''
SCHEDULE = '{"name": "n", "expression": %r, "timezone": %r, "input": %s}'


def write(tmp_path, text):
    path = tmp_path / "fabfile_config.py"
    path.write_text(text)
    return path


def test_template_file_is_a_valid_config(tmp_path):
    path = tmp_path / "fabfile_config.py"
    shutil.copy(config.TEMPLATE_FILE, path)
    loaded = config.load(path)
    assert loaded.region == "eu-west-1" and loaded.stack_name == "bucketsync"
    assert loaded.source_buckets == ("my-source-bucket",) and loaded.lambda_architecture == "arm64"


def test_minimal_config_and_overrides(tmp_path):
    loaded = config.load(write(tmp_path, GOOD), overrides={"region": "us-east-2", "profile": None})
    assert loaded.region == "us-east-2" and loaded.map_concurrency == 40 and loaded.schedules == ()
    assert loaded.lambda_architecture == "arm64"


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_lambda_architecture(tmp_path, architecture):
    loaded = config.load(write(tmp_path, GOOD + f"LAMBDA_ARCHITECTURE = {architecture!r}\n"))
    assert loaded.lambda_architecture == architecture


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="copy fabfile_config_template.py to fabfile_config.py"):
        config.load(tmp_path / "fabfile_config.py")


@pytest.mark.parametrize("extra, message", [
    ("REGON = 'eu-west-1'", "unknown setting(s) REGON"),
    ("REGION = 'Europe'", "REGION is not an AWS region name"),
    ("SOURCE_BUCKETS = 'src-bucket'", "SOURCE_BUCKETS must be a non-empty list"),
    ("DESTINATION_BUCKETS = ['Bad_Bucket']", "DESTINATION_BUCKETS has 'Bad_Bucket', which is not a valid bucket name"),
    ("DESTINATION_BUCKETS = []", "DESTINATION_BUCKETS is not set"),
    ("STACK_NAME = 'my stack'", "STACK_NAME must be"),
    ("LOG_RETENTION_DAYS = 10", "LOG_RETENTION_DAYS must be one of"),
    ("MAP_CONCURRENCY = 0", "MAP_CONCURRENCY must be an integer"),
    ("NOTIFICATION_EMAIL = 'nobody'", "NOTIFICATION_EMAIL is not an email address"),
    ("NOTIFY_ON = 'sometimes'", "NOTIFY_ON must be"),
    ("SNS_TOPIC_ARN = 'topic'", "SNS_TOPIC_ARN is not an SNS topic ARN"),
    ("TAGS = {'a': 1}", "TAGS must be a dict of strings"),
    ("SCHEDULES = [" + SCHEDULE % ("cron(0 2 * * *)", "UTC", '{"source": "src-bucket", "destination": "dst-bucket"}') + "]",
     "must have 6 fields"),
    ("SCHEDULES = [" + SCHEDULE % ("cron(0 2 * * * *)", "UTC", '{"source": "src-bucket", "destination": "dst-bucket"}') + "]",
     "'?' in exactly one of"),
    ("SCHEDULES = [" + SCHEDULE % ("rate(1 hours)", "UTC", '{"source": "src-bucket", "destination": "dst-bucket"}') + "]",
     "singular unit for 1"),
    ("SCHEDULES = [" + SCHEDULE % ("every night", "UTC", '{"source": "src-bucket", "destination": "dst-bucket"}') + "]",
     "must be cron(...), rate(...) or at(...)"),
    ("SCHEDULES = [" + SCHEDULE % ("rate(1 day)", "Paris", '{"source": "src-bucket", "destination": "dst-bucket"}') + "]",
     "timezone 'Paris' is not an IANA time zone"),
    ("SCHEDULES = [" + SCHEDULE % ("rate(1 day)", "UTC", '{"source": "src-bucket"}') + "]",
     "input is not valid: 'destination' is missing"),
    ("SCHEDULES = [" + SCHEDULE % ("rate(1 day)", "UTC", '{"source": "src-bucket", "destination": "dst-bucket", "dryrun": True}') + "]",
     "unknown input key(s): 'dryrun'"),
    ("SCHEDULES = [" + SCHEDULE % ("rate(1 day)", "UTC", '{"source": "other-bucket", "destination": "dst-bucket"}') + "]",
     "source 'other-bucket' is not in SOURCE_BUCKETS"),
    ("SCHEDULES = [{'name': 'x', 'expression': 'rate(1 day)', 'timezone': 'UTC'}]", "is missing 'input'"),
    ("SCHEDULES = [{'name': 'x', 'expression': 'rate(1 day)', 'timezone': 'UTC', 'input': {}, 'when': 1}]",
     "unknown key(s) ['when']"),
    ("raise RuntimeError('oops')", "could not be read: RuntimeError: oops"),
    ("LAMBDA_ARCHITECTURE = 'aarch64'", "LAMBDA_ARCHITECTURE must be 'arm64' or 'x86_64', got 'aarch64'"),
    ("LAMBDA_ARCHITECTURE = ['arm64']", "LAMBDA_ARCHITECTURE must be 'arm64' or 'x86_64', got ['arm64']"),
])
def test_bad_config(tmp_path, extra, message):
    with pytest.raises(ConfigError) as info:
        config.load(write(tmp_path, GOOD + extra + "\n"))
    assert message in str(info.value)
    assert "fabfile_config.py" in str(info.value)


@pytest.mark.parametrize("expression", ["cron(30 2 * * ? *)", "cron(0/15 8-17 ? * MON-FRI *)", "cron(0 0 1 * ? 2027)",
                                        "rate(5 minutes)", "rate(1 minute)", "rate(2 days)", "at(2027-01-01T00:00:00)"])
def test_good_expressions(expression):
    assert expression_problem(expression) is None


@pytest.mark.parametrize("task", ["sync", "demo", "datasync-preview"])
def test_local_tasks_refuse_unknown_settings_as_deploy_does(tmp_path, monkeypatch, task):
    """A misspelt setting is refused by every task that reads the file,
    with the deploy's own message, in one line and exit 2, before anything runs."""
    import io

    from bucketsync.local import cli, demo, direct
    path = write(tmp_path, GOOD + "DATASYNC_TASK = {}\n")
    monkeypatch.setattr(config, "CONFIG_FILE", path)
    with pytest.raises(ConfigError) as deploy:
        config.load(path)
    out, err = io.StringIO(), io.StringIO()
    if task == "sync":
        status = cli.sync(cli.SyncOptions(source="src-bucket", destination="dst-bucket"), embedded=True,
                          out=out, err=err)
    elif task == "demo":
        status = demo.main(out=out, err=err)
    else:
        status = direct.datasync_preview("photos", ["/{date:%Y-%m-%d}/*"], out=out, err=err)
    assert status == 2
    assert err.getvalue() == f"error: ConfigError: {deploy.value}\n"
    assert "unknown setting(s) DATASYNC_TASK;" in err.getvalue()
    assert out.getvalue() == ""
