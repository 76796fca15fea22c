"""wizard/ is Hearth's core and must work with no Qt at all (CLI, engine process, tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter where any Qt binding fails to import, then imports every
# module under wizard/ and reports what broke and what got loaded.
IMPORT_EVERYTHING_WITHOUT_QT = r"""
import importlib, json, pkgutil, sys

QT_BINDINGS = ("PySide6", "shiboken6", "PySide2", "PyQt5", "PyQt6")

class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in QT_BINDINGS:
            raise ImportError(f"{name} is blocked: wizard/ must not need Qt")
        return None

sys.meta_path.insert(0, BlockQt())
try:
    import PySide6  # noqa: F401
    blocker_works = False
except ImportError:
    blocker_works = True

import wizard
names = ["wizard"] + [m.name for m in pkgutil.walk_packages(wizard.__path__, "wizard.")]
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failed[name] = repr(exc)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in QT_BINDINGS + ("app",))
print(json.dumps({"blocker_works": blocker_works, "modules": names, "failed": failed,
                  "loaded": loaded}))
"""


def test_every_wizard_module_imports_with_pyside6_blocked() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING_WITHOUT_QT],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["blocker_works"], "the Qt blocker did not block PySide6"
    on_disk = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "wizard").rglob("*.py")
    }
    assert on_disk <= set(report["modules"]), f"modules not imported: {on_disk - set(report['modules'])}"
    assert report["failed"] == {}
    assert report["loaded"] == [], "wizard/ pulled in Qt or the app package"
