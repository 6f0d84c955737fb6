"""The rights contract (tests/iam.py) over end-to-end runs: every AWS call
each handler makes is allowed by the role the generated template gives that
function; every right the template grants is needed by some call (taking
any one away makes the contract fail); the state machine and Scheduler
roles allow what the definition and the schedules do, as AWS authorises it."""
from __future__ import annotations

import contextlib
import json
from unittest import mock

import boto3
import pytest

from bucketsync import clients, work
from bucketsync.deploy import stack_names, template
from bucketsync.project import config, definition
from bucketsync.local import datasync as local_datasync
from bucketsync.datasync.tasks import TASKS_VARIABLE, check_tasks, to_environment
from bucketsync.project.frontmatter import FUNCTIONS_DIR, lambda_files
from bucketsync.local import datasync_runs, engine, handlers
from bucketsync.local import environment as local_environment
from bucketsync.s3 import crt as s3_crt
from tests import iam
from tests.backends import moto_backend
from tests.faults import always_fail, before_call

ACCOUNT = "123456789012"
SECRETS = ("bucketsync/source-keys", "bucketsync/destination-keys")
MiB = 1024 * 1024
# Rights no recorded run needs, each with the reason it stays (listed so that
# a new one is a decision, not an accident): (function, target, action).
NEEDED_ONLY_WHEN_SOMETHING_VANISHES = {
    # A lease document that vanished must read as 404 (LeaseLostError: stop
    # before any delete), not as a 403 that looks like a broken deployment.
    # (copy_chunk's is needed by every run: its read of the run's
    # copies-stamped hint, absent until a chunk writes it, copy/stamping.py.)
    ("plan", "work", "s3:ListBucket"), ("delete_chunk", "work", "s3:ListBucket"),
    # A DataSync start lists the task's executions only when DescribeTask
    # says the task is busy (an execution runs or waits): the recorded runs
    # find it idle; a busy task is the scripted test of tests/unit/test_datasync_step.py.
    ("data_sync", "*", "datasync:ListTaskExecutions"),
}
# ValidateInput lists a DataSync task's S3 source (expanding '*' folder names,
# the empty-source guard; its destination only for a REMOVE task): here the
# task's source is the sync's own, which its `source: [list]` already grants,
# so taking either away refuses nothing; with a task on another bucket, each
# is the only grant.
NEEDED_ONLY_FOR_OTHER_TASK_BUCKETS = {
    ("validate_input", "source", "s3:ListBucket"),
}
# The Lambda service writes the functions' logs with their roles, and polls
# the mirror's queue with the mirror function's role.
FOR_THE_SERVICE = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                   "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}


@contextlib.contextmanager
def transport(kind: str):
    """The user's buckets reached by boto3 (moto answers in memory), or by
    the CRT transport (s3/crt.py) through a moto server on loopback that
    shares moto's in-memory AWS: the contract holds for the calls of either."""
    if kind == "botocore":
        yield []
        return
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    clients.route_aws_to(f"http://{host}:{port}")
    made: list[str] = []
    hook = lambda operation, params, status: made.append(operation)  # noqa: E731
    s3_crt.CALL_HOOKS.append(hook)
    try:
        yield made
    finally:
        s3_crt.CALL_HOOKS.remove(hook)
        clients.route_aws_to(None)
        server.stop()


