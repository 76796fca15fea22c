"""Small widgets the setup pages use. The shared ones live in :mod:`app.ui.widgets` (the chat
window uses them too) and are re-exported here; ``connect_once`` is the wizard's own."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal

from app.ui.widgets import ChoiceCard, InlineError, plain_bytes, plain_duration, scaled_font_label

__all__ = ["ChoiceCard", "InlineError", "connect_once", "plain_bytes", "plain_duration", "scaled_font_label"]


def connect_once(signal: Signal, slot: Callable[..., object]) -> None:
    """Connect ``slot`` unless it already is (pages are shown again after Back)."""
    try:
        signal.disconnect(slot)
    except (RuntimeError, TypeError):
        pass
    signal.connect(slot)
