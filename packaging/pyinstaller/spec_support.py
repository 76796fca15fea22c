"""What goes into the frozen Hearth, as plain functions the spec calls and the tests check.

``packaging/hearth.spec`` imports this module; nothing here imports PyInstaller, so
tests/packaging can check every rule without building anything.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[2]
APP_NAME = "Hearth"

# Qt modules Hearth imports (app/ uses only these three; tests/packaging checks it stays so).
QT_MODULES_USED = ("QtCore", "QtGui", "QtWidgets")
# The rest of PySide6-Essentials: left out so PyInstaller's PySide6 hooks never pull them in.
QT_MODULES_UNUSED = (
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender", "QtAxContainer",
    "QtBluetooth", "QtCharts", "QtConcurrent", "QtDBus", "QtDataVisualization", "QtDesigner",
    "QtGraphs", "QtGraphsWidgets", "QtHelp", "QtHttpServer", "QtLocation", "QtMultimedia",
    "QtMultimediaWidgets", "QtNetwork", "QtNetworkAuth", "QtNfc", "QtOpenGL", "QtOpenGLWidgets",
    "QtPdf", "QtPdfWidgets", "QtPositioning", "QtPrintSupport", "QtQml", "QtQuick", "QtQuick3D",
    "QtQuickControls2", "QtQuickTest", "QtQuickWidgets", "QtRemoteObjects", "QtScxml", "QtSensors",
    "QtSerialBus", "QtSerialPort", "QtSpatialAudio", "QtSql", "QtStateMachine", "QtSvg",
    "QtSvgWidgets", "QtTest", "QtTextToSpeech", "QtUiTools", "QtWebChannel", "QtWebEngineCore",
    "QtWebEngineQuick", "QtWebEngineWidgets", "QtWebSockets", "QtWebView", "QtXml",
)

EXCLUDED_MODULES = (
    *(f"PySide6.{name}" for name in QT_MODULES_UNUSED),
    # llama-cpp-python's high-level API and everything only it needs: Hearth drives llama.cpp
    # through the low-level bindings (pyinstaller/rthook_hearth.py explains how __init__ is skipped).
    "numpy", "llama_cpp.llama", "llama_cpp.llama_chat_format", "llama_cpp.llama_cache",
    "llama_cpp.llama_speculative", "llama_cpp.llama_tokenizer", "llama_cpp._internals",
    "llama_cpp.llava_cpp", "llama_cpp.mtmd_cpp", "llama_cpp.server",
    # Xet transfers: Hearth downloads with its own resumable, verified transfer (wizard/download).
    "hf_xet",
    # Never used by Hearth; some are optional imports of its libraries.
    "tkinter", "_tkinter", "PIL", "IPython", "matplotlib", "pandas", "pydoc_data", "lib2to3",
    "xmlrpc", "pytest", "_pytest", "setuptools", "pip", "fpdf", "fontTools",
    # huggingface_hub's command line, inference client and file-system layer, and the
    # terminal UIs only they use: Hearth calls the Hub's metadata API and its own transfer.
    "huggingface_hub.cli", "huggingface_hub.inference", "huggingface_hub.hf_file_system",
    "fsspec", "click", "rich", "pygments", "httpx2._main",
)

# Imported by name at run time (importlib, entry points), so PyInstaller cannot see them.
HIDDEN_IMPORT_PACKAGES = ("app", "wizard", "keyring.backends")
HIDDEN_IMPORT_MODULES = ("secretstorage", "jeepney.io.blocking")
# Package metadata that code reads at run time: keyring finds its backends through its entry
# points; huggingface_hub and keyring ask for their own version.
METADATA_PACKAGES = ("keyring", "huggingface_hub", "hearth")

# Qt plugin folders the widgets app needs; every other plugin folder is left out.
QT_PLUGIN_DIRS_KEPT = (
    "platforms",              # how Qt reaches the screen (filtered further below)
    "platformthemes",         # native file dialogs on GNOME/KDE through the XDG portal (not gtk3)
    "platforminputcontexts",  # input methods and compose keys: typing é, ñ, 中文
    "xcbglintegrations",      # needed by the xcb platform on X11
    "wayland-decoration-client", "wayland-graphics-integration-client",
    "wayland-shell-integration",
    "styles",                 # native look on Windows (qmodernwindowsstyle) and macOS
)
QT_PLATFORMS_KEPT = ("xcb", "wayland", "wayland-egl", "offscreen", "windows", "cocoa", "minimal")
# The gtk3 theme would drag the build machine's whole GTK 3 stack into the bundle (~20 MB) and
# mix it with the user's own; the XDG desktop portal gives the same native dialogs.
QT_PLUGINS_DROPPED = ("libqgtk3.so",)
# Qt libraries only the dropped plugins or modules use.
QT_LIBRARIES_DROPPED = ("Qt6Network", "Qt6Qml", "Qt6Quick", "Qt6Pdf", "Qt6Svg", "Qt6OpenGL",
                        "Qt6VirtualKeyboard", "Qt6QmlModels", "Qt6QmlMeta", "Qt6QmlWorkerScript")


def data_files(repo: Path = REPO) -> list[tuple[str, str]]:
    """(source, folder in the bundle) pairs for Hearth's own files.

    Raises:
        FileNotFoundError: a folder the app needs is missing from the source tree.
    """
    pairs = []
    for folder in ("recipes", "assets/icons"):
        source = repo / folder
        if not source.is_dir():
            raise FileNotFoundError(f"{source} is missing; the bundle would be incomplete")
        pairs.append((str(source), folder))
    return pairs


def llama_libraries(lib_dir: Path, platform: str = sys.platform) -> list[tuple[str, str]]:
    """The llama.cpp shared libraries to ship, as (source, folder in the bundle) pairs.

    The Linux wheel holds three identical copies of each library (``libggml.so``,
    ``libggml.so.0``, ``libggml.so.0.25.3``): ctypes opens ``libllama.so`` and the loader then
    wants the ``.so.0`` names (their SONAMEs), so only those are kept. ``mtmd`` (images and
    audio) is not used by Hearth.

    Raises:
        FileNotFoundError: ``lib_dir`` holds no llama library.
    """
    names = sorted(p.name for p in lib_dir.iterdir() if p.is_file())
    if platform.startswith("linux"):
        chosen = [n for n in names if n == "libllama.so"
                  or (re.fullmatch(r"lib[\w-]+\.so\.\d+", n) and not n.startswith("libllama."))]
    else:
        suffix = ".dylib" if platform == "darwin" else ".dll"
        chosen = [n for n in names if n.endswith(suffix)]
    chosen = [n for n in chosen if "mtmd" not in n]
    if not any(n.startswith(("libllama", "llama")) for n in chosen):
        raise FileNotFoundError(f"no llama library in {lib_dir} (found: {', '.join(names) or 'nothing'})")
    return [(str(lib_dir / n), "llama_cpp/lib") for n in chosen]


def keep_bundled_file(dest: str) -> bool:
    """False for a collected file Hearth does not need (unused Qt plugins, libraries, translations)."""
    parts = PurePosixPath(dest.replace("\\", "/")).parts
    if len(parts) < 3 or parts[0] != "PySide6":
        return not _is_dropped_qt_library(parts[-1]) if parts else True
    inner = parts[2:] if parts[1] == "Qt" else parts[1:]
    if inner[:1] == ("translations",):
        return False  # Hearth's window is English-only for now; Qt's own texts stay English too
    if inner[:1] == ("plugins",) and len(inner) >= 3:
        folder, name = inner[1], inner[-1]
        if folder not in QT_PLUGIN_DIRS_KEPT:
            return False
        if folder == "platforms":
            return _platform_plugin_name(name) in QT_PLATFORMS_KEPT
        return name not in QT_PLUGINS_DROPPED
    return not _is_dropped_qt_library(parts[-1])


def _platform_plugin_name(file_name: str) -> str:
    stem = file_name.split(".", 1)[0]
    return stem.removeprefix("libq").removeprefix("q")


def _is_dropped_qt_library(file_name: str) -> bool:
    stem = file_name.removeprefix("lib").split(".", 1)[0]
    return stem in QT_LIBRARIES_DROPPED


def unreachable_libraries(binaries: Iterable[tuple[str, str, str]],
                          imports_of: Callable[[str], Iterable[str]]) -> set[str]:
    """Top-level shared libraries (bundle paths) that no kept binary needs any more.

    PyInstaller puts the system libraries a binary needs at the top of the bundle. Once
    :func:`keep_bundled_file` has dropped a Qt plugin, the libraries only it needed (GTK for
    the gtk3 theme) are still listed; this finds them. ``binaries`` are PyInstaller's
    (bundle path, source path, kind) entries; ``imports_of(source)`` gives the file names a
    binary links against (PyInstaller's ``bindepend.get_imports``). Package binaries
    (anything in a folder), Python extensions and libpython are the roots.
    """
    entries = [(dest.replace("\\", "/"), src, kind) for dest, src, kind in binaries]
    top_level = {dest: src for dest, src, kind in entries
                 if "/" not in dest and kind == "BINARY" and not dest.startswith("libpython")}
    needed: set[str] = set()
    pending = [src for dest, src, kind in entries if dest not in top_level]
    seen: set[str] = set()
    while pending:
        source = pending.pop()
        if source in seen:
            continue
        seen.add(source)
        for name in imports_of(source):
            base = PurePosixPath(str(name).replace("\\", "/")).name
            if base not in needed:
                needed.add(base)
                if base in top_level:
                    pending.append(top_level[base])
    return set(top_level) - needed