@pytest.fixture(scope="module", params=["botocore", "crt"])
def recorded(request, tmp_path_factory):
    """Runs that cover success with copies of every kind and deletes, a dry
    run, a guard refusal, a failed copy, metadata mending, a notification and
    the idle-runs counter; the run lease in the work bucket, as on AWS."""
    with moto_backend(tmp_path_factory.mktemp("reports")) as backend, transport(request.param) as by_crt, \
            iam.recording() as calls:
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="runs")["TopicArn"]
        # The run lease and the DataSync catch-up record in the work bucket, as on AWS.
        settings = {"lease_dir": None, "datasync_state_dir": None, "sns_topic_arn": topic,
                    "notify_after_idle_runs": "1", "multipart_threshold": 5 * MiB, "part_size": 5 * MiB}
        env = {f"BUCKETSYNC_{k.upper()}": v if v is None else str(v) for k, v in settings.items()}
        source, destination = backend.buckets()
        tasks = check_tasks(datasync_tasks(source, destination))

        def sync(execution_input):
            return engine.run(dict(execution_input, source=source, destination=destination),
                              settings=env, report_dir=backend.report_dir, datasync_tasks=tasks)

        backend.put(source, "new.txt", b"new", Tagging="t=1", Metadata={"m": "1"})
        backend.put(source, "same.txt", b"same", ContentType="text/plain")
        backend.put(destination, "same.txt", b"same", ContentType="text/csv")
        backend.put(source, "tags.txt", b"tags", Tagging="a=1")
        backend.put(destination, "tags.txt", b"tags", Tagging="a=2")
        backend.put(destination, "untag.txt", b"u", Tagging="gone=1")
        backend.put(source, "untag.txt", b"u")
        backend.put_multipart(source, "big.bin", (5 * MiB, 100), Tagging="big=1")
        backend.put(source, "single-big.bin", b"s" * (5 * MiB + 1))
        backend.put(destination, "stale.txt", b"delete me")
        stale_upload = backend.client.create_multipart_upload(Bucket=destination, Key="big.bin")["UploadId"]
        backend.put(destination, "changed.txt", b"aaaa")
        backend.put(source, "changed.txt", b"bbbb")
        outcomes = {
            "dry run": sync({"dry_run": True, "check_metadata": True}),
            "guard refusal": sync({"max_delete": 0}),
            "success with deletes": sync({"check_metadata": True, "max_delete": "100%"}),
            "idle run": sync({}),
        }
        backend.put(source, "refused.txt", b"x")
        with always_fail("refused.txt"):
            outcomes["failed copy"] = sync({})
        backend.client.delete_object(Bucket=source, Key="refused.txt")
        backend.put(source, "vanishing.txt", b"v")
        with before_call("CopyObject", lambda params: backend.client.delete_object(Bucket=source, Key="vanishing.txt")):
            outcomes["vanished source"] = sync({})
        backend.put(source, "dated/2026-11-21/a.txt", b"a")
        outcomes["datasync"] = sync({"datasync": {"task": "dated", "include": ["/{date:%Y-%m-%d}/*"],
                                                  "date": "2026-11-21"}})
        notify_datasync(outcomes["datasync"].output["datasync"]["execution_arn"], tasks, topic)
        # The source read with other keys (another account, or an S3-compatible
        # server's): every copy streams, and the keys come from a secret.
        for name in SECRETS:
            boto3.client("secretsmanager", region_name="us-east-1").create_secret(
                Name=name, SecretString=json.dumps({"access_key_id": f"AKIA{len(name)}", "secret_access_key": "x"}))
        backend.put(source, "streamed.txt", b"streamed", Tagging="s=1")
        backend.put(source, "streamed-big.bin", b"b" * (5 * MiB + 7))
        backend.put(destination, "stale-too.txt", b"delete me")
        with own_process_per_invocation():
            outcomes["streamed"] = sync({"source_endpoint": {"secret": SECRETS[0]},
                                         "destination_endpoint": {"secret": SECRETS[1]}})
        outcomes["mirror"] = run_mirror(backend, source, destination)
        calls = Calls(calls)
        calls.buckets = (source, destination)
        if request.param == "crt":   # the data calls did go through the CRT
            assert {"CopyObject", "ListObjectsV2", "DeleteObjects", "CreateMultipartUpload"} <= set(by_crt), set(by_crt)
    assert stale_upload
    assert outcomes["dry run"].ok and outcomes["dry run"].output["dry_run"]
    assert outcomes["guard refusal"].error == "DeleteGuardError"
    success = outcomes["success with deletes"]
    assert success.ok and success.output["deleted"] == 1 and success.output["updated"] == 2, success.output
    assert outcomes["idle run"].ok and outcomes["idle run"].output["copied"] == 0
    assert outcomes["failed copy"].error == "SyncFailedError"
    assert outcomes["vanished source"].ok and outcomes["vanished source"].output["skipped"] == 1
    assert outcomes["datasync"].ok and outcomes["datasync"].output["datasync"]["files_transferred"] == 1
    assert outcomes["mirror"] == {"batchItemFailures": [{"itemIdentifier": "big"}]}
    streamed = outcomes["streamed"]
    assert streamed.ok and (streamed.output["copied"], streamed.output["deleted"]) == (2, 1), streamed.output
    return calls, topic


