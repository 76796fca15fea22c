"""The catalog's data: entries, their GGUF header numbers, size bands, and its error.

Built by :mod:`wizard.catalog.parse` from ``recipes/catalog.toml``; see the package
docstring for what the catalog is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wizard.errors import HearthValueError

CATALOG_FILE_NAME = "catalog.toml"
SCHEMA_VERSION = 1

# Capabilities the recommender understands; anything else is a typo.
KNOWN_CAPABILITIES = frozenset(
    {"chat", "tool_use", "long_context", "multilingual", "coding", "reasoning"}
)

# Size bands by parameter count (lower bound inclusive, upper bound exclusive). The
# names are what the recommender shows; the numbers follow the common model sizes
# (≈1B, 1.5–2.6B, 3–4B, 7–9B, 12–14B).
SIZE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("tiny", 0, 1_400_000_000),
    ("small", 1_400_000_000, 2_800_000_000),
    ("medium", 2_800_000_000, 5_000_000_000),
    ("large", 5_000_000_000, 10_500_000_000),
    ("extra-large", 10_500_000_000, 16_000_000_000),
)


class CatalogError(HearthValueError):
    """The model list is damaged or has a mistake; ``entry_id`` and ``key`` say where."""

    default_hint = (
        "Reinstalling Hearth puts the original model list back. If you edited the list, "
        "correct the line named above."
    )

    def __init__(self, problem: str, *, entry_id: str | None = None, key: str | None = None,
                 path: Path | None = None) -> None:
        where = "Hearth's list of models"
        if entry_id is not None:
            where += f", model \"{entry_id}\""
        if key is not None:
            where += f", setting \"{key}\""
        super().__init__(f"There is a mistake in {where}: {problem}",
                         details=f"catalog file: {path}" if path else "")
        self.entry_id = entry_id
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class HeaderNumbers:
    """The GGUF header values the memory estimator needs, one model file's worth.

    ``vocab_size``, ``tensor_bytes`` (the sum of every tensor's bytes) and
    ``feed_forward_length`` are None when no source gave them.
    ``head_count_kv`` is always per layer (``block_count`` values), even when the file
    stores one number for all layers. ``key_length``/``value_length`` are None when the
    file does not set them; then the head size is ``embedding_length / head_count``.
    ``sliding_window_pattern`` follows llama.cpp's ``set_swa_pattern(n)``: 0 means every
    layer uses the window, otherwise in each run of n layers the first n-1 do and the
    last uses full attention (Gemma 2: n=2, Gemma 3: n=6).
    """

    architecture: str
    block_count: int
    context_length: int
    embedding_length: int
    head_count: int
    head_count_kv: tuple[int, ...]
    vocab_size: int | None = None
    key_length: int | None = None
    value_length: int | None = None
    sliding_window: int | None = None
    sliding_window_pattern: int | None = None
    tensor_bytes: int | None = None
    feed_forward_length: int | None = None

    @property
    def head_dim_k(self) -> int:
        """Size of one key head: ``key_length`` or embedding_length / head_count."""
        return self.key_length if self.key_length is not None else self.embedding_length // self.head_count

    @property
    def head_dim_v(self) -> int:
        """Size of one value head: ``value_length`` or embedding_length / head_count."""
        return self.value_length if self.value_length is not None else self.embedding_length // self.head_count

    @property
    def sliding_window_layers(self) -> tuple[int, ...]:
        """Indices of the layers whose KV cache holds only the sliding window."""
        if self.sliding_window is None or self.sliding_window_pattern is None:
            return ()
        n = self.sliding_window_pattern
        if n == 0:
            return tuple(range(self.block_count))
        return tuple(il for il in range(self.block_count) if il % n < n - 1)


@dataclass(frozen=True)
class CatalogEntry:
    """One model file Hearth can recommend, with everything needed to do so offline."""

    id: str
    name: str
    family: str
    repo: str
    file: str
    licence: str
    parameters: int
    languages: tuple[str, ...]
    capabilities: frozenset[str]
    quality: int
    quantization: str
    header: HeaderNumbers
    revision: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None

    @property
    def needs_refresh(self) -> bool:
        """True when the exact size or sha256 is unknown and must come from the Hub."""
        return self.size_bytes is None or self.sha256 is None

    @property
    def size_band(self) -> str:
        """The name of the band from :data:`SIZE_BANDS` holding this model's parameter count."""
        return size_band_of(self.parameters)


@dataclass(frozen=True)
class Catalog:
    """All entries of one catalog file, in file order."""

    entries: tuple[CatalogEntry, ...]
    source: Path | None = None

    def ids(self) -> list[str]:
        return [entry.id for entry in self.entries]

    def get(self, entry_id: str) -> CatalogEntry:
        """The entry with this id.

        Raises:
            CatalogError: no entry has that id.
        """
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise CatalogError("no model with this name is in the list.", entry_id=entry_id)

    def in_band(self, band: str) -> list[CatalogEntry]:
        """Entries in one size band (see :data:`SIZE_BANDS`).

        Raises:
            CatalogError: the band name is not one of :data:`SIZE_BANDS`.
        """
        if band not in {name for name, _, _ in SIZE_BANDS}:
            raise CatalogError(f"\"{band}\" is not a model size Hearth knows.", key="size_band")
        return [entry for entry in self.entries if entry.size_band == band]

    def with_capabilities(self, *capabilities: str) -> list[CatalogEntry]:
        """Entries that have every one of the given capabilities.

        Raises:
            CatalogError: a capability name is not in :data:`KNOWN_CAPABILITIES`.
        """
        unknown = sorted(set(capabilities) - KNOWN_CAPABILITIES)
        if unknown:
            raise CatalogError(f"\"{unknown[0]}\" is not a model ability Hearth knows.", key="capabilities")
        wanted = frozenset(capabilities)
        return [entry for entry in self.entries if wanted <= entry.capabilities]

    def by_quality(self) -> list[CatalogEntry]:
        """Entries from the highest quality score to the lowest (ties: smaller first)."""
        return sorted(self.entries, key=lambda e: (-e.quality, e.parameters, e.id))


def size_band_of(parameters: int) -> str:
    """The size band name for a parameter count; the largest band for anything bigger."""
    for name, low, high in SIZE_BANDS:
        if low <= parameters < high:
            return name
    return SIZE_BANDS[-1][0]


