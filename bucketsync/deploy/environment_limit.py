"""Lambda's 4 KB limit on a function's environment variables, checked as
the template is built (DATASYNC_TASKS and MIRRORS travel in them)."""
from __future__ import annotations

import json
import re

from ..errors import ConfigError

# Lambda refuses a function whose environment variables take more than 4 KB
# in all (CreateFunction/UpdateFunctionConfiguration: "Lambda was unable to
# configure your environment variables because the environment variables you
# have provided exceeded the 4KB limit. String measured: {...}"), counted
# here as Lambda measures it: the variables as one compact JSON object. Values CloudFormation fills in count at the longest
# they can resolve to, so a stack that passes here cannot fail there.
ENVIRONMENT_BYTES = 4096
_LONGEST_ARN = len("arn:aws-iso-b:datasync:us-isob-east-1:123456789012:task/task-0123456789abcdef0")
_LONGEST_RESOLVED = {"Ref": 256, "Fn::GetAtt": 256}   # a bucket name (63), a topic ARN (at most 256)


def environment_bytes(variables: dict) -> int:
    """The size Lambda measures of these variables: the map as compact JSON
    (its error quotes the "String measured", braces, quotes and escapes
    included), placeholders resolved at their longest (`${X}` in Fn::Sub: a
    DataSync task's ARN), non-ASCII text counted escaped or not, whichever
    is longer."""
    def resolved(value) -> str:
        if isinstance(value, str):
            return value
        (function, argument), = value.items()
        if function == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            return re.sub(r"\$\{[^}]+\}", "x" * _LONGEST_ARN, text)
        return "x" * _LONGEST_RESOLVED[function]
    measured = {name: resolved(value) for name, value in variables.items()}
    return max(len(json.dumps(measured, separators=(",", ":"), ensure_ascii=ascii).encode()) for ascii in (True, False))


def check_environment(function: str, variables: dict) -> None:
    size = environment_bytes(variables)
    if size > ENVIRONMENT_BYTES:
        largest = max(variables, key=lambda name: environment_bytes({name: variables[name]}))
        raise ConfigError(f"function {function}: its environment variables would take up to {size:,} bytes, more "
                          f"than Lambda's 4 KB ({ENVIRONMENT_BYTES:,}); the largest is {largest} (from "
                          f"DATASYNC_TASKS or MIRRORS: use fewer or shorter entries)")
