"""The deploy tooling's errors. Every one of them is a `DeployError`, so each
`fab` task turns any of them into one line (`tasks._run`), never a traceback."""
from __future__ import annotations


class DeployError(Exception):
    """A deploy step cannot go on; the message says which and why."""


class ConfigError(DeployError, ValueError):
    """A deploy setting is missing or wrong; the message says which and how to fix it."""


class FrontMatterError(DeployError, ValueError):
    """A lambda_functions/ file's front matter is malformed; the message names the file and key."""


class ConcurrencyError(DeployError, ValueError):
    """The configured concurrency cannot work in this account."""
