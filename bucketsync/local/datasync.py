"""A local DataSync for local runs and tests: it really copies (moto's
DataSync records tasks and statuses but copies nothing).

It answers the calls bucketsync makes, in boto3's shapes
(`start_task_execution`, `describe_task_execution`, `list_task_executions`),
so the steps run the same code against it as against AWS. An execution runs
in a thread through DataSync's statuses (QUEUED while another execution of
the task runs, LAUNCHING, PREPARING, TRANSFERRING, VERIFYING, then SUCCESS or
ERROR with an ErrorCode and ErrorDetail) and counts files and bytes.

Semantics kept (API_Options.html, filtering.html):
- include/exclude SIMPLE_PATTERN filters (bucketsync.datasync.filters);
- TransferMode CHANGED transfers what is absent or differs at the
  destination (size or content: DataSync compares metadata; here the ETag,
  or the MD5 of a local file, stands in for it), ALL transfers everything;
- OverwriteMode NEVER leaves existing destination objects alone;
- PreserveDeletedFiles REMOVE deletes destination objects that the source
  lacks, within the execution's filters only;
- ObjectTags PRESERVE copies S3 tags, NONE drops them;
- a source that cannot be read (a directory that does not exist or cannot
  be listed) fails the execution: it is never read as empty (with REMOVE
  that would delete every destination object);
- a file that cannot be read (a dangling symbolic link, a forbidden file)
  is skipped and counted in `FilesFailed` (DescribeTaskExecution's
  TaskExecutionFilesFailedDetail); the rest is transferred, and the
  execution then ends in ERROR naming the files, as a Basic-mode DataSync
  execution does when it skipped files because of errors ("Transfer and
  verification completed. Selected files transferred except for files
  skipped due to errors"). Its destination copy is not deleted by REMOVE:
  a file that could not be read is not proven gone.
Sources: an S3 location (on the run's endpoint) or a local directory
standing in for EFS; destinations: S3.
"""
from __future__ import annotations

import hashlib
import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from botocore.exceptions import ClientError

from .. import clients, interrupt, s3
from ..errors import SkippedFilesError
from ..datasync import filters
from ..datasync.sources import file_size, walk_files
from ..datasync.tasks import TaskSpec

ACCOUNT, REGION = "123456789012", "us-east-1"
TERMINAL = ("SUCCESS", "ERROR")
# Called with (operation, params, HTTP status) for every API call answered,
# as botocore's after-call hooks are for AWS calls (the tests' rights contract).
CALL_HOOKS: list = []


def _answered(operation: str, params: dict, status: int = 200) -> None:
    for hook in CALL_HOOKS:
        hook(operation, params, status)


def task_arn(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:17]
    return f"arn:aws:datasync:{REGION}:{ACCOUNT}:task/task-{digest}"


def _invalid(message: str) -> ClientError:
    return ClientError({"Error": {"Code": "InvalidRequestException", "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, "StartTaskExecution")


@dataclass
class _Execution:
    arn: str
    task: TaskSpec
    includes: str
    excludes: str
    options: dict
    status: str = "QUEUED"
    start: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    counts: dict = field(default_factory=lambda: dict.fromkeys(
        ("EstimatedFilesToTransfer", "EstimatedBytesToTransfer", "FilesTransferred", "BytesTransferred",
         "BytesWritten", "FilesDeleted", "FilesSkipped", "FilesVerified"), 0))
    # DataSync's TaskExecutionFilesFailedDetail: files it could not prepare,
    # transfer, verify or delete.
    files_failed: dict = field(default_factory=lambda: dict.fromkeys(("Prepare", "Transfer", "Verify", "Delete"), 0))
    error: tuple[str, str] | None = None
    done: threading.Event = field(default_factory=threading.Event)


class LocalDataSync:
    def __init__(self, tasks: dict[str, TaskSpec]):
        self.tasks: dict[str, TaskSpec] = {}
        self.executions: dict[str, _Execution] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._changed = threading.Condition(self._lock)
        self.add_tasks(tasks)

    def add_tasks(self, tasks: dict[str, TaskSpec]) -> None:
        """Define (or redefine) tasks by name; running executions keep theirs."""
        with self._lock:
            self.tasks.update({task_arn(name): spec for name, spec in tasks.items()})

    # ---- the API -------------------------------------------------------------
    def start_task_execution(self, TaskArn: str, Includes=(), Excludes=(), OverrideOptions=None, **_):
        _answered("StartTaskExecution", {"TaskArn": TaskArn, "Includes": list(Includes or ()),
                                         "Excludes": list(Excludes or ())})
        spec = self.tasks.get(TaskArn)
        if spec is None:
            raise _invalid(f"Task {TaskArn} not found")
        options = dict(spec.options, **(OverrideOptions or {}))
        with self._lock:
            running = [e for e in self.executions.values() if e.task.name == spec.name and e.status not in TERMINAL]
            if running and options.get("TaskQueueing", "ENABLED") == "DISABLED":
                raise _invalid(f"Task {TaskArn} is already running an execution (TaskQueueing is DISABLED)")
            arn = f"{TaskArn}/execution/exec-{next(self._ids):017x}"
            execution = _Execution(arn, spec, filters.rule_value(Includes), filters.rule_value(Excludes), options)
            self.executions[arn] = execution
        threading.Thread(target=self._run, args=(execution, running), daemon=True,
                         name=f"local-datasync-{arn[-8:]}").start()
        return {"TaskExecutionArn": arn}

    def describe_task(self, TaskArn: str, **_):
        """As DataSync answers it: RUNNING or QUEUED while an execution of the
        task has not ended, else AVAILABLE."""
        _answered("DescribeTask", {"TaskArn": TaskArn})
        spec = self.tasks.get(TaskArn)
        if spec is None:
            raise _invalid(f"Task {TaskArn} not found")
        with self._lock:
            busy = any(e.task.name == spec.name and e.status not in TERMINAL for e in self.executions.values())
        return {"TaskArn": TaskArn, "Name": spec.name, "Status": "RUNNING" if busy else "AVAILABLE"}

    def describe_task_execution(self, TaskExecutionArn: str, wait: float = 0.2):
        """As DataSync answers it. Waits up to `wait` seconds for a change of
        status first, so a poll loop with no Wait time does not spin."""
        _answered("DescribeTaskExecution", {"TaskExecutionArn": TaskExecutionArn})
        with self._changed:
            execution = self.executions.get(TaskExecutionArn)
            if execution is None:
                raise _invalid(f"Task execution {TaskExecutionArn} not found")
            if execution.status not in TERMINAL and wait:
                self._changed.wait(wait)
            answer = {"TaskExecutionArn": execution.arn, "Status": execution.status,
                      "StartTime": execution.start, "Options": execution.options,
                      "Includes": filters.filter_rules(execution.includes),
                      "Excludes": filters.filter_rules(execution.excludes), **execution.counts,
                      "FilesFailed": dict(execution.files_failed)}
            result = {}
            if execution.error:
                result = {"ErrorCode": execution.error[0], "ErrorDetail": execution.error[1]}
            answer["Result"] = result
            return answer

    def list_task_executions(self, TaskArn: str | None = None, **_):
        _answered("ListTaskExecutions", {"TaskArn": TaskArn})
        with self._lock:
            return {"TaskExecutions": [{"TaskExecutionArn": e.arn, "Status": e.status}
                                       for e in self.executions.values()
                                       if TaskArn is None or task_arn(e.task.name) == TaskArn]}

    # ---- running ---------------------------------------------------------------
    def _status(self, execution: _Execution, status: str) -> None:
        with self._changed:
            execution.status = status
            self._changed.notify_all()

    def _run(self, execution: _Execution, ahead: list[_Execution]) -> None:
        for other in ahead:          # queued: first in, first out
            other.done.wait()
        try:
            for status in ("LAUNCHING", "PREPARING"):
                self._status(execution, status)
            plan = _Transfer(execution)
            self._status(execution, "TRANSFERRING")
            plan.transfer()
            self._status(execution, "VERIFYING")
            plan.verify()
            if plan.failed:
                raise SkippedFilesError(plan.failed)
            self._status(execution, "SUCCESS")
        except Exception as exc:   # noqa: BLE001 - reported as DataSync reports errors
            execution.error = (getattr(exc, "code", None) or type(exc).__name__, str(exc))
            self._status(execution, "ERROR")
        finally:
            execution.done.set()



class _Transfer:
    """One execution's work: what to transfer and delete, then doing it."""

    def __init__(self, execution: _Execution):
        self.execution = execution
        spec = execution.task
        self.source, self.destination = spec.source, spec.destination
        self.client = clients.data_client()
        includes, excludes = filters.compile_filter(execution.includes), filters.compile_filter(execution.excludes)

        def keep(path):
            return filters.selects(path, includes, excludes)
        self.failed: list[tuple[str, str]] = []       # (path, why) of source files that could not be read
        src, dst = self._source_objects(keep), self._s3_objects(self.destination, keep)
        options = execution.options
        mode_all = options.get("TransferMode", "CHANGED") == "ALL"
        never = options.get("OverwriteMode", "ALWAYS") == "NEVER"
        self.to_copy, self.skipped = [], 0
        for path, (size, tag) in sorted(src.items()):
            there = dst.get(path)
            if there is not None and never:
                self.skipped += 1
            elif there is None or mode_all or there != (size, tag):
                self.to_copy.append((path, size))
        unread = {path for path, _ in self.failed}    # not proven gone: never deleted
        self.to_delete = (sorted(set(dst) - set(src) - unread)
                          if options.get("PreserveDeletedFiles", "PRESERVE") == "REMOVE" else [])
        execution.files_failed["Prepare"] = len(self.failed)
        counts = execution.counts
        counts["EstimatedFilesToTransfer"] = len(self.to_copy)
        counts["EstimatedBytesToTransfer"] = sum(size for _, size in self.to_copy)

    def _source_objects(self, keep) -> dict[str, tuple[int, str]]:
        if self.source.kind != "file":
            return self._s3_objects(self.source, keep)
        found = {}
        # walk_files raises when the directory (or one below it) cannot be read.
        for path, file in walk_files(self.source.path):
            if not keep(path):
                continue
            size = file_size(file)
            try:
                if size is None:
                    raise FileNotFoundError("dangling symbolic link" if file.is_symlink() else "cannot be read")
                # S3's ETag of a single PUT is the MD5 of the content.
                found[path] = (size, hashlib.md5(file.read_bytes()).hexdigest())   # noqa: S324
            except OSError as exc:
                self.failed.append((path, exc.strerror or str(exc)))
        return found

    def _s3_objects(self, location, keep) -> dict[str, tuple[int, str]]:
        return {"/" + entry.key: (entry.size, entry.etag.strip('"'))
                for page in s3.list_pages(self.client, location.bucket, location.prefix)
                for entry in page if entry.key and not entry.key.endswith("/") and keep("/" + entry.key)}

    def transfer(self) -> None:
        counts = self.execution.counts
        tags = self.execution.options.get("ObjectTags", "PRESERVE") == "PRESERVE"
        for path, size in self.to_copy:
            interrupt.check("the local DataSync execution")   # a signal stops it between files
            key = self.destination.key(path)
            if self.source.kind == "file":
                self.client.upload_file(str(Path(self.source.path) / path.lstrip("/")), self.destination.bucket, key)
            else:
                source = {"Bucket": self.source.bucket, "Key": self.source.key(path)}
                extra = {} if tags else {"TaggingDirective": "REPLACE", "Tagging": ""}
                self.client.copy_object(CopySource=source, Bucket=self.destination.bucket, Key=key, **extra)
            counts["FilesTransferred"] += 1
            counts["BytesTransferred"] += size
            counts["BytesWritten"] += size
        interrupt.check("the local DataSync execution")
        for path in self.to_delete:
            self.client.delete_object(Bucket=self.destination.bucket, Key=self.destination.key(path))
            counts["FilesDeleted"] += 1
        counts["FilesSkipped"] = self.skipped

    def verify(self) -> None:
        """Every transferred object is at the destination with its size."""
        for path, size in self.to_copy:
            head = self.client.head_object(Bucket=self.destination.bucket, Key=self.destination.key(path))
            if head["ContentLength"] != size:
                raise RuntimeError(f"verification failed: {path} has {head['ContentLength']} bytes at the "
                                   f"destination, {size} at the source")
            self.execution.counts["FilesVerified"] += 1
