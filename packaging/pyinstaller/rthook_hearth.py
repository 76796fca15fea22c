"""PyInstaller runtime hook: runs in every start of the frozen Hearth, before app code.

1. llama-cpp-python's ``llama_cpp/__init__.py`` imports its high-level ``Llama`` class, which
   imports numpy (42 MB in a bundle). Hearth only uses the low-level ctypes bindings
   (``llama_cpp.llama_cpp``, see wizard/engine/generator.py) and ``llama_cpp.llama_grammar``,
   neither of which needs numpy. So the bundle leaves numpy and the high-level modules out,
   and this hook registers the ``llama_cpp`` package without running its ``__init__``: an
   attribute asked of it (``llama_cpp.llama_backend_init``) comes from ``llama_cpp.llama_cpp``,
   imported (and the shared libraries loaded) on first use, so the window process never
   loads llama.cpp at all.
2. huggingface_hub's Xet transfer library is not bundled (Hearth downloads through its own
   resumable, verified transfer), and no telemetry is ever sent.
"""

import importlib
import importlib.util
import os
import sys


def _install_low_level_llama_cpp() -> None:
    if "llama_cpp" in sys.modules:
        return
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None:  # a bundle without llama_cpp: leave imports to fail the normal way
        return
    package = importlib.util.module_from_spec(spec)  # created, deliberately not executed

    def __getattr__(name: str):  # noqa: N807 - PEP 562 module __getattr__
        if name.startswith("__"):
            raise AttributeError(name)
        low_level = importlib.import_module("llama_cpp.llama_cpp")
        try:
            return getattr(low_level, name)
        except AttributeError:
            raise AttributeError(f"module 'llama_cpp' has no attribute {name!r} in Hearth's bundle "
                                 "(only the low-level API is shipped)") from None

    package.__getattr__ = __getattr__
    sys.modules["llama_cpp"] = package


os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
_install_low_level_llama_cpp()
