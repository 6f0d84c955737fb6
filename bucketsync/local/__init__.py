"""The in-process engine for local runs (`fab sync`, `fab demo`, tests).
Never shipped inside the Lambda zip.

The engine's public harness, for the CLI and tests: `engine.run` (one
execution; `engine.wait` waits for it), `emulator.moto_config` and
`emulator.in_process_lambdas` (moto set up as a run needs it),
`handlers.load_handler`/`handlers.Handlers`/`handlers.INVOKED` (a Lambda
handler called in-process), `environment.environment` (variables set for a
block), `environment.run_environment` (a run's variables) and
`datasync_runs.local_datasync`/`datasync_service` (the local DataSync)."""
import gc

from . import service_models

# Every local run (fab sync, fab demo, tests) decodes botocore's data files
# once per process, whichever session asks (service_models says why it is safe).
service_models.install()

# A local run's start-up creates some 10^6 long-lived objects (modules,
# classes, decoded service models): at Python's default gen-0 threshold (700)
# the cyclic collector ran ~330 times and twice over the whole heap, 0.15 s
# of a 20-object `fab sync`. Ten times the threshold leaves ~100 young
# collections and no full one; garbage cycles are still collected.
GC_THRESHOLD = 7000
if gc.get_threshold()[0] < GC_THRESHOLD:   # never lower one raised by someone else
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
