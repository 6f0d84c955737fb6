"""`fab sync` ends its process without the interpreter's teardown
(cli.exit_now): the status and every line written must still come out."""
import os
import subprocess
import sys


def test_the_status_and_buffered_output_survive_the_quick_exit():
    code = ("import sys; from bucketsync.local import cli; print('{\"copied\": 1}'); "
            "print('error: x', file=sys.stderr, end=''); sys.stdout.write('tail'); cli.exit_now(3)")
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=buffered)
    assert (done.returncode, done.stdout, done.stderr) == (3, '{"copied": 1}\ntail', "error: x")
