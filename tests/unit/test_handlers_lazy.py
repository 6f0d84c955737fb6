"""The engine's handlers are loaded at their first invocation, as Lambda
loads them: a handler file that cannot load fails its own invocations (a
Lambda error named by the exception's class), not every run's start."""
import json

from bucketsync.local.handlers import Handlers, LocalFunction, LocalFunctions

FRONT_MATTER = "# ---\n# Timeout: 30\n# ---\n"


def test_handler_files_load_on_their_first_invocation(tmp_path):
    (tmp_path / "echo.py").write_text(FRONT_MATTER + "def handler(event, context):\n    return {'got': event}\n")
    (tmp_path / "broken.py").write_text(FRONT_MATTER + "raise RuntimeError('cannot load')\n")
    handlers = Handlers(tmp_path)   # loads neither file yet
    functions = LocalFunctions({f"arn:{name}": LocalFunction(name, f"{name}.handler") for name in ("echo", "broken")})
    headers: dict = {}
    assert json.loads(handlers.invoke(functions, "echo", None, b'{"a": 1}', {}, headers)) == {"got": {"a": 1}}
    assert headers == {}
    answer = json.loads(handlers.invoke(functions, "broken", None, b"{}", {}, headers))
    assert headers == {"x-amz-function-error": "Unhandled"}
    assert (answer["errorType"], answer["errorMessage"]) == ("RuntimeError", "cannot load")
