"""A sync's options (the flags of `fab sync` and `fab start`), the execution
input they mean, and the flags refused before Invoke misreads them."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidInputError
from .terminal import EXIT_BAD_INPUT, fail_early


@dataclass
class SyncOptions:
    source: str | None = None
    destination: str | None = None
    prefix: str | None = None
    source_prefix: str | None = None
    destination_prefix: str | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    dry_run: bool = False
    no_delete: bool = False
    max_delete: str | None = None
    allow_empty_source: bool = False
    check_metadata: bool = False
    verify: bool = False
    endpoint_url: str | None = None
    # One side's own endpoint and profile (the other side keeps --endpoint-url,
    # or AWS, and the default credentials).
    source_endpoint_url: str | None = None
    source_profile: str | None = None
    destination_endpoint_url: str | None = None
    destination_profile: str | None = None
    json: bool = False
    input: str | None = None          # a whole execution input: JSON, or @file.json


INPUT_FLAGS = ("source", "destination", "prefix", "source_prefix", "destination_prefix", "include", "exclude",
               "dry_run", "no_delete", "max_delete", "allow_empty_source", "check_metadata", "verify")


def execution_input(opts: SyncOptions) -> dict:
    """The execution input: `--input` as given (exactly what the console
    would start), or the one the flags build. Raises InvalidInputError."""
    if opts.input is None:
        return build_input(opts)
    given = [name.replace("_", "-") for name in INPUT_FLAGS if getattr(opts, name) not in (None, False, [])]
    if given:
        raise InvalidInputError(f"--input is the whole execution input: leave out --{', --'.join(given)} "
                                f"(put them in the input)")
    text = opts.input
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"--input {opts.input}: cannot read the file: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"--input is not valid JSON: {exc}") from None


def build_input(opts: SyncOptions) -> dict:
    """The execution input these flags mean (validated later, by the same
    validator the state machine uses)."""
    data = {"source": opts.source if opts.source is not None else "",
            "destination": opts.destination if opts.destination is not None else ""}
    for name in ("prefix", "source_prefix", "destination_prefix"):
        if getattr(opts, name) is not None:
            data[name] = getattr(opts, name)
    if opts.include:
        data["include"] = list(opts.include)
    if opts.exclude:
        data["exclude"] = list(opts.exclude)
    if opts.dry_run:
        data["dry_run"] = True
    if opts.no_delete:
        data["delete"] = False
    if opts.max_delete is not None:
        data["max_delete"] = opts.max_delete
    if opts.allow_empty_source:
        data["allow_empty_source"] = True
    if opts.check_metadata:
        data["check_metadata"] = True
    if opts.verify:
        data["verify"] = True
    return data


REPEATABLE_FLAGS = ("--include", "--exclude")


def flags_without_value(argv: list[str], flags=REPEATABLE_FLAGS) -> list[str]:
    """Repeatable flags given with no value (`--include` last, or followed by
    another flag; `--include=`, or an empty shell variable). Invoke reads
    them as an empty list, which would silently mean "no filter"."""
    missing = []
    for position, arg in enumerate(argv):
        name, equals, value = arg.partition("=")
        if name not in flags:
            continue
        following = argv[position + 1] if position + 1 < len(argv) else None
        if (equals and not value) or (not equals and (following is None or following.startswith("-")
                                                       or following == "")):
            missing.append(name)
    return sorted(set(missing))


def refuse_flags_without_value(argv: list[str], as_json: bool, out, err) -> int | None:
    """EXIT_BAD_INPUT (after saying why) when a repeatable flag has no value."""
    missing = flags_without_value(argv)
    if not missing:
        return None
    message = (f"{', '.join(missing)} given without a value (an unset shell variable?): give a glob, "
               f"or leave the flag out for no filter")
    return fail_early("InvalidInputError", message, as_json, out, err, EXIT_BAD_INPUT)
