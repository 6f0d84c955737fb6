"""What a local run costs before its first copy (issue 19): no emulated IAM
role or Lambda function, the definition parsed once per text (in memory, then
from disk in the next process), a wait woken by the execution's end, and a
`--json` run that imports only what it needs. Each test runs the real engine
on moto."""
import contextlib
import json
import os
import subprocess
import sys
import time

import botocore.session
import pytest
from botocore.exceptions import ClientError

from bucketsync.local import definition_cache, engine
from tests.backends import moto_backend


@pytest.fixture
def backend(report_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BUCKETSYNC_STATE_DIR", str(tmp_path / "state"))
    definition_cache._memory.clear()   # as in a new process: only the disk remembers
    with moto_backend(report_dir) as b:
        yield b
    definition_cache._memory.clear()


def seeded(backend):
    source, destination = backend.buckets()
    for n in range(3):
        backend.put(source, f"k{n}", b"x")
    return source, destination


def test_no_iam_role_and_no_lambda_function_is_made(backend, monkeypatch):
    """The interpreter calls the handlers in-process; the state machine names
    a role nothing checks. No IAM or Lambda client is even made."""
    made = []
    real = botocore.session.Session.create_client

    def recording(self, service_name, *args, **kwargs):
        made.append(service_name)
        return real(self, service_name, *args, **kwargs)
    monkeypatch.setattr(botocore.session.Session, "create_client", recording)
    source, destination = seeded(backend)
    outcome = backend.sync({"source": source, "destination": destination})
    assert outcome.ok and outcome.output["copied"] == 3, outcome
    assert "stepfunctions" in made and not {"iam", "lambda"} & set(made), made


@pytest.fixture
def parses(monkeypatch):
    """The ANTLR parses moto really makes (under the engine's cache)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    real = AmazonStateLanguageParser.parse
    made = []

    def counting(definition):
        made.append(json.loads(definition)["States"]["Copy"]["MaxConcurrency"])
        return real(definition)
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counting))
    return made


def test_the_definition_is_parsed_once_per_text(backend, parses, tmp_path):
    source, destination = seeded(backend)
    run = lambda concurrency: engine.run({"source": source, "destination": destination},  # noqa: E731
                                         report_dir=backend.report_dir, map_concurrency=concurrency)
    assert run(8).ok
    assert parses == [8], "CreateStateMachine parses it; the execution's start reuses that parse"
    assert run(8).ok and parses == [8], "the next run of this process parses nothing"
    definition_cache._memory.clear()
    assert run(8).ok and parses == [8], "nor does the next process: the program is on disk"
    assert len(list((tmp_path / "state" / "definitions").glob("*.pickle"))) == 1
    outcome = run(3)
    assert outcome.ok and outcome.output["copied"] == 0, outcome
    assert parses == [8, 3], "a changed definition is parsed again"


def test_a_program_from_the_cache_runs_as_a_parsed_one(backend, parses):
    """The same outcome whether the program was parsed or unpickled,
    including a failed run's error name (a Catch, then Fail)."""
    source, destination = seeded(backend)
    backend.put(destination, "stale-1", b"s")
    backend.put(destination, "stale-2", b"s")
    outcomes = []
    for _ in range(2):
        definition_cache._memory.clear()
        outcomes.append(engine.run({"source": source, "destination": destination, "max_delete": 1},
                                   report_dir=backend.report_dir))
    assert parses == [8]
    assert [(o.status, o.error) for o in outcomes] == [("FAILED", "DeleteGuardError")] * 2


def test_the_wait_is_woken_by_the_end_not_by_a_clock(backend, monkeypatch):
    monkeypatch.setattr(engine, "WAKE_ANYWAY_SECONDS", 60.0)
    source, destination = seeded(backend)
    started = time.monotonic()
    outcome = backend.sync({"source": source, "destination": destination})
    assert outcome.ok
    assert time.monotonic() - started < 30, "woken when the execution ended, not after WAKE_ANYWAY_SECONDS"


def test_a_json_run_imports_neither_rich_nor_moto_lambda(tmp_path):
    """Start-up is mostly imports: a `--json` run loads no terminal library
    and none of moto's Lambda emulation."""
    code = """
import io, json, sys
import boto3
from moto import mock_aws
from bucketsync.local import cli, emulator
with mock_aws(config=emulator.moto_config()):
    s3 = boto3.client("s3", region_name="us-east-1")
    for name in ("src", "dst"):
        s3.create_bucket(Bucket=name)
    s3.put_object(Bucket="src", Key="k", Body=b"x")
    out = io.StringIO()
    status = cli.sync(cli.SyncOptions(source="src", destination="dst", json=True), embedded=True, out=out,
                      err=sys.stderr)
print(json.dumps({"status": status, "copied": json.loads(out.getvalue().splitlines()[-1])["copied"],
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "rich"
                                   or m.startswith("moto.awslambda"))}))
"""
    env = dict(os.environ, BUCKETSYNC_REPORT_DIR=str(tmp_path / "reports"), BUCKETSYNC_STATE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"status": 0, "copied": 1, "loaded": []}, result


def test_moto_parses_the_whole_tree_where_it_needs_it(tmp_path):
    """Only the program is cached: moto's static analysers, which walk the
    parse tree (its DescribeStateMachine of other versions), still get one."""
    from moto.stepfunctions.parser.asl.static_analyser.variable_references_static_analyser import (
        VariableReferencesStaticAnalyser)

    from bucketsync.local import emulator
    definition = json.dumps({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        "B": {"Type": "Pass", "Output": "{% $x %}", "End": True}}})
    expected = VariableReferencesStaticAnalyser.process_and_get(definition)
    with emulator.parsed_once(definition_cache.ParsedDefinitions(tmp_path, "v")):
        assert VariableReferencesStaticAnalyser.process_and_get(definition) == expected


