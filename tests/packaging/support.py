"""Load the packaging scripts (plain files under packaging/, not a package) for the tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def load_script(relative: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


spec_support = load_script("packaging/pyinstaller/spec_support.py", "hearth_spec_support")
build_linux = load_script("packaging/build_linux.py", "hearth_build_linux")
