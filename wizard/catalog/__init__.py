"""The curated model list Hearth recommends from, readable with no internet.

``recipes/catalog.toml`` lists real open GGUF files on the Hugging Face Hub: repository,
file, exact size and sha256 when known, licence, languages, capabilities, a quality
score, and the GGUF header numbers the memory estimator uses. ``recipes/CATALOG.md``
says where each fact came from.

An entry without ``size_bytes`` or ``sha256`` is valid: it ``needs_refresh`` and the
download takes both from the Hub's metadata at download time.

Everything here is strict on purpose: unknown keys, wrong types, unsafe file names and
duplicate ids are refused with a :class:`CatalogError` naming the entry and the key,
so a typo in the catalog can never turn into a wrong download or a wrong estimate.

Modules: ``model`` (the dataclasses), ``parse`` (reading and checking a file),
``write`` (writing one back, atomically), ``refresh`` (re-reading each file's header
and checksum from the Hub by HTTP Range).
"""

from wizard.catalog.model import (
    CATALOG_FILE_NAME,
    KNOWN_CAPABILITIES,
    SCHEMA_VERSION,
    SIZE_BANDS,
    Catalog,
    CatalogEntry,
    CatalogError,
    HeaderNumbers,
    size_band_of,
)
from wizard.catalog.parse import default_catalog_path, load_catalog, parse_catalog

__all__ = [
    "CATALOG_FILE_NAME", "KNOWN_CAPABILITIES", "SCHEMA_VERSION", "SIZE_BANDS", "Catalog", "CatalogEntry",
    "CatalogError", "HeaderNumbers", "default_catalog_path", "load_catalog", "parse_catalog", "size_band_of",
]
