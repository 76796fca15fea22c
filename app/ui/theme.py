"""Light, dark, or whatever the operating system uses: applied to the whole app at once.

Qt 6.8+ can ask the platform for a colour scheme (``QStyleHints.setColorScheme``); the
platforms that honour it (Windows 11, macOS, GNOME/KDE through their themes) then draw
native light or dark widgets. Where the platform ignores the request (some Linux desktops,
the offscreen platform), Hearth sets its own light or dark palette instead, so the choice
always takes effect.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

THEMES = ("system", "light", "dark")

_DARK = {
    QPalette.ColorRole.Window: "#202124", QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#2a2b2e",
    QPalette.ColorRole.ToolTipBase: "#2a2b2e", QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6", QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#2d2e31", QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Light: "#3c3d40",
    QPalette.ColorRole.Midlight: "#333437", QPalette.ColorRole.Mid: "#28292c",
    QPalette.ColorRole.Dark: "#141517", QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.Highlight: "#8ab4f8", QPalette.ColorRole.HighlightedText: "#202124",
    QPalette.ColorRole.Link: "#8ab4f8", QPalette.ColorRole.LinkVisited: "#c58af9",
}
_LIGHT = {
    QPalette.ColorRole.Window: "#f3f3f3", QPalette.ColorRole.WindowText: "#1f1f1f",
    QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f0f0f0",
    QPalette.ColorRole.ToolTipBase: "#ffffdc", QPalette.ColorRole.ToolTipText: "#1f1f1f",
    QPalette.ColorRole.PlaceholderText: "#6b6b6b", QPalette.ColorRole.Text: "#1f1f1f",
    QPalette.ColorRole.Button: "#ececec", QPalette.ColorRole.ButtonText: "#1f1f1f",
    QPalette.ColorRole.BrightText: "#c00000", QPalette.ColorRole.Light: "#ffffff",
    QPalette.ColorRole.Midlight: "#e3e3e3", QPalette.ColorRole.Mid: "#b8b8b8",
    QPalette.ColorRole.Dark: "#9f9f9f", QPalette.ColorRole.Shadow: "#767676",
    QPalette.ColorRole.Highlight: "#1a73e8", QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#1a5fb4", QPalette.ColorRole.LinkVisited: "#6a1b9a",
}


def palette_for(choice: str) -> QPalette:
    """Hearth's own palette for "light" or "dark" (greyed text for disabled widgets)."""
    colours = _DARK if choice == "dark" else _LIGHT
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = QColor("#7f7f7f") if choice == "dark" else QColor("#a0a0a0")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _request_scheme(app: QGuiApplication, choice: str) -> None:
    hints = app.styleHints()
    if not hasattr(hints, "setColorScheme"):  # PySide6 < 6.8
        return
    if choice == "system" and app.property("hearth_theme") in (None, "system"):
        return  # nothing else was asked of the platform: its own scheme is in force already
    from PySide6.QtCore import Qt  # here: building the Qt namespace costs ~16 ms before the first paint

    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(choice, Qt.ColorScheme.Unknown)
    hints.setColorScheme(scheme)


def apply_theme(app: QGuiApplication, choice: str) -> None:
    """Apply "system", "light" or "dark" to every window now (an unknown choice means "system")."""
    choice = choice if choice in THEMES else "system"
    app.setPalette(QPalette())  # back to the platform's own colours first
    _request_scheme(app, choice)
    app.setProperty("hearth_theme", choice)
    if choice == "system":
        return
    if is_dark(app.palette()) != (choice == "dark"):  # the platform ignored the request
        app.setPalette(palette_for(choice))


def current_theme(app: QGuiApplication) -> str:
    """The choice last applied with :func:`apply_theme` ("system" before any)."""
    return app.property("hearth_theme") or "system"
