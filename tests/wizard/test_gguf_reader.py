"""The GGUF header reader on the real tiny model, on prefixes of it, and on built headers."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.wizard.gguf_builder import Tensor, build_gguf, llama_like
from wizard.errors import HearthError, HearthFileError
from wizard.gguf import (
    ArraySummary,
    GGUFError,
    GGUFLengthError,
    GGUFNeedMoreBytes,
    GGUFTruncatedError,
    parse_gguf_header,
    read_gguf_header,
)


def _as_llama_cpp_prints(value: object) -> str:
    """llama.cpp's gguf_kv_to_str: booleans in lower case, floats with %f."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:f}"
    return str(value)


@pytest.fixture(scope="module")
def llama_cpp_metadata(tiny_model: Path) -> dict[str, str]:
    from llama_cpp import Llama

    return dict(Llama(str(tiny_model), vocab_only=True, verbose=False).metadata)


def test_tiny_model_header_matches_what_llama_cpp_reads(tiny_model: Path, llama_cpp_metadata) -> None:
    header = read_gguf_header(tiny_model)

    assert header.version == 3
    assert header.architecture == "llama"
    assert header.arch_value("block_count") == 30
    assert header.arch_value("context_length") == 8192
    assert header.arch_value("embedding_length") == 576
    assert header.arch_value("attention.head_count") == 9
    assert header.arch_value("attention.head_count_kv") == 3
    scalars = {k: v for k, v in header.metadata.items() if not isinstance(v, ArraySummary)}
    assert set(scalars) == set(llama_cpp_metadata)
    for key, printed in llama_cpp_metadata.items():
        assert _as_llama_cpp_prints(scalars[key]) == printed, key


def test_tiny_model_tensors_account_for_every_byte_of_the_file(tiny_model: Path) -> None:
    header = read_gguf_header(tiny_model)

    assert header.tensor_count == len(header.tensors) == 272  # llama.cpp: "272 tensors"
    assert header.data_offset % header.alignment == 0
    assert header.data_offset + header.total_tensor_bytes == tiny_model.stat().st_size
    # llama.cpp printed "CPU_Mapped model buffer size = 92.10 MiB" for this file
    assert round(header.total_tensor_bytes / 2**20, 2) == 92.10
    by_type = {}
    for tensor in header.tensors:
        by_type[tensor.ggml_type.name] = by_type.get(tensor.ggml_type.name, 0) + 1
    assert by_type == {"f32": 61, "q4_1": 210, "q8_0": 1}  # as llama_model_loader lists them
    embd = next(t for t in header.tensors if t.name == "token_embd.weight")
    assert embd.dims == (576, 49152) and embd.n_bytes == 576 // 32 * 34 * 49152


def test_vocab_arrays_are_summarised_not_kept(tiny_model: Path) -> None:
    header = read_gguf_header(tiny_model)

    assert header.metadata["tokenizer.ggml.tokens"] == ArraySummary("string", 49152)
    assert header.metadata["tokenizer.ggml.merges"] == ArraySummary("string", 48900)
    assert header.metadata["tokenizer.ggml.token_type"].length == 49152
    assert header.metadata["tokenizer.ggml.token_type"].values is None
    with pytest.raises(TypeError):
        header.metadata["general.architecture"] = "x"  # type: ignore[index]


def test_a_prefix_asks_for_more_bytes_until_the_header_is_read(tiny_model: Path) -> None:
    """What a download does: fetch a prefix by HTTP Range, grow it until the header fits."""
    whole = tiny_model.read_bytes()
    expected = read_gguf_header(tiny_model)
    have, attempts = 4096, 0
    while True:
        attempts += 1
        try:
            header = parse_gguf_header(whole[:have], file_size=len(whole))
            break
        except GGUFNeedMoreBytes as more:
            assert more.needed > have and more.have == have
            assert "more of the model file" in more.user_message
            have = max(more.needed, 2 * have)
    assert header == expected
    assert have < 4 * expected.data_offset and attempts < 12


def test_a_prefix_without_a_known_size_also_asks_for_more(tiny_model: Path) -> None:
    with tiny_model.open("rb") as handle:
        prefix = handle.read(100_000)
    with pytest.raises(GGUFNeedMoreBytes):
        parse_gguf_header(prefix)


def test_the_same_prefix_as_a_whole_file_is_damaged(tiny_model: Path, tmp_path: Path) -> None:
    with tiny_model.open("rb") as handle:
        prefix = handle.read(100_000)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(prefix)
    with pytest.raises(GGUFLengthError) as caught:  # the vocabulary is longer than the file
        read_gguf_header(cut)
    assert isinstance(caught.value, HearthError) and isinstance(caught.value, ValueError)
    assert caught.value.user_message.startswith("This model file is damaged") and caught.value.hint
    assert "tokenizer.ggml.tokens" in caught.value.details

    cut.write_bytes(prefix[:20])  # ends inside the metadata count
    with pytest.raises(GGUFTruncatedError) as caught:
        read_gguf_header(cut)
    assert "incomplete" in caught.value.user_message and "file ends at byte 20" in caught.value.details


def test_a_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(HearthFileError) as caught:
        read_gguf_header(tmp_path / "nothing.gguf")
    assert not isinstance(caught.value, GGUFError)


def test_built_headers_read_back_with_per_layer_arrays(tmp_path: Path) -> None:
    built = llama_like(arch="gemma2", n_layer=4, n_head_kv=[4, 2, 4, 2],
                       extra={"gemma2.attention.sliding_window": 4096})
    sparse = tmp_path / "model.gguf"
    with sparse.open("wb") as handle:
        handle.write(built.header)
        handle.truncate(built.file_size)  # a sparse file: the header is what matters

    header = read_gguf_header(sparse)

    assert header.architecture == "gemma2"
    assert header.arch_value("attention.head_count_kv") == ArraySummary("uint32", 4, (4, 2, 4, 2))
    assert header.arch_value("attention.sliding_window") == 4096
    assert header.data_offset == len(built.header)
    assert header.data_offset + header.total_tensor_bytes == built.file_size
    assert header == parse_gguf_header(built.header, file_size=built.file_size)


def test_alignment_comes_from_the_header() -> None:
    built = build_gguf({"general.alignment": 64}, [Tensor("a", (3,)), Tensor("b", (5,))], alignment=64)
    header = parse_gguf_header(built.header, file_size=built.file_size)
    assert header.alignment == 64 and header.data_offset % 64 == 0
    assert [t.offset for t in header.tensors] == [0, 64]


def test_version_2_files_are_read() -> None:
    built = build_gguf({"general.architecture": "llama"}, [Tensor("a", (32, 2), "q4_0")], version=2)
    header = parse_gguf_header(built.header, file_size=built.file_size)
    assert header.version == 2 and header.tensors[0].n_bytes == 2 * 18
    assert struct.unpack_from("<I", built.header, 4)[0] == 2
