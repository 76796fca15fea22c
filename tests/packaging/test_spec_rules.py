"""What the PyInstaller spec bundles and leaves out, checked without building anything."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.support import REPO, spec_support

SOURCE_FOLDERS = ("app", "wizard")


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Every module imported anywhere in ``folder`` (also inside functions) -> files importing it."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


@pytest.fixture(scope="module")
def imports() -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for folder in SOURCE_FOLDERS:
        for name, files in imported_modules(REPO / folder).items():
            merged.setdefault(name, set()).update(files)
    return merged


def test_hearth_uses_only_the_qt_modules_the_bundle_keeps(imports) -> None:
    used = {name.split(".")[1] for name in imports if name.startswith("PySide6.")}
    assert used <= set(spec_support.QT_MODULES_USED), used - set(spec_support.QT_MODULES_USED)
    assert not set(spec_support.QT_MODULES_USED) & set(spec_support.QT_MODULES_UNUSED)


def test_nothing_hearth_imports_is_excluded_from_the_bundle(imports) -> None:
    excluded = spec_support.EXCLUDED_MODULES
    clashes = {name: sorted(files) for name, files in imports.items()
               if any(name == ex or name.startswith(ex + ".") for ex in excluded)}
    assert clashes == {}


def test_the_engine_uses_only_the_parts_of_llama_cpp_that_need_no_numpy(imports) -> None:
    llama_imports = {name for name in imports if name == "llama_cpp" or name.startswith("llama_cpp.")}
    allowed = {"llama_cpp", "llama_cpp.llama_grammar", "llama_cpp.llama_grammar.json_schema_to_gbnf"}
    assert llama_imports <= allowed, llama_imports - allowed
    source = (llama_lib_dir().parent / "llama_grammar.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import numpy|from numpy)", source, re.MULTILINE)


def test_the_data_files_exist_and_hold_what_the_app_reads() -> None:
    pairs = dict((dest, Path(src)) for src, dest in spec_support.data_files())
    assert set(pairs) == {"recipes", "assets/icons"}
    assert (pairs["recipes"] / "catalog.toml").is_file()
    assert list(pairs["recipes"].glob("*.toml"))
    for icon in ("hearth.svg", "hearth-256.png", "hearth-512.png", "hearth.ico"):
        assert (pairs["assets/icons"] / icon).stat().st_size > 0, icon


def test_a_missing_data_folder_stops_the_build(tmp_path: Path) -> None:
    (tmp_path / "recipes").mkdir()
    with pytest.raises(FileNotFoundError, match="assets/icons"):
        spec_support.data_files(tmp_path)


def llama_lib_dir() -> Path:
    import importlib.util

    return Path(importlib.util.find_spec("llama_cpp").origin).parent / "lib"


def test_one_copy_of_each_llama_library_and_every_library_it_needs() -> None:
    chosen = [Path(src).name for src, dest in spec_support.llama_libraries(llama_lib_dir(), "linux")]
    assert chosen.count("libllama.so") == 1
    assert len(chosen) == len(set(chosen))
    assert not [name for name in chosen if "mtmd" in name]
    assert all(dest == "llama_cpp/lib" for _src, dest in spec_support.llama_libraries(llama_lib_dir(), "linux"))
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is needed to read the libraries' dependencies")
    needed = set()
    for name in chosen:
        dynamic = subprocess.run(["readelf", "-d", str(llama_lib_dir() / name)], capture_output=True,
                                 text=True, check=True).stdout
        needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[(lib(?:ggml|llama)[^\]]*)\]", dynamic))
    assert needed and needed <= set(chosen), needed - set(chosen)


@pytest.mark.parametrize(("platform", "files", "expected"), [
    # File names as llama-cpp-python's CMake install lays them out on macOS and Windows.
    ("darwin", ["libllama.dylib", "libggml.dylib", "libggml-base.dylib", "libggml-cpu.dylib",
                "libggml-metal.dylib", "libggml-blas.dylib", "libmtmd.dylib"],
     ["libggml-base.dylib", "libggml-blas.dylib", "libggml-cpu.dylib", "libggml-metal.dylib",
      "libggml.dylib", "libllama.dylib"]),
    ("win32", ["llama.dll", "ggml.dll", "ggml-base.dll", "ggml-cpu.dll", "mtmd.dll", "llama.lib"],
     ["ggml-base.dll", "ggml-cpu.dll", "ggml.dll", "llama.dll"]),
])
def test_llama_libraries_on_other_systems(tmp_path: Path, platform: str, files: list[str],
                                          expected: list[str]) -> None:
    for name in files:
        (tmp_path / name).write_bytes(b"\0")
    chosen = [Path(src).name for src, _dest in spec_support.llama_libraries(tmp_path, platform)]
    assert chosen == expected


def test_a_llama_cpp_without_its_library_stops_the_build(tmp_path: Path) -> None:
    (tmp_path / "libggml.so.0").write_bytes(b"\0")
    with pytest.raises(FileNotFoundError, match="no llama library"):
        spec_support.llama_libraries(tmp_path, "linux")


@pytest.mark.parametrize(("dest", "kept"), [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
    ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
    ("PySide6/Qt/plugins/platforms/libqlinuxfb.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", True),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("PySide6/Qt/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so", True),
    ("PySide6/Qt/plugins/imageformats/libqjpeg.so", False),
    ("PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
    ("PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so", False),
    ("PySide6/Qt/translations/qtbase_de.qm", False),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
    ("PySide6/Qt/lib/libQt6Network.so.6", False),
    ("PySide6/Qt/lib/libQt6Pdf.so.6", False),
    ("PySide6/QtWidgets.abi3.so", True),
    ("llama_cpp/lib/libllama.so", True),
    ("libQt6Network.so.6", False),  # PyInstaller's top-level link to a dropped Qt library
    ("libxcb.so.1", True),
    # Windows layout (PySide6\plugins\...), as PyInstaller writes it there
    ("PySide6\\plugins\\platforms\\qwindows.dll", True),
    ("PySide6\\plugins\\platforms\\qdirect2d.dll", False),
    ("PySide6\\plugins\\styles\\qmodernwindowsstyle.dll", True),
    ("PySide6\\Qt6Network.dll", False),
])
def test_which_collected_files_stay(dest: str, kept: bool) -> None:
    assert spec_support.keep_bundled_file(dest) is kept


def test_the_installed_pyside6_keeps_the_platforms_hearth_runs_on() -> None:
    import PySide6

    plugins = Path(PySide6.__file__).parent / "Qt" / "plugins"
    if not plugins.is_dir():
        pytest.skip("PySide6 keeps its plugins elsewhere on this system")
    kept = {p.name for p in plugins.rglob("*") if p.is_file()
            and spec_support.keep_bundled_file(str(Path("PySide6/Qt/plugins") / p.relative_to(plugins)))}
    assert {"libqxcb.so", "libqoffscreen.so", "libqwayland.so"} <= kept
    assert not [name for name in kept if "gtk" in name or "jpeg" in name or "pdf" in name]


def test_libraries_only_a_dropped_plugin_needed_are_found() -> None:
    # (bundle path, source, kind) as PyInstaller lists them; what each source links against.
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/s/libqxcb.so", "BINARY"),
        ("PySide6/QtWidgets.abi3.so", "/s/QtWidgets.abi3.so", "EXTENSION"),
        ("libxcb.so.1", "/sys/libxcb.so.1", "BINARY"),
        ("libXau.so.6", "/sys/libXau.so.6", "BINARY"),
        ("libgtk-3.so.0", "/sys/libgtk-3.so.0", "BINARY"),
        ("libcairo.so.2", "/sys/libcairo.so.2", "BINARY"),
        ("libpython3.11.so.1.0", "/sys/libpython3.11.so.1.0", "BINARY"),
    ]
    links = {
        "/s/libqxcb.so": ["libxcb.so.1", "libc.so.6"],
        "/sys/libxcb.so.1": ["/usr/lib/libXau.so.6"],  # found only through libxcb
        "/s/QtWidgets.abi3.so": ["libQt6Widgets.so.6"],
        "/sys/libgtk-3.so.0": ["libcairo.so.2"],  # gtk is needed by nothing kept
    }
    unneeded = spec_support.unreachable_libraries(binaries, lambda source: links.get(source, []))
    assert unneeded == {"libgtk-3.so.0", "libcairo.so.2"}
