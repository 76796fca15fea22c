"""Hearth's screens: one module per screen (the setup wizard lives in ``app.ui.setup``)."""