@contextlib.contextmanager
def own_process_per_invocation():
    """Each function reads the secret itself, as Lambda functions (separate
    processes) do: the engine's one process would otherwise reuse the first
    reader's keys and clients."""
    real = handlers.Handlers.invoke

    def invoke(self, *args, **kwargs):
        clients.reset()
        return real(self, *args, **kwargs)
    with mock.patch.object(handlers.Handlers, "invoke", invoke):
        yield


def run_mirror(backend, source, destination) -> dict:
    """The mirror function on one SQS batch: a new key copied server-side,
    one streamed to a destination reached with a secret's keys, a key gone
    from the source deleted, and a multipart copy that fails (its upload aborted)."""
    from bucketsync import mirror
    backend.put(source, "mirror/new.txt", b"n", Tagging="m=1")
    backend.put(source, "keys/streamed.txt", b"s")
    backend.put(destination, "mirror/gone.txt", b"g")
    backend.put_multipart(source, "mirror/big.bin", (5 * MiB, 10))
    mirrors = [mirror.check_mirror(entry) for entry in mirror_entries(source, destination)]
    records = [{"messageId": name, "body": json.dumps({
        "source": "aws.s3", "detail-type": kind, "time": "2026-11-23T00:00:00Z",
        "detail": {"bucket": {"name": source}, "object": {"key": key}}})}
        for name, kind, key in (("new", "Object Created", "mirror/new.txt"), ("keyed", "Object Created", "keys/streamed.txt"),
                                ("gone", "Object Deleted", "mirror/gone.txt"), ("big", "Object Created", "mirror/big.bin"))]
    handler = handlers.load_handler(FUNCTIONS_DIR / "mirror_keys.py")
    environment = {mirror.MIRRORS_VARIABLE: json.dumps([m.to_dict() for m in mirrors]), "BUCKETSYNC_RETRY_SECONDS": "1"}
    with local_environment.environment(environment), always_fail("big.bin"):
        clients.reset()
        token = handlers.INVOKED.set("mirror_keys")
        try:
            return handler({"Records": records}, None)
        finally:
            handlers.INVOKED.reset(token)


def mirror_entries(source, destination) -> list[dict]:
    return [{"name": "plain", "source": f"s3://{source}/mirror/", "destination": f"s3://{destination}/mirror/"},
            {"name": "keyed", "source": f"s3://{source}/keys/", "destination": f"s3://{destination}/keys/",
             "destination_endpoint": {"secret": SECRETS[1]}}]


def datasync_tasks(source, destination) -> dict:
    return {"dated": {"source": f"s3://{source}/dated/", "destination": f"s3://{destination}/dated/"}}


def notify_datasync(execution_arn: str, tasks: dict, topic: str) -> None:
    """The notifier, as EventBridge runs it for the execution's SUCCESS."""
    handler = handlers.load_handler(FUNCTIONS_DIR / "datasync_notify.py")
    event = {"source": "aws.datasync", "detail-type": "DataSync Task Execution State Change",
             "resources": [execution_arn], "detail": {"State": "SUCCESS"}}
    environment = {"BUCKETSYNC_SNS_TOPIC_ARN": topic, TASKS_VARIABLE: to_environment(datasync_runs.local_tasks(tasks))}
    with local_environment.environment(environment), datasync_runs.local_datasync(tasks):
        token = handlers.INVOKED.set("datasync_notify")
        try:
            assert handler(event, None) == {"sent": True}
        finally:
            handlers.INVOKED.reset(token)


class Calls(list):
    buckets: tuple[str, str]


def _work_buckets(calls) -> set[str]:
    return {c.params["Bucket"] for c in calls if c.params.get("Bucket", "").startswith("bucketsync-scratch-")}


def _policies(calls, topic):
    """{function module: policy documents} of the template rendered for these
    runs' buckets and topic."""
    source, destination = calls.buckets
    cfg = config.check({"region": "us-east-1", "source_buckets": [source], "destination_buckets": [destination],
                        "sns_topic_arn": topic, "datasync_tasks": datasync_tasks(source, destination),
                        "endpoint_secrets": list(SECRETS), "mirrors": mirror_entries(source, destination)})
    built = template.build(cfg, ACCOUNT, "artifacts", "code.zip")
    roles = iam.role_policies(built, {"WorkBucket.Arn": f"arn:aws:s3:::{iam.WORK}", "WorkBucket": iam.WORK,
                                      "DataSyncTaskDated": local_datasync.task_arn("dated"),
                                      "MirrorQueue.Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:mirror"})
    return {f.module: roles[f"{f.logical_name}Role"] for f in lambda_files()}


