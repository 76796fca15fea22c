"""The header check every model file passes before llama.cpp opens it."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from wizard.engine.errors import ModelFileError
from wizard.engine.modelfile import validate_model_file


def test_the_real_model_passes(tiny_model: Path) -> None:
    validate_model_file(tiny_model)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not there any more"):
        validate_model_file(tmp_path / "gone.gguf")


def test_not_a_gguf_file(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"<html>Not found</html>" * 10)
    with pytest.raises(ModelFileError, match="not in the GGUF format"):
        validate_model_file(path)


def test_unknown_version(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(struct.pack("<4sIQQ", b"GGUF", 99, 0, 0) + b"\0" * 64)
    with pytest.raises(ModelFileError, match="version"):
        validate_model_file(path)


def test_counts_the_file_cannot_hold(tmp_path: Path, tiny_model: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(tiny_model.read_bytes()[:4096])  # a download cut short
    with pytest.raises(ModelFileError) as caught:
        validate_model_file(path)
    assert "damaged" in caught.value.user_message
    assert isinstance(caught.value, OSError)


def test_a_sound_header_with_its_tensor_data_cut_off_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    """The whole header is read: tensors pointing past the end of the file never reach llama.cpp."""
    from wizard.gguf import read_gguf_header

    header = read_gguf_header(tiny_model)
    path = tmp_path / "model.gguf"
    path.write_bytes(tiny_model.read_bytes()[: header.data_offset + 1000])
    with pytest.raises(ModelFileError) as caught:
        validate_model_file(path)
    assert "damaged" in caught.value.user_message
