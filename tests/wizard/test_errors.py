from __future__ import annotations

import pytest

from wizard.errors import HearthError, HearthFileError, HearthNetworkError, HearthValueError


def test_an_error_carries_a_plain_message_a_hint_and_details() -> None:
    error = HearthError("The model file is damaged.", hint="Download it again.", details="bad magic b'GGUX'")
    assert error.user_message == "The model file is damaged."
    assert error.hint == "Download it again."
    assert error.details == "bad magic b'GGUX'"
    assert str(error) == "The model file is damaged."
    assert error.for_terminal() == "Error: The model file is damaged.\nDownload it again."


def test_each_kind_has_a_default_hint() -> None:
    assert HearthNetworkError("The download stopped.").hint.startswith("Check your internet connection")
    assert HearthError("x", hint="").for_terminal() == "Error: x"


@pytest.mark.parametrize(
    ("kind", "builtin"),
    [(HearthFileError, OSError), (HearthValueError, ValueError), (HearthNetworkError, ConnectionError)],
)
def test_errors_are_also_the_matching_builtin(kind: type[HearthError], builtin: type[Exception]) -> None:
    with pytest.raises(builtin) as caught:
        raise kind("Something happened.")
    assert isinstance(caught.value, HearthError)
    assert caught.value.user_message == "Something happened."
