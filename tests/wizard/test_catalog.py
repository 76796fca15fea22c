"""The shipped model catalog loads, is internally consistent, and broken catalogs are refused plainly."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from wizard.catalog import (
    KNOWN_CAPABILITIES,
    SIZE_BANDS,
    Catalog,
    CatalogError,
    load_catalog,
    size_band_of,
)
from wizard.errors import HearthFileError, HearthValueError

# Bits per weight a GGUF of each quantization type really has (size * 8 / parameters).
# Small models sit above the nominal value: their embeddings stay at higher precision.
BITS_PER_WEIGHT = {"Q4_K_M": (4.5, 6.6), "Q5_K_M": (5.5, 6.8), "Q6_K": (6.5, 7.2), "Q8_0": (8.0, 9.0)}


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog()


# ---------------------------------------------------------------- the shipped catalog

def test_shipped_catalog_loads_and_covers_every_size_band(shipped: Catalog) -> None:
    assert 8 <= len(shipped.entries) <= 14
    assert shipped.source is not None and shipped.source.name == "catalog.toml"
    for band, _, _ in SIZE_BANDS:
        assert shipped.in_band(band), f"no model in the {band} band"
    assert {e.family for e in shipped.entries} >= {"qwen", "llama", "gemma", "phi", "mistral"}


def test_every_entry_has_what_the_estimator_needs(shipped: Catalog) -> None:
    for entry in shipped.entries:
        h = entry.header
        assert h.architecture and h.block_count > 0 and h.context_length >= 2048, entry.id
        assert len(h.head_count_kv) == h.block_count, entry.id
        assert h.head_dim_k > 0 and h.head_dim_v > 0, entry.id
        assert entry.sha256 is not None and entry.size_bytes is not None, (
            f"{entry.id}: every shipped entry has a sourced sha256 and size (see CATALOG.md)")
        assert not entry.needs_refresh


def test_header_numbers_are_internally_consistent(shipped: Catalog) -> None:
    for entry in shipped.entries:
        h = entry.header
        for kv_heads in h.head_count_kv:
            assert h.head_count % kv_heads == 0, entry.id
        if h.key_length is None:
            assert h.embedding_length == h.head_count * h.head_dim_k, entry.id
        if h.value_length is None:
            assert h.embedding_length == h.head_count * h.head_dim_v, entry.id
        if h.architecture in ("gemma2", "gemma3"):
            # Gemma interleaves sliding-window and global layers; llama.cpp needs both numbers.
            assert h.sliding_window and h.sliding_window < h.context_length, entry.id
            layers = h.sliding_window_layers
            assert 0 < len(layers) < h.block_count, entry.id
            expected = 2 if h.architecture == "gemma2" else 6
            assert h.sliding_window_pattern == expected, entry.id
        else:
            assert h.sliding_window_layers == (), entry.id
        if "long_context" in entry.capabilities:
            assert h.context_length >= 32768, entry.id


def test_file_sizes_are_plausible_for_parameters_and_quantization(shipped: Catalog) -> None:
    # Catches a mistyped size or parameter count: the bits per weight must match the quant type.
    for entry in shipped.entries:
        assert entry.quantization.upper() in entry.file.upper().replace(".", "_"), entry.id
        low, high = BITS_PER_WEIGHT[entry.quantization]
        bits = entry.size_bytes * 8 / entry.parameters
        assert low <= bits <= high, f"{entry.id}: {bits:.2f} bits per weight"
        if entry.header.tensor_bytes is not None:
            assert entry.header.tensor_bytes < entry.size_bytes


def test_sizes_increase_with_parameter_count_within_a_family(shipped: Catalog) -> None:
    families: dict[str, list] = defaultdict(list)
    for entry in shipped.entries:
        families[entry.family].append(entry)
    compared = 0
    for family, entries in families.items():
        ordered = sorted(entries, key=lambda e: e.parameters)
        for smaller, larger in zip(ordered, ordered[1:]):
            assert smaller.size_bytes < larger.size_bytes, f"{family}: {smaller.id} vs {larger.id}"
            compared += 1
    assert compared >= 4


def test_shipped_values_are_well_formed(shipped: Catalog) -> None:
    for entry in shipped.entries:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.id
        assert entry.file.endswith(".gguf") and "/" not in entry.file, entry.id
        assert entry.capabilities <= KNOWN_CAPABILITIES
        assert entry.size_band == size_band_of(entry.parameters)
    assert len({e.sha256 for e in shipped.entries}) == len(shipped.entries)


def test_lookups_and_filters(shipped: Catalog) -> None:
    phi4 = shipped.get("phi-4-q4_k_m")
    assert phi4.repo == "bartowski/phi-4-GGUF" and phi4.size_band == "extra-large"
    tool_users = shipped.with_capabilities("tool_use")
    assert tool_users and all("tool_use" in e.capabilities for e in tool_users)
    both = shipped.with_capabilities("tool_use", "multilingual")
    assert set(both) <= set(tool_users)
    ranked = shipped.by_quality()
    assert [e.quality for e in ranked] == sorted((e.quality for e in ranked), reverse=True)
    assert sum(len(shipped.in_band(b)) for b, _, _ in SIZE_BANDS) == len(shipped.entries)

    with pytest.raises(CatalogError) as missing:
        shipped.get("no-such-model")
    assert missing.value.entry_id == "no-such-model"
    with pytest.raises(CatalogError, match="huge"):
        shipped.in_band("huge")
    with pytest.raises(CatalogError, match="telepathy"):
        shipped.with_capabilities("telepathy")


def test_gemma2_sliding_layers_alternate_like_llama_cpp(shipped: Catalog) -> None:
    h = shipped.get("gemma-2-9b-it-q4_k_m").header
    assert h.sliding_window_layers == tuple(range(0, 42, 2))
    g3 = shipped.get("gemma-3-1b-it-q4_k_m").header
    full = sorted(set(range(g3.block_count)) - set(g3.sliding_window_layers))
    assert full == [5, 11, 17, 23]


def test_size_bands_have_no_gaps() -> None:
    for (_, _, high), (_, low, _) in zip(SIZE_BANDS, SIZE_BANDS[1:]):
        assert high == low
    assert size_band_of(500_000_000) == "tiny"
    assert size_band_of(70_000_000_000) == "extra-large"


# ---------------------------------------------------------------- broken catalogs

GOOD_ENTRY = """
[[model]]
id = "{id}"
name = "Test model"
family = "qwen"
repo = "Owner/Some-Model-GGUF"
file = "{file}"
licence = "apache-2.0"
parameters = 1500000000
languages = ["en"]
capabilities = ["chat"]
quality = 10
quantization = "Q4_K_M"
{extra}
[model.header]
architecture = "qwen2"
block_count = 28
context_length = 32768
embedding_length = 1536
head_count = 12
head_count_kv = 2
{header_extra}
"""


def write_catalog(tmp_path: Path, *entries: str, top: str = "schema_version = 1\n") -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(top + "".join(entries), encoding="utf-8")
    return path


def entry(id: str = "m1", file: str = "model-Q4_K_M.gguf", extra: str = "", header_extra: str = "") -> str:
    return GOOD_ENTRY.format(id=id, file=file, extra=extra, header_extra=header_extra)


def refused(path: Path) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    error = caught.value
    assert isinstance(error, HearthValueError) and isinstance(error, ValueError)
    assert error.hint and "Traceback" not in error.user_message
    return error


def test_a_minimal_entry_without_size_or_sha_loads_and_needs_refresh(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, entry()))
    (only,) = catalog.entries
    assert only.needs_refresh and only.size_bytes is None and only.sha256 is None
    assert only.header.head_count_kv == (2,) * 28 and only.header.head_dim_k == 128
    assert only.header.vocab_size is None


def test_per_layer_kv_heads_are_kept(tmp_path: Path) -> None:
    layers = [2] * 27 + [4]
    path = write_catalog(tmp_path, entry().replace("head_count_kv = 2", f"head_count_kv = {layers}"))
    assert load_catalog(path).entries[0].header.head_count_kv == tuple(layers)


def test_unknown_key_names_entry_and_key(tmp_path: Path) -> None:
    error = refused(write_catalog(tmp_path, entry(extra='sha265 = "abc"')))
    assert (error.entry_id, error.key) == ("m1", "sha265")
    assert 'model "m1"' in error.user_message and '"sha265"' in error.user_message


def test_unknown_header_key(tmp_path: Path) -> None:
    error = refused(write_catalog(tmp_path, entry(header_extra="head_count_k = 2")))
    assert (error.entry_id, error.key) == ("m1", "header.head_count_k")


def test_duplicate_id(tmp_path: Path) -> None:
    error = refused(write_catalog(tmp_path, entry("same", "a.gguf"), entry("same", "b.gguf")))
    assert (error.entry_id, error.key) == ("same", "id")
    assert "more than one" in error.user_message


def test_same_file_listed_twice(tmp_path: Path) -> None:
    error = refused(write_catalog(tmp_path, entry("one"), entry("two")))
    assert (error.entry_id, error.key) == ("two", "file")


@pytest.mark.parametrize("bad_file", [
    "../model.gguf", "sub/../../model.gguf", "/etc/model.gguf", "C:/model.gguf",
    "dir\\\\model.gguf", "model.bin", "a//b.gguf", "./model.gguf",
])
def test_unsafe_or_wrong_file_names(tmp_path: Path, bad_file: str) -> None:
    error = refused(write_catalog(tmp_path, entry(file=bad_file)))
    assert (error.entry_id, error.key) == ("m1", "file")


def test_file_in_a_subfolder_is_allowed(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, entry(file="Q4_K_M/model-Q4_K_M.gguf")))
    assert catalog.entries[0].file == "Q4_K_M/model-Q4_K_M.gguf"


@pytest.mark.parametrize("bad_repo", ["no-slash", "a/b/c", "../x", "owner/..", "owner/na me", "/owner/name"])
def test_bad_repo_names(tmp_path: Path, bad_repo: str) -> None:
    error = refused(write_catalog(tmp_path, entry().replace('"Owner/Some-Model-GGUF"', f'"{bad_repo}"')))
    assert (error.entry_id, error.key) == ("m1", "repo")


@pytest.mark.parametrize(("replace", "by", "key", "words"), [
    ("parameters = 1500000000", 'parameters = "1.5B"', "parameters", "whole number"),
    ("parameters = 1500000000", "parameters = 1.5e9", "parameters", "whole number"),
    ("quality = 10", "quality = true", "quality", "whole number"),
    ("quality = 10", "quality = 101", "quality", "from 1 to 100"),
    ('languages = ["en"]', 'languages = "en"', "languages", "list"),
    ('languages = ["en"]', 'languages = ["English"]', "languages", "language code"),
    ('capabilities = ["chat"]', 'capabilities = ["chat", "telepathy"]', "capabilities", "telepathy"),
    ('name = "Test model"', "name = 3", "name", "text"),
    ("block_count = 28", 'block_count = "28"', "header.block_count", "whole number"),
    ("head_count_kv = 2", "head_count_kv = 5", "header.head_count_kv", "does not divide"),
    ("head_count_kv = 2", "head_count_kv = [2, 2]", "header.head_count_kv", "block_count is 28"),
    ("head_count_kv = 2", "head_count_kv = 0", "header.head_count_kv", "does not divide"),
    ("embedding_length = 1536", "embedding_length = 1537", "header.embedding_length", "key_length"),
])
def test_wrong_types_and_values(tmp_path: Path, replace: str, by: str, key: str, words: str) -> None:
    text = entry()
    assert replace in text
    error = refused(write_catalog(tmp_path, text.replace(replace, by)))
    assert (error.entry_id, error.key) == ("m1", key)
    assert words in error.user_message


def test_bad_sha256_and_revision(tmp_path: Path) -> None:
    error = refused(write_catalog(tmp_path, entry(extra='sha256 = "ABC123"')))
    assert (error.entry_id, error.key) == ("m1", "sha256")
    error = refused(write_catalog(tmp_path, entry(extra='revision = "main"')))
    assert (error.entry_id, error.key) == ("m1", "revision")
    error = refused(write_catalog(tmp_path, entry(extra="size_bytes = -5")))
    assert (error.entry_id, error.key) == ("m1", "size_bytes")


@pytest.mark.parametrize("missing", ["architecture", "block_count", "context_length", "embedding_length",
                                     "head_count", "head_count_kv"])
def test_missing_header_numbers(tmp_path: Path, missing: str) -> None:
    text = re.sub(rf"^{missing} = .*$", "", entry(), flags=re.MULTILINE)
    error = refused(write_catalog(tmp_path, text))
    assert (error.entry_id, error.key) == ("m1", f"header.{missing}")
    assert "missing" in error.user_message


def test_missing_header_table(tmp_path: Path) -> None:
    text = entry().split("[model.header]")[0]
    error = refused(write_catalog(tmp_path, text))
    assert (error.entry_id, error.key) == ("m1", "header")


def test_sliding_window_needs_its_pattern(tmp_path: Path) -> None:
    error = refused(write_catalog(tmp_path, entry(header_extra="sliding_window = 4096")))
    assert (error.entry_id, error.key) == ("m1", "header.sliding_window_pattern")


def test_entry_without_id_is_named_by_position(tmp_path: Path) -> None:
    text = entry().replace('id = "m1"\n', "")
    error = refused(write_catalog(tmp_path, entry("first", "a.gguf"), text))
    assert (error.entry_id, error.key) == ("number 2", "id")


def test_whole_file_problems(tmp_path: Path) -> None:
    assert refused(write_catalog(tmp_path, entry(), top="schema_version = 2\n")).key == "schema_version"
    assert refused(write_catalog(tmp_path, top="schema_version = 1\n")).key == "model"
    assert refused(write_catalog(tmp_path, entry(), top="schema_version = 1\nmodels = 3\n")).key == "models"
    broken = tmp_path / "broken.toml"
    broken.write_text("schema_version = 1\n[[model]\n", encoding="utf-8")
    assert "TOML" in refused(broken).user_message
    with pytest.raises(HearthFileError) as gone:
        load_catalog(tmp_path / "nowhere.toml")
    assert "list of models" in gone.value.user_message


def test_message_reads_plainly_in_a_terminal(tmp_path: Path) -> None:
    error = refused(write_catalog(tmp_path, entry(file="../../evil.gguf")))
    text = error.for_terminal()
    assert text.startswith("Error: There is a mistake in Hearth's list of models")
    assert '"../../evil.gguf"' in text and "no \"..\"" in text
    assert text.splitlines()[1] == error.hint
