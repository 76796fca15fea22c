"""Offline model packs: a folder (a USB stick) with model files and ``hearth-pack.toml``.

Public names: :func:`export_pack`, :func:`import_pack`, :func:`read_manifest` and their errors.
"""

from wizard.packs.manifest import MANIFEST_NAME, PackFileMissingError, PackManifest, PackManifestError, read_manifest
from wizard.packs.recipes import PackRecipe
from wizard.packs.transfer import (
    ImportResult,
    PackCancelled,
    PackFileDamagedError,
    PackFolderNotEmptyError,
    export_pack,
    import_pack,
)

__all__ = [
    "MANIFEST_NAME", "ImportResult", "PackCancelled", "PackFileDamagedError", "PackFileMissingError",
    "PackFolderNotEmptyError", "PackManifest", "PackManifestError", "PackRecipe", "export_pack", "import_pack",
    "read_manifest",
]
