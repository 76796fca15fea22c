"""Profiles: the assistants set up on this computer, one folder each in ``<data>/profiles/``.

The one place that knows a profile's files (``recipe.toml``, ``profile.json``,
``setup.json``): the setup window, ``hearth provision``, ``hearth chat --profile`` and
``hearth serve --profile`` all read and write profiles through here.
"""

from wizard.profiles.create import save_profile
from wizard.profiles.engine import chat_settings, engine_for
from wizard.profiles.export import export_recipe, recipe_toml
from wizard.profiles.errors import ProfileDamagedError, ProfileModelMissingError, ProfileNotFoundError
from wizard.profiles.setup_file import SETUP_FILE, narrow_recipe, read_setup, write_setup
from wizard.profiles.store import Profile, default_profile, list_profiles, load_profile, mark_used

__all__ = [
    "SETUP_FILE", "Profile", "ProfileDamagedError", "ProfileModelMissingError", "ProfileNotFoundError",
    "chat_settings", "default_profile", "engine_for", "export_recipe", "list_profiles", "load_profile", "mark_used",
    "narrow_recipe", "read_setup", "recipe_toml", "save_profile", "write_setup",
]
