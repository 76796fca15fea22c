"""Where Hearth keeps everything, decided in one place.

By default the folders follow the operating system's conventions (platformdirs, app
name "Hearth"). Setting the environment variable ``HEARTH_HOME`` puts every folder under
that one directory instead: tests use it, and so does a portable install on a USB stick.

Paths are computed on each call (never cached at import) so a change of ``HEARTH_HOME``
takes effect at once.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Hearth"
HOME_ENV = "HEARTH_HOME"


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
    """The folders in force now: ``HEARTH_HOME`` if set, else the OS defaults."""
    home = os.environ.get(HOME_ENV, "").strip()
    if home:
        root = Path(home).expanduser().resolve()
        return HearthPaths(
            config=root / "config",
            data=root / "data",
            models=root / "models",
            cache=root / "cache",
            logs=root / "logs",
        )
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    data = Path(dirs.user_data_dir)
    return HearthPaths(
        config=Path(dirs.user_config_dir),
        data=data,
        models=data / "models",
        cache=Path(dirs.user_cache_dir),
        logs=Path(dirs.user_log_dir),
    )


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