def _denied(calls, policies, work) -> list[str]:
    out = []
    for call in set(calls):
        for action, resource in iam.needs(call, work):
            if not iam.allowed(policies[call.function], action, resource):
                out.append(f"{call.function}: {call.operation} needs {action} on {resource}")
    return sorted(set(out))


def test_every_call_of_every_function_is_allowed_by_its_role(recorded):
    calls, topic = recorded
    functions = {c.function for c in calls}
    # Guard is pure (no AWS call, no Access); every other function must have
    # been exercised, or the contract would say nothing about it.
    pure = {f.module for f in lambda_files() if not f.front_matter.get("Access")}
    assert pure == {"guard"}
    assert functions == {f.module for f in lambda_files()} - pure, "some function made no call"
    assert _denied(calls, _policies(calls, topic), _work_buckets(calls)) == []


def _target(resource, calls) -> str:
    source, destination = calls.buckets
    text = str(resource)
    return ("work" if iam.WORK in text else "source" if source in text else "destination" if destination in text
            else text)


def test_taking_away_any_granted_right_breaks_the_contract(recorded):
    """Least privilege, proven: for every statement of every function's role
    and every action in it, the role without that action there refuses some
    recorded call (or the right is listed above with its reason)."""
    calls, topic = recorded
    policies, work = _policies(calls, topic), _work_buckets(calls)
    unused = set()
    for function, documents in policies.items():
        own = [c for c in calls if c.function == function]
        for d, document in enumerate(documents):
            for n, statement in enumerate(document["Statement"]):
                for action in statement["Action"]:
                    if action in FOR_THE_SERVICE:
                        continue
                    kept = [a for a in statement["Action"] if a != action]
                    cut = [dict(document, Statement=[dict(st, Action=kept) if i == n else st
                                                     for i, st in enumerate(document["Statement"]) if i != n or kept])]
                    if not _denied(own, {function: documents[:d] + cut + documents[d + 1:]}, work):
                        unused.add((function, _target(statement["Resource"], calls), action))
    excepted = NEEDED_ONLY_WHEN_SOMETHING_VANISHES | NEEDED_ONLY_FOR_OTHER_TASK_BUCKETS
    assert excepted <= unused, "a listed exception is needed after all: take it off"
    assert sorted(unused - excepted) == [], "granted but never needed:\n" + "\n".join(map(str, sorted(unused - excepted)))


def test_a_missing_key_read_needs_list_on_its_bucket(recorded):
    """S3 answers a GET/HEAD of a missing key with 403, not 404, without
    s3:ListBucket: Tally reading copy totals that do not exist yet, the
    lease, the idle-runs counter and a copy chunk reading the run's
    copies-stamped hint before any chunk wrote it all rely on the 404."""
    calls, topic = recorded
    policies, work = _policies(calls, topic), _work_buckets(calls)
    misses = [c for c in calls if c.status == 404 and c.operation in ("GetObject", "HeadObject")
              and c.params["Bucket"] in work]
    assert {c.function for c in misses} >= {"tally", "validate_input", "copy_chunk"}
    for call in misses:
        denied = _denied([call], {call.function: iam.without(policies[call.function], "s3:ListBucket")}, work)
        assert denied and "s3:ListBucket" in denied[0]


def _deployed(region="us-east-1"):
    cfg = config.check({"region": region, "source_buckets": ["src-bucket"], "destination_buckets": ["dst-bucket"],
                        "notification_email": "ops@example.com",
                        "schedules": [{"name": "nightly", "expression": "cron(0 2 * * ? *)", "timezone": "UTC",
                                       "input": {"source": "src-bucket", "destination": "dst-bucket"}}]})
    built = template.build(cfg, ACCOUNT, "artifacts", "code.zip")
    names = stack_names.Names(cfg, ACCOUNT)
    values = {"WorkBucket.Arn": f"arn:{names.partition}:s3:::{iam.WORK}", "WorkBucket": iam.WORK,
              "ScheduleDeadLetterQueue.Arn": f"arn:{names.partition}:sqs:{region}:{ACCOUNT}:dlq",
              "NotificationTopic": f"arn:{names.partition}:sns:{region}:{ACCOUNT}:topic",
              "NotificationKey.Arn": f"arn:{names.partition}:kms:{region}:{ACCOUNT}:key/topic-key"}
    return built, names, iam.role_policies(built, values)


