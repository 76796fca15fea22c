"""Hearth's own code run in a child process that file permissions apply to, even when the tests run as root.

Root reads a ``chmod 000`` folder anyway (CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), so a
test of "a folder Hearth may not look in" would prove nothing there. As root the child is
started through util-linux's ``setpriv`` without those two capabilities; as anyone else it
is a plain child. Its result comes back pickled.
"""

from __future__ import annotations

import base64
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NO_OVERRIDE = "-dac_override,-dac_read_search"


def call_without_permission_override(module: str, function: str, timeout: float = 60.0) -> object:
    """``module.function()`` called in a child that cannot read past file permissions; its return value.

    The child inherits this process's environment (so ``HEARTH_HOME`` and the rest).
    """
    command = [sys.executable, "-c",
               "import base64, importlib, pickle, sys\n"
               f"result = getattr(importlib.import_module({module!r}), {function!r})()\n"
               "sys.stdout.write(base64.b64encode(pickle.dumps(result)).decode())\n"]
    if os.name == "posix" and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux) to drop the power to read any folder")
        command = [setpriv, "--bounding-set", NO_OVERRIDE, "--inh-caps", NO_OVERRIDE, *command]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return pickle.loads(base64.b64decode(done.stdout))
