"""Expand the SAM transform locally with aws-sam-translator (used by the
tests, and by deploys against emulators whose CloudFormation cannot)."""
from __future__ import annotations

import copy
import os

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform


class _NoManagedPolicies(ManagedPolicyLoader):
    """The template names no managed policies, so none need looking up."""

    def __init__(self):
        pass

    def load(self):
        return {}


def translate(template: dict, region: str) -> dict:
    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        return transform(copy.deepcopy(template), {}, _NoManagedPolicies())
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved
