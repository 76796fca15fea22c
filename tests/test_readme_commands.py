"""The README opens with two commands, and CI runs exactly the second one (not a copy of it)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The command lines of README.md's first ```sh block (comments and blank lines dropped)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert block, "README.md has no ```sh block"
    lines = (line.split("#", 1)[0].strip() for line in block.group(1).splitlines())
    return [line for line in lines if line]


def test_the_readme_opens_with_exactly_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.index("```sh") < text.index("## ")  # before anything else the README says
    assert readme_commands() == ["python3 packaging/dev.py run", "python3 packaging/dev.py test"]


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None, reason="needs bash, timeout")
def test_ci_runs_the_readmes_test_command(tmp_path: Path) -> None:
    # Running CI for real takes an hour: a python3 placed first on PATH writes down how it was
    # called (folder and arguments) and does nothing else, so only .ci/run's own logic runs.
    shim = tmp_path / "bin"
    shim.mkdir()
    calls = tmp_path / "calls.txt"
    (shim / "python3").write_text(f'#!/bin/sh\n{{ printf "%s" "$PWD"; printf "\\t%s" "$@"; echo; }} >> "{calls}"\n')
    (shim / "python3").chmod(0o755)
    env = dict(os.environ, PATH=f"{shim}{os.pathsep}{os.environ['PATH']}")

    done = subprocess.run(["bash", str(REPO / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    recorded = [line.split("\t") for line in calls.read_text(encoding="utf-8").splitlines()]
    assert {folder for folder, *_ in recorded} == {str(REPO)}  # from the repository, as the README says
    test_command = shlex.split(readme_commands()[1])
    assert test_command[0] == "python3"
    invocations = [arguments for _, *arguments in recorded]
    assert invocations.count(test_command[1:]) == 1
    # Anything else CI does with python3 is dev.py's other sub-commands, never another test run.
    others = [arguments for arguments in invocations if arguments != test_command[1:]]
    assert all(arguments[:1] == ["packaging/dev.py"] and arguments[1] in ("system-packages", "bundle")
               for arguments in others), others
