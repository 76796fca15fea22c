"""The frozen app is its own engine process: `Hearth --engine-server …` and the numpy-free llama_cpp."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.packaging.support import REPO
from wizard.engine import GenerationParams, LoadPlan, LocalEngine
from wizard.engine.process import FROZEN_ENGINE_FLAG, default_launcher, engine_command

PLAN = LoadPlan(n_ctx=512, n_threads=2)
GREEDY = GenerationParams(temperature=0, max_tokens=24)
QUESTION = [{"role": "user", "content": "Name the capital city of France."}]
RUNTIME_HOOK = REPO / "packaging" / "pyinstaller" / "rthook_hearth.py"


def test_from_source_the_engine_is_python_dash_m() -> None:
    assert default_launcher() == [sys.executable, "-m", "wizard.engine.server"]


def test_when_frozen_the_engine_is_the_app_itself(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    argv = engine_command(tmp_path / "m.gguf", PLAN)
    assert argv[:4] == [sys.executable, FROZEN_ENGINE_FLAG, "--model", str(tmp_path / "m.gguf")]


@pytest.mark.slow
def test_the_app_entry_point_runs_the_engine(tiny_model: Path) -> None:
    """`hearth --engine-server` (what the frozen app's child runs) serves the real model."""

    def command(model: Path, plan: LoadPlan, **kwargs) -> list[str]:
        return engine_command(model, plan, launcher=[sys.executable, "-m", "app", FROZEN_ENGINE_FLAG], **kwargs)

    with LocalEngine(tiny_model, PLAN, command=command) as engine:
        reply = engine.client().chat(QUESTION, params=GREEDY)
    assert "Paris" in reply.text


@pytest.mark.slow
def test_the_engine_runs_without_numpy_through_the_runtime_hook(tiny_model: Path, tmp_path: Path) -> None:
    """In the bundle numpy is left out; the runtime hook must make llama_cpp work without it."""
    driver = tmp_path / "engine_without_numpy.py"
    driver.write_text(f"""
import importlib.abc, sys

class NoNumpy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError("numpy is not in the bundle")
        return None

sys.meta_path.insert(0, NoNumpy())
sys.path.insert(0, {str(REPO)!r})
exec(compile(open({str(RUNTIME_HOOK)!r}).read(), "rthook_hearth.py", "exec"))
from wizard.engine.server import main
code = main(sys.argv[1:])
assert "numpy" not in sys.modules
sys.exit(code)
""", encoding="utf-8")

    def command(model: Path, plan: LoadPlan, **kwargs) -> list[str]:
        return engine_command(model, plan, launcher=[sys.executable, str(driver)], **kwargs)

    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    with LocalEngine(tiny_model, PLAN, command=command) as engine:
        free = engine.client().chat(QUESTION, params=GREEDY)
        constrained = engine.client().chat(QUESTION, params=GenerationParams(
            temperature=0, max_tokens=32, json_schema=json.dumps(schema)))
    assert "Paris" in free.text
    assert isinstance(json.loads(constrained.text)["city"], str)