def _states(node):
    for name, state in node["States"].items():
        yield name, state
        if "ItemProcessor" in state:
            yield from _states(state["ItemProcessor"])


def _called_arn(built, names, resource: str) -> str:
    """The ARN a Task's `${XFunctionArn}` becomes once CloudFormation fills
    in DefinitionSubstitutions: the version of the function (number 3 here)."""
    placeholder = resource.removeprefix("${").removesuffix("}")
    version = built["Resources"]["StateMachine"]["Properties"]["DefinitionSubstitutions"][placeholder]["Ref"]
    function = built["Resources"][version]["Properties"]["FunctionName"]["Ref"]
    name = built["Resources"][function]["Properties"]["FunctionName"]
    return f"arn:{names.partition}:lambda:{names.region}:{ACCOUNT}:function:{name}:3"


def test_state_machine_role_allows_what_the_definition_does():
    """Each Task's function version exactly as the definition calls it
    (Lambda authorises a qualified ARN only by a qualified or ':*'
    resource); the ItemReader's object reads; the ResultWriter's writes
    (multipart included); the Distributed Maps' child executions."""
    built, names, roles = _deployed()
    policy = roles["StateMachineRole"]
    rendered = json.loads(built["Resources"]["StateMachine"]["Properties"]["DefinitionString"])
    needs = []
    for name, state in _states(rendered):
        if state["Type"] == "Task":
            needs.append(("lambda:InvokeFunction", _called_arn(built, names, state["Resource"])))
        if state["Type"] == "Map" and state.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
            assert state["ItemReader"]["Resource"] == f"arn:{names.partition}:states:::s3:getObject"
            writer = state["ResultWriter"]
            assert writer["Resource"] == f"arn:{names.partition}:states:::s3:putObject"
            assert writer["Parameters"] == {"Bucket": "${WorkBucket}", "Prefix": work.MAP_RESULTS.rstrip("/")}
            results = f"arn:{names.partition}:s3:::{iam.WORK}/{work.MAP_RESULTS}0c1d-map-run/"
            needs += [("s3:GetObject", f"arn:{names.partition}:s3:::{iam.WORK}/runs/x/plan/copy-index.json"),
                      ("s3:PutObject", results + "manifest.json"), ("s3:PutObject", results + "FAILED_0.json"),
                      ("s3:GetObject", results + "SUCCEEDED_0.json"),
                      ("s3:ListMultipartUploadParts", results + "SUCCEEDED_0.json"),
                      ("s3:AbortMultipartUpload", results + "SUCCEEDED_0.json"),
                      ("states:StartExecution", names.state_machine_arn),
                      ("states:DescribeExecution", f"{names.executions_arn}/{name}:child-id"),
                      ("states:StopExecution", f"{names.executions_arn}/{name}:child-id")]
    assert needs
    denied = [need for need in needs if not iam.allowed(policy, *need)]
    assert denied == []
    # The role is scoped: another function, the unqualified function (the
    # definition never calls it), another bucket, another machine are refused.
    function = names.function_arn(lambda_files()[0])
    assert not iam.allowed(policy, "lambda:InvokeFunction", function.replace(names.stack, "someone-else") + ":3")
    assert not iam.allowed(policy, "lambda:InvokeFunction", function)
    assert not iam.allowed(policy, "s3:GetObject", "arn:aws:s3:::dst-bucket/x")
    assert not iam.allowed(policy, "s3:PutObject", f"arn:aws:s3:::{iam.WORK}/runs/x/plan/copy-index.json")


def test_scheduler_role_may_start_exactly_the_live_alias():
    """Step Functions authorises StartExecution of `<machine>:live` against
    the unqualified ARN with states:StateMachineQualifier = "live"."""
    _, names, roles = _deployed()
    policy = roles["SchedulerRole"]
    assert iam.allowed(policy, "states:StartExecution", names.state_machine_arn,
                       {"states:StateMachineQualifier": stack_names.ALIAS})
    assert not iam.allowed(policy, "states:StartExecution", names.state_machine_arn,
                           {"states:StateMachineQualifier": "1"})
    assert iam.allowed(policy, "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq")