@pytest.mark.parametrize("definition", ['{"StartAt": "A", "States": {"A": {"Type": "Nope"}}}', "{not json"])
def test_a_bad_definition_is_refused_as_moto_refuses_it(tmp_path, definition):
    import boto3
    from moto import mock_aws

    from bucketsync.local import emulator

    def refusal(parsing_once: bool) -> str:
        with mock_aws(config=emulator.moto_config()):
            sfn = boto3.client("stepfunctions", region_name="us-east-1")
            cache = definition_cache.ParsedDefinitions(tmp_path, "v")
            with emulator.parsed_once(cache) if parsing_once else contextlib.nullcontext():
                with pytest.raises(ClientError, match="ASLParserException") as refused:
                    sfn.create_state_machine(name="m", definition=definition, roleArn=engine.ROLE)
        return str(refused.value)
    assert refusal(True) == refusal(False)
    assert list(tmp_path.iterdir()) == []


def test_start_up_makes_no_full_collection():
    """The ~10^6 objects a local run's imports create are not walked by a full
    cyclic collection (each ~40-70 ms) before the run has started."""
    code = ("import gc, fabric.main, bucketsync.local.cli, bucketsync.local.engine, moto.s3.models, "
            "moto.stepfunctions.parser.models; print(gc.get_stats()[2]['collections'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0"


@pytest.mark.parametrize("execution_input, tasks", [
    ({"source": engine.SCRATCH, "destination": "b"}, None),
    ({"source": "a", "destination": "b", "prefix": "x"}, {"t": f"s3://{engine.SCRATCH}/in/"}),
])
def test_a_run_that_names_the_scratch_bucket_gets_another(execution_input, tasks):
    """The scratch name is fixed (the definition's text, and so its cached
    parse, stay the same), unless a user's bucket has that name: requests for
    the user's buckets may pass through to AWS, and the scratch must not."""
    assert engine.scratch_bucket({"source": "a", "destination": "b"}, None) == engine.SCRATCH
    other = engine.scratch_bucket(execution_input, tasks)
    assert other != engine.SCRATCH and other.startswith("bucketsync-scratch-")
