"""A generated corpus of broken GGUF files: every one must raise a GGUFError, nothing else.

The truncated cases come from the real tiny model's header; the targeted ones from the
builder, each corrupting one field the way the published llama.cpp loader exploits did.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from tests.wizard.gguf_builder import Tensor, Typed, build_gguf, llama_like
from wizard.gguf import (
    GGUFBadMagicError,
    GGUFError,
    GGUFLengthError,
    GGUFMalformedError,
    GGUFMetadataError,
    GGUFNeedMoreBytes,
    GGUFTensorError,
    GGUFTruncatedError,
    GGUFVersionError,
    parse_gguf_header,
    read_gguf_header,
)
from wizard.gguf.reader import SHORT_STRING
from wizard.gguf.reader import STRING_RUN as RUN
from wizard.gguf.types import ARRAY, STRING, UINT64

HUGE = (1 << 64) - 1


@pytest.fixture(scope="module")
def real_header(tiny_model: Path) -> tuple[bytes, int]:
    """The tiny model's header bytes (up to the tensor data) and the file's size."""
    data_offset = read_gguf_header(tiny_model).data_offset
    with tiny_model.open("rb") as handle:
        return handle.read(data_offset + 4096), tiny_model.stat().st_size


def truncation_offsets(header_length: int) -> list[int]:
    """Every byte of the fixed part, then steps across the header, then random points."""
    rng = random.Random(20240603)
    offsets = set(range(0, 300))
    offsets.update(range(300, 8192, 37))
    offsets.update(range(8192, header_length, 9973))
    offsets.update(rng.randrange(header_length) for _ in range(120))
    return sorted(offsets)


def test_the_real_header_cut_anywhere_is_damaged_as_a_file(real_header, tiny_model: Path, tmp_path: Path) -> None:
    data, _ = real_header
    data_offset = read_gguf_header(tiny_model).data_offset
    offsets = truncation_offsets(data_offset + 64)
    assert len(offsets) > 600
    for cut in offsets:
        with pytest.raises(GGUFMalformedError) as caught:
            parse_gguf_header(data[:cut], file_size=cut)
        expected = (GGUFTensorError,) if cut >= data_offset else (GGUFTruncatedError, GGUFLengthError)
        assert isinstance(caught.value, expected), (cut, caught.value.details)
    # and the same through a real file on disk, for a few of them
    for cut in offsets[::60]:
        path = tmp_path / f"cut-{cut}.gguf"
        path.write_bytes(data[:cut])
        with pytest.raises(GGUFMalformedError):
            read_gguf_header(path)


def test_the_real_header_cut_anywhere_as_a_prefix_asks_for_more(real_header, tiny_model: Path) -> None:
    data, file_size = real_header
    data_offset = read_gguf_header(tiny_model).data_offset
    for cut in truncation_offsets(data_offset):
        with pytest.raises(GGUFNeedMoreBytes) as caught:
            parse_gguf_header(data[:cut], file_size=file_size)
        assert cut < caught.value.needed <= data_offset, cut


def _patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<" + fmt, out, offset, value)
    return bytes(out)


def test_huge_counts_in_the_real_header_are_rejected_before_any_loop(real_header) -> None:
    data, file_size = real_header
    for offset, what in ((8, "tensor count"), (16, "metadata count")):
        for value in (HUGE, 1 << 40, 10_000_000):
            with pytest.raises(GGUFLengthError) as caught:
                parse_gguf_header(_patched(data, offset, "Q", value), file_size=file_size)
            assert what in caught.value.details


def _simple(**extra) -> tuple[dict, list[Tensor]]:
    metadata = {"general.architecture": "llama", "llama.block_count": 1, "general.name": "tiny", **extra}
    return metadata, [Tensor("a.weight", (64, 4), "q8_0"), Tensor("b.weight", (8,))]


def _parse(built) -> object:
    return parse_gguf_header(built.header, file_size=built.file_size)


def test_a_valid_simple_file_reads() -> None:
    header = _parse(build_gguf(*_simple()))
    assert [t.n_bytes for t in header.tensors] == [2 * 34 * 4, 32]


@pytest.mark.parametrize(
    ("magic", "version", "error"),
    [
        (b"GGUG", 3, GGUFBadMagicError),
        (b"\x00\x00\x00\x00", 3, GGUFBadMagicError),
        (b"FUGG", 3, GGUFBadMagicError),
        (b"GGUF", 1, GGUFVersionError),
        (b"GGUF", 4, GGUFVersionError),
        (b"GGUF", 0x03000000, GGUFVersionError),  # a big-endian file read little-endian
    ],
)
def test_bad_magic_and_versions(magic: bytes, version: int, error: type) -> None:
    with pytest.raises(error) as caught:
        _parse(build_gguf(*_simple(), magic=magic, version=version))
    assert caught.value.user_message and caught.value.hint


def test_a_text_file_and_an_empty_file_are_not_models(tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("Dear diary, today I downloaded a model.\n" * 10)
    with pytest.raises(GGUFBadMagicError) as caught:
        read_gguf_header(text)
    assert "not in the GGUF format" in caught.value.user_message
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(GGUFTruncatedError):
        read_gguf_header(empty)


def _corrupt_field(built, where: str, skip: int, fmt: str, value: int) -> bytes:
    return _patched(built.header, built.offsets[where] + skip, fmt, value)


KEY = "general.name"
KEY_FIELD = 8 + len(KEY)  # where the value type sits after the key


@pytest.mark.parametrize(
    ("skip", "fmt", "value", "error"),
    [
        (0, "Q", HUGE, GGUFLengthError),  # key length
        (0, "Q", 1 << 20, GGUFLengthError),
        (0, "Q", 0, GGUFMetadataError),  # empty key
        (KEY_FIELD, "I", 99, GGUFMetadataError),  # unknown value type
        (KEY_FIELD, "I", 13, GGUFMetadataError),
        (KEY_FIELD + 4, "Q", HUGE, GGUFLengthError),  # string length
        (KEY_FIELD + 4, "Q", 1 << 33, GGUFLengthError),
    ],
)
def test_corrupted_metadata_entries(skip: int, fmt: str, value: int, error: type) -> None:
    built = build_gguf(*_simple())
    with pytest.raises(error):
        parse_gguf_header(_corrupt_field(built, f"kv:{KEY}", skip, fmt, value), file_size=built.file_size)


def test_corrupted_arrays() -> None:
    built = build_gguf(*_simple(**{"llama.attention.head_count_kv": [2, 2, 2]}))
    where = "kv:llama.attention.head_count_kv"
    type_at = 8 + len("llama.attention.head_count_kv") + 4
    for fmt, skip, value, error in (
        ("Q", 4, HUGE, GGUFLengthError),  # array length
        ("Q", 4, 1 << 31, GGUFLengthError),
        ("I", 0, ARRAY, GGUFMetadataError),  # an array of arrays
        ("I", 0, 77, GGUFMetadataError),
    ):
        with pytest.raises(error):
            parse_gguf_header(_corrupt_field(built, where, type_at + skip, fmt, value), file_size=built.file_size)
    strings = build_gguf(*_simple(**{"tokenizer.ggml.tokens": ["a", "bb", "ccc"]}))
    second_string = strings.offsets["kv:tokenizer.ggml.tokens"] + 8 + len("tokenizer.ggml.tokens") + 4 + 4 + 8 + 9
    for value in (HUGE, 1 << 40, strings.file_size):
        with pytest.raises(GGUFLengthError):
            parse_gguf_header(_patched(strings.header, second_string, "Q", value), file_size=strings.file_size)


def test_duplicate_keys_and_bad_alignment() -> None:
    built = build_gguf({"general.name": "x", "general.namf": "y"}, [])
    twice = built.header.replace(b"general.namf", b"general.name")
    with pytest.raises(GGUFMetadataError):
        parse_gguf_header(twice, file_size=built.file_size)
    for alignment in (0, 3, 48, Typed(1 << 40, UINT64)):
        with pytest.raises(GGUFMetadataError):
            _parse(build_gguf({"general.alignment": alignment}, [Tensor("a", (4,))]))
    with pytest.raises(GGUFMetadataError):
        _parse(build_gguf({"general.alignment": Typed("32", STRING)}, [Tensor("a", (4,))]))


TENSOR_DIMS = 8 + len("a.weight")  # n_dims sits after the name


@pytest.mark.parametrize(
    ("skip", "fmt", "value"),
    [
        (0, "Q", HUGE),  # name length
        (0, "Q", 64),  # longer than ggml's 63 characters (and than the file)
        (TENSOR_DIMS, "I", 0),  # no dimensions
        (TENSOR_DIMS, "I", 5),  # more than four
        (TENSOR_DIMS, "I", 0xFFFFFFFF),
        (TENSOR_DIMS + 4, "Q", 0),  # a zero dimension
        (TENSOR_DIMS + 4, "Q", HUGE),  # one that overflows int64
        (TENSOR_DIMS + 12, "Q", 1 << 62),  # a product that overflows
        (TENSOR_DIMS + 4, "Q", 65),  # rows not a whole number of q8_0 blocks
        (TENSOR_DIMS + 20, "I", 4),  # a removed ggml type
        (TENSOR_DIMS + 20, "I", 999),
        (TENSOR_DIMS + 24, "Q", 1 << 40),  # offset outside the file
        (TENSOR_DIMS + 24, "Q", 7),  # misaligned
        (TENSOR_DIMS + 24, "Q", HUGE - 31),
    ],
)
def test_corrupted_tensor_infos(skip: int, fmt: str, value: int) -> None:
    built = build_gguf(*_simple())
    with pytest.raises((GGUFTensorError, GGUFLengthError)):
        parse_gguf_header(_corrupt_field(built, "tensor:a.weight", skip, fmt, value), file_size=built.file_size)


def test_overlapping_and_duplicate_tensors() -> None:
    overlapping = [Tensor("a", (64,)), Tensor("b", (64,), offset=128)]
    with pytest.raises(GGUFTensorError):
        _parse(build_gguf({}, overlapping))
    built = build_gguf({}, [Tensor("a", (8,)), Tensor("b", (8,))])
    with pytest.raises(GGUFTensorError):
        parse_gguf_header(built.header.replace(b"\x01\x00\x00\x00\x00\x00\x00\x00b", b"\x01\x00\x00\x00\x00"
                                               b"\x00\x00\x00a"), file_size=built.file_size)
    with pytest.raises(GGUFTensorError) as caught:  # the data ends before the last tensor does
        parse_gguf_header(built.header, file_size=built.file_size - 1)
    assert "past the end" in caught.value.details


def test_random_corruption_never_escapes_as_anything_but_a_gguf_error() -> None:
    """A fixed-seed fuzz loop: overwrite bytes, words and lengths in a realistic header."""
    built = llama_like(n_layer=3, n_vocab=256, extra={
        "tokenizer.ggml.tokens": [f"t{i}" for i in range(64)],
        "tokenizer.chat_template": "{{ messages }}",
        "llama.attention.head_count_kv_per_layer": [2, 4, 2],
    })
    rng = random.Random(1234)
    outcomes = {"read": 0, "damaged": 0, "need more": 0}
    for _ in range(3000):
        data = bytearray(built.header)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data) - 8)
            kind = rng.random()
            if kind < 0.5:
                data[at] = rng.randrange(256)
            elif kind < 0.8:
                struct.pack_into("<Q", data, at, rng.choice((HUGE, 1 << 32, 1 << 62, rng.randrange(1 << 16))))
            else:
                struct.pack_into("<I", data, at, rng.randrange(40))
        cut = len(data) if rng.random() < 0.7 else rng.randrange(len(data))
        file_size = rng.choice((built.file_size, None, cut))
        try:
            parse_gguf_header(bytes(data[:cut]), file_size=file_size)
            outcomes["read"] += 1
        except GGUFNeedMoreBytes:
            outcomes["need more"] += 1
        except GGUFMalformedError:
            outcomes["damaged"] += 1
    assert all(count > 50 for count in outcomes.values()), outcomes


def test_every_gguf_error_is_a_hearth_value_error() -> None:
    with pytest.raises(ValueError) as caught:
        _parse(build_gguf(*_simple(), magic=b"XXXX"))
    assert isinstance(caught.value, GGUFError)
    assert caught.value.for_terminal().startswith("Error: This file is not a model file")


def _vocabulary(count: int, seed: int = 7) -> list[str]:
    """Mostly short tokens, with empty ones and some longer than the fast path takes."""
    rng = random.Random(seed)
    longest = SHORT_STRING
    lengths = [rng.choice((0, 1, 3, 13, 63, longest, longest + 1, 200, 1000)) if i % 97 == 0 else rng.randrange(1, 12)
               for i in range(count)]
    return ["x" * n for n in lengths]


def test_a_vocabulary_of_every_length_is_skipped_to_exactly_its_end() -> None:
    for count in (1, RUN - 1, RUN, 2 * RUN - 1, 2 * RUN, 2 * RUN + 1, 1000, 5003):
        tokens = _vocabulary(count)
        built = build_gguf(*_simple(**{"tokenizer.ggml.tokens": tokens, "tokenizer.ggml.eos_token_id": 2}))
        header = _parse(built)
        # Whatever follows the array is read from the right place: the key after it, the tensors.
        assert header.metadata["tokenizer.ggml.tokens"].length == count
        assert header.metadata["tokenizer.ggml.eos_token_id"] == 2
        assert [t.name for t in header.tensors] == ["a.weight", "b.weight"]
        assert header.data_offset == len(built.header)


def test_a_hostile_length_inside_a_run_of_short_strings_is_caught() -> None:
    tokens = ["ab"] * 5000
    built = build_gguf(*_simple(**{"tokenizer.ggml.tokens": tokens}))
    first = built.offsets["kv:tokenizer.ggml.tokens"] + 8 + len("tokenizer.ggml.tokens") + 4 + 4 + 8
    for index in (0, RUN - 1, RUN, 1000, 4999):  # at run boundaries, inside a run, the last string
        at = first + index * (8 + 2)
        for value in (HUGE, 1 << 40, built.file_size):
            with pytest.raises(GGUFLengthError) as caught:
                parse_gguf_header(_patched(built.header, at, "Q", value), file_size=built.file_size)
            assert "tokenizer.ggml.tokens" in caught.value.details
        # a prefix that stops inside the run asks for the bytes of the string it stopped in
        cut = at + 8 + 1
        with pytest.raises(GGUFNeedMoreBytes) as more:
            parse_gguf_header(built.header[:cut], file_size=built.file_size)
        assert more.value.needed == at + 8 + 2
