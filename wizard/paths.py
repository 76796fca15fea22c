"""Where Hearth keeps everything, decided in one place.

Which folders, first match wins:

1. the environment variable ``HEARTH_HOME``: every folder under that one directory (tests
   use it);
2. portable mode: a file named ``hearth-portable`` next to the Hearth program (on macOS next
   to ``Hearth.app``) puts every folder in ``HearthData`` beside it (a consultant's USB stick);
3. the operating system's conventions (platformdirs, app name "Hearth"), where the person
   may have moved the data and models to another folder (``data-location.json`` in the
   config folder, written by :func:`set_data_location`).

Paths are computed on each call (never cached at import) so a change of ``HEARTH_HOME``
takes effect at once.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Hearth"
HOME_ENV = "HEARTH_HOME"
PORTABLE_MARKER = "hearth-portable"
PORTABLE_FOLDER = "HearthData"
LOCATION_FILE = "data-location.json"


@dataclass(frozen=True)
class HearthPaths:
    """Every folder Hearth writes to."""

    config: Path  # settings.toml and other small files the user may edit
    data: Path  # profiles, conversations, memory, the installed-models registry
    models: Path  # the model files themselves (large)
    cache: Path  # anything that can be thrown away and rebuilt
    logs: Path  # rotating log files

    def ensure(self) -> HearthPaths:
        """Create every folder that does not exist yet; return self."""
        for folder in (self.config, self.data, self.models, self.cache, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def log_file(self) -> Path:
        return self.logs / "hearth.log"


def hearth_paths() -> HearthPaths:
    """The folders in force now (see the module's docstring for the order)."""
    home = os.environ.get(HOME_ENV, "").strip()
    if home:
        return _all_under(Path(home).expanduser().resolve())
    portable = portable_root()
    if portable is not None:
        return _all_under(portable)
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    config = Path(dirs.user_config_dir)
    data = moved_data_location(config) or Path(dirs.user_data_dir)
    return HearthPaths(
        config=config,
        data=data,
        models=data / "models",
        cache=Path(dirs.user_cache_dir),
        logs=Path(dirs.user_log_dir),
    )


def _all_under(root: Path) -> HearthPaths:
    return HearthPaths(config=root / "config", data=root / "data", models=root / "models",
                       cache=root / "cache", logs=root / "logs")


def program_folder() -> Path | None:
    """The folder holding the Hearth program when it runs as an installed bundle, else None.

    On macOS that is the folder holding ``Hearth.app``: nothing may be added inside a signed
    app (``Hearth.app/Contents/MacOS``) without breaking its signature.
    """
    if not getattr(sys, "frozen", False):
        return None
    executable = Path(sys.executable).resolve()
    contents = executable.parent.parent  # Hearth.app/Contents when the program is in Contents/MacOS
    if (sys.platform == "darwin" and executable.parent.name == "MacOS" and contents.name == "Contents"
            and contents.parent.suffix == ".app"):
        return contents.parent.parent
    return executable.parent


def portable_root() -> Path | None:
    """``HearthData`` beside the program when the ``hearth-portable`` marker file is there."""
    folder = program_folder()
    if folder is not None and (folder / PORTABLE_MARKER).is_file():
        return folder / PORTABLE_FOLDER
    return None


def moved_data_location(config: Path) -> Path | None:
    """The folder the person moved their data to, or None (unset, unreadable or not absolute)."""
    try:
        text = (config / LOCATION_FILE).read_text(encoding="utf-8")
    except OSError:  # mostly: never moved
        return None
    import json  # here: the usual start has no such file, and the window is drawn sooner without json

    try:
        chosen = json.loads(text).get("data")
    except (ValueError, AttributeError):
        return None
    if not isinstance(chosen, str) or not Path(chosen).is_absolute():
        return None
    return Path(chosen)


def set_data_location(folder: Path | None) -> None:
    """Make ``folder`` the data folder from now on (None: back to the default). Moves nothing.

    Only for the OS-default layout: with ``HEARTH_HOME`` or in portable mode the data stays
    where those put it.

    Raises:
        OSError: the setting could not be written (the old one stays).
    """
    config = Path(platformdirs.PlatformDirs(APP_NAME, appauthor=False).user_config_dir)
    config.mkdir(parents=True, exist_ok=True)
    target = config / LOCATION_FILE
    if folder is None:
        target.unlink(missing_ok=True)
        return
    import json

    handle, temp = tempfile.mkstemp(prefix=".location-", dir=config)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"data": str(Path(folder).expanduser().resolve())}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, target)


def resources_root() -> Path:
    """The folder holding ``recipes/`` and ``assets/``: the bundle when frozen, else the source tree."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def recipes_dir() -> Path:
    return resources_root() / "recipes"


def assets_dir() -> Path:
    return resources_root() / "assets"
