"""An emulated AWS account for deploy tests: a moto server in this process
into which `fab deploy` really deploys, and whose state machines really run
the deployed Lambda handlers.

Where moto's emulation falls short of what a deployed stack relies on, it is
made to behave as AWS documents (each patch says which rule it stands for)."""
from __future__ import annotations

import contextlib
import contextvars
import io
import types
import zipfile
from unittest import mock

from bucketsync.local.emulator import in_process_lambdas
from bucketsync.local.handlers import Handlers


class PackagedHandlers(Handlers):
    """A deployed function runs the handler file of its own code package, the
    one of the version invoked (the `bucketsync` library is this process's
    either way), so a test sees which code ran."""

    def __init__(self):
        super().__init__()
        self.packaged: dict[tuple[str, str], object] = {}

    def handler_for(self, function, module: str):
        if not getattr(function, "code_bytes", None):
            return super().handler_for(function, module)
        key = (function.code_sha_256, module)
        if key not in self.packaged:
            with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
                source = archive.read(f"{module}.py").decode("utf-8")
            loaded = types.ModuleType(f"bucketsync_lambda_{module}_{function.code_sha_256[:8]}")
            exec(compile(source, f"{module}.py", "exec"), loaded.__dict__)   # noqa: S102 - our own package
            self.packaged[key] = loaded.handler
        return self.packaged[key]


@contextlib.contextmanager
def emulated_account():
    """While active, deployments into moto (server or decorator) in this
    process behave as on AWS:
    - Lambdas run in-process, each invocation with the handler file from the
      code package of the version it names (so a test sees which code ran);
    - state machines that CloudFormation creates land in the executing
      interpreter's backend (moto's CloudFormation model writes them to the
      non-executing one, where no execution would run);
    - `DefinitionSubstitutions` are applied, and `Ref` of an
      `AWS::Lambda::Version` is the version's ARN;
    - starting an execution of an alias or a version runs that version's
      definition (moto's version objects lack the execution machinery), and
      versions can be deleted."""
    from moto.awslambda.models import LambdaVersion
    from moto.awslambda.models import get_backend as lambda_backend
    from moto.cloudformation.parsing import ResourceMap
    from moto.core.responses import EmptyResult
    from moto.stepfunctions import models as sfn_models
    from moto.stepfunctions.responses import StepFunctionResponse
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend, stepfunctions_parser_backends

    original_start = StepFunctionsParserBackend.start_execution
    original_version = LambdaVersion.create_from_cloudformation_json.__func__
    original_create = sfn_models.StateMachine.create_from_cloudformation_json.__func__
    original_update = sfn_models.StateMachine.update_from_cloudformation_json.__func__
    original_stack_update = ResourceMap.update
    updating = contextvars.ContextVar("bucketsync_stack_update", default=False)

    def start_execution(backend, state_machine_arn, *args, **kwargs):
        parts = state_machine_arn.split(":")
        if not (len(parts) == 8 and parts[5] == "stateMachine"):
            return original_start(backend, state_machine_arn, *args, **kwargs)
        machine_arn = ":".join(parts[:7])
        version_arn = state_machine_arn
        if not parts[7].isdigit():   # an alias: the version it routes to
            alias = backend.describe_state_machine_alias(state_machine_arn)
            version_arn = alias.routing_configuration[0]["stateMachineVersionArn"]
        machine = backend.describe_state_machine(machine_arn)
        saved = machine.definition
        machine.definition = backend.describe_state_machine(version_arn).definition
        try:   # the execution takes its snapshot of the definition as it starts
            return original_start(backend, machine_arn, *args, **kwargs)
        finally:
            machine.definition = saved

    # moto's stack update creates new resources before it updates changed
    # ones, so a new AWS::Lambda::Version would snapshot the old code. AWS
    # orders by dependency: the version is published after the function's
    # update. During an update the version number is therefore reserved
    # (the next one) and published once the update is through.
    pending: list = []

    def create_version(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        name = cloudformation_json["Properties"]["FunctionName"].split(":")[-1]
        lam = lambda_backend(account_id, region_name)
        if updating.get():
            reserved = len(lam._lambdas._functions[name]["versions"]) + 1
            pending.append((lam, name, reserved))
            created = LambdaVersion({"Version": reserved})
        else:
            created = original_version(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        created.physical_resource_id = f"arn:aws:lambda:{region_name}:{account_id}:function:{name}:{created.version}"
        return created

    def update_stack(resource_map, template, *args, **kwargs):
        # A logical ID that comes back into the template (retained when it
        # left) is a new resource on AWS; moto would reuse its old object.
        for name in set(template["Resources"]) - set(resource_map._resource_json_map):
            resource_map._parsed_resources.pop(name, None)
        token = updating.set(True)
        try:
            result = original_stack_update(resource_map, template, *args, **kwargs)
        finally:
            updating.reset(token)
        while pending:
            lam, name, reserved = pending.pop(0)
            published = lam.publish_version(name)
            if int(published.version) != reserved:
                raise RuntimeError(f"emulated account: {name} published version {published.version}, "
                                   f"not the reserved {reserved}")
        return result

    def substituted(cloudformation_json):
        properties = dict(cloudformation_json.get("Properties") or {})
        text = properties.get("DefinitionString")
        for name, value in (properties.pop("DefinitionSubstitutions", None) or {}).items():
            text = text.replace("${" + name + "}", str(value))
        properties["DefinitionString"] = text
        return dict(cloudformation_json, Properties=properties)

    def create_machine(cls, resource_name, cloudformation_json, *args, **kwargs):
        return original_create(cls, resource_name, substituted(cloudformation_json), *args, **kwargs)

    def update_machine(cls, original_resource, new_resource_name, cloudformation_json, *args, **kwargs):
        return original_update(cls, original_resource, new_resource_name, substituted(cloudformation_json),
                               *args, **kwargs)

    def delete_version(backend, arn):
        """DeleteStateMachineVersion, which moto lacks; AWS refuses to delete
        a version an alias routes to (ConflictException)."""
        machine_arn, number = arn.rsplit(":", 1)
        machine = backend.describe_state_machine(machine_arn)
        for alias in machine.aliases.values():
            if any(r["stateMachineVersionArn"] == arn for r in alias.routing_configuration):
                raise RuntimeError(f"version {arn} is referenced by alias {alias.name}")
        machine.versions.pop(int(number), None)

    def delete_version_response(responses):
        delete_version(responses.stepfunction_backend, responses._get_param("stateMachineVersionArn"))
        return EmptyResult()

    with in_process_lambdas(PackagedHandlers()), \
         mock.patch.object(StepFunctionsParserBackend, "delete_state_machine_version", delete_version, create=True), \
         mock.patch.object(StepFunctionResponse, "delete_state_machine_version", delete_version_response,
                           create=True), \
         mock.patch.object(sfn_models, "stepfunctions_backends", stepfunctions_parser_backends), \
         mock.patch.object(StepFunctionsParserBackend, "start_execution", start_execution), \
         mock.patch.object(LambdaVersion, "create_from_cloudformation_json", classmethod(create_version)), \
         mock.patch.object(ResourceMap, "update", update_stack), \
         mock.patch.object(sfn_models.StateMachine, "create_from_cloudformation_json", classmethod(create_machine)), \
         mock.patch.object(sfn_models.StateMachine, "update_from_cloudformation_json", classmethod(update_machine)):
        yield
