"""Lambda front matter: the commented YAML block between `# ---` lines at the
top of each `lambda_functions/*.py` file."""
from __future__ import annotations

from ..errors import FrontMatterError

from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "lambda_functions"
# Keys that become AWS::Serverless::Function properties as they are...
SAM_KEYS = {"Description", "MemorySize", "Timeout", "Environment", "ReservedConcurrentExecutions",
            "Architectures", "Runtime", "EphemeralStorage"}
# ...and `Access`, ours: what the function may do to which bucket, turned into
# IAM statements scoped to the configured buckets (least privilege), e.g.
#   Access: {source: [list, read, tags], destination: [list, read, write], work: [read, write]}
# (the actions of each right: iam_policies.S3_RIGHTS; `decrypt` and `encrypt`:
# iam_policies.KMS_RIGHTS, on the configured KMS_KEY_ARNS through S3 only).
ACCESS_TARGETS = {"source": {"list", "read", "tags", "decrypt", "encryption"},
                  "destination": {"list", "read", "tags", "write", "retag", "multipart", "abort", "tagged", "delete", "encrypt",
                                  "encryption"},
                  "work": {"list", "read", "write", "delete"}, "notifications": {"publish"},
                  # DATASYNC_TASKS: list the tasks' S3 ends (expand templates, the
                  # empty-source guard), start, follow executions
                  # (deploy.datasync_template.function_statements).
                  "datasync": {"list", "start", "follow"},
                  # ENDPOINT_SECRETS: read the key pairs of other endpoints.
                  "secrets": {"read"}}
# `Trigger`, ours too: a function that is not a state of the definition but
# runs on events (datasync-events: the DataSync notification rule;
# mirror-queue: the MIRRORS queue, deploy.mirror_template).
TRIGGERS = {"datasync-events", "mirror-queue"}
ALLOWED_KEYS = SAM_KEYS | {"Access", "Trigger"}


@dataclass(frozen=True)
class LambdaFile:
    path: Path
    front_matter: dict

    @property
    def module(self) -> str:
        return self.path.stem

    @property
    def logical_name(self) -> str:
        """copy_chunk.py -> CopyChunk (the state name and resource prefix)."""
        return "".join(part.capitalize() for part in self.module.split("_"))

    @property
    def is_state(self) -> bool:
        """Called by the state machine (else run by its `Trigger`)."""
        return "Trigger" not in self.front_matter

    @property
    def arn_placeholder(self) -> str:
        return f"{self.logical_name}FunctionArn"


def parse(path: Path) -> dict:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != "# ---":
        raise FrontMatterError(f"{path.name}: no front matter (the file must start with a '# ---' line)")
    body = []
    for line in lines[1:]:
        if line.strip() == "# ---":
            break
        if not line.startswith("#"):
            raise FrontMatterError(f"{path.name}: front matter line is not a comment: {line!r}")
        body.append(line[2:] if line.startswith("# ") else line[1:])
    else:
        raise FrontMatterError(f"{path.name}: front matter is not closed by a '# ---' line")
    try:
        data = yaml.safe_load("\n".join(body)) or {}
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"{path.name}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise FrontMatterError(f"{path.name}: front matter must be a mapping")
    unknown = sorted(set(data) - ALLOWED_KEYS)
    if unknown:
        raise FrontMatterError(f"{path.name}: unknown front matter key(s) {', '.join(unknown)}; "
                               f"allowed: {', '.join(sorted(ALLOWED_KEYS))}")
    _check_access(path, data.get("Access", {}))
    if "Trigger" in data and data["Trigger"] not in TRIGGERS:
        raise FrontMatterError(f"{path.name}: Trigger must be one of {sorted(TRIGGERS)}, got {data['Trigger']!r}")
    return data


def _check_access(path: Path, access) -> None:
    if not isinstance(access, dict):
        raise FrontMatterError(f"{path.name}: Access must be a mapping of target to a list of rights")
    for target, rights in access.items():
        allowed = ACCESS_TARGETS.get(target)
        if allowed is None:
            raise FrontMatterError(f"{path.name}: Access target {target!r} is unknown; allowed: {sorted(ACCESS_TARGETS)}")
        if not isinstance(rights, list) or not set(rights) <= allowed:
            raise FrontMatterError(f"{path.name}: Access {target} must be a list of {sorted(allowed)}, got {rights!r}")


def lambda_files(directory: Path = FUNCTIONS_DIR) -> list[LambdaFile]:
    return [LambdaFile(path, parse(path)) for path in sorted(directory.glob("*.py"))]
