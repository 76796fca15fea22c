"""The pure parts of the generation loop: stop strings and prefix matching."""

from __future__ import annotations

from wizard.engine.generator import StopMatcher, common_prefix_length


def feed_all(matcher: StopMatcher, pieces: list[str]) -> tuple[str, bool]:
    out = ""
    for piece in pieces:
        text, hit = matcher.feed(piece)
        out += text
        if hit:
            return out, True
    return out + matcher.flush(), False


def test_stop_string_split_across_pieces_is_cut_and_never_shown() -> None:
    assert feed_all(StopMatcher(["\nUser:"]), ["Paris", ".\nU", "ser", ": next"]) == ("Paris.", True)


def test_held_back_text_is_released_when_it_is_not_a_stop() -> None:
    matcher = StopMatcher(["END"])
    assert matcher.feed("the E") == ("the ", False)
    assert matcher.feed("ND") == ("", True)
    assert feed_all(StopMatcher(["END"]), ["the E", "nd"]) == ("the End", False)


def test_no_stop_strings_passes_everything_through() -> None:
    assert StopMatcher([]).feed("abc") == ("abc", False)


def test_common_prefix_length() -> None:
    assert common_prefix_length([1, 2, 3, 4], [1, 2, 9]) == 2
    assert common_prefix_length([], [1]) == 0
    assert common_prefix_length([1, 2], [1, 2, 3]) == 2
