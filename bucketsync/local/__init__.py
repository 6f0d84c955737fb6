"""The in-process engine for local runs (`fab sync`, `fab demo`, tests).
Never shipped inside the Lambda zip.

The engine's public harness, for the CLI and tests: `engine.run` (one
execution; `engine.wait` waits for it), `emulator.moto_config` and
`emulator.in_process_lambdas` (moto set up as a run needs it),
`handlers.load_handler`/`handlers.Handlers`/`handlers.INVOKED` (a Lambda
handler called in-process), `environment.environment` (variables set for a
block), `environment.run_environment` (a run's variables) and
`datasync_runs.local_datasync`/`datasync_service` (the local DataSync)."""

from . import service_models

# Every local run (fab sync, fab demo, tests) decodes botocore's data files
# once per process, whichever session asks (service_models says why it is safe).
service_models.install()
