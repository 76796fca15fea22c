"""Why provisioning stopped, in plain words (nothing half-made is left behind)."""

from __future__ import annotations

from wizard.errors import HearthValueError


class ProvisionError(HearthValueError):
    """The answer file asks for something that cannot be done on this computer."""

    default_hint = "Change the answer file and run `hearth provision` again; nothing was set up."
