"""Installed models: the registry of what is on this computer, where it came from, and removal.

Public names: :class:`ModelRegistry`, :class:`InstalledModel`, :class:`ModelSource`,
:func:`register_download`.
"""

from wizard.models.install import register_download, register_file
from wizard.models.records import InstalledModel, ModelSource
from wizard.models.registry import (
    ModelNotInstalledError,
    ModelRegistry,
    OutsideModelsFolderError,
    RegistryDamagedError,
    RegistryTooNewError,
    Removal,
)

__all__ = [
    "InstalledModel", "ModelNotInstalledError", "ModelRegistry", "ModelSource", "OutsideModelsFolderError",
    "RegistryDamagedError", "RegistryTooNewError", "Removal", "register_download", "register_file",
]
