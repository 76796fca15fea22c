"""What the setup wizard has been told so far, and where it gets things from.

Qt-free on purpose: the pages write their answers here, so going Back or meeting an
error never loses anything typed, and the last page turns the answers into a profile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wizard.catalog import Catalog, CatalogEntry, load_catalog
from wizard.engine.plan import LoadPlan
from wizard.fit import FitPlan
from wizard.hardware import HardwareProfile, probe_hardware
from wizard.recipes import AvailableRecipes, LoadedRecipe, available_recipes
from wizard.secrets import SessionSecrets
from wizard.settings import download_endpoint

# Where models are downloaded from: this variable (an override for an administrator or the
# local test mirror), else the mirror chosen in Settings, else huggingface_hub's default
# (HF_ENDPOINT, else huggingface.co).
ENDPOINT_VARIABLE = "HEARTH_HUB_ENDPOINT"


def default_endpoint() -> str | None:
    return download_endpoint(os.environ.get(ENDPOINT_VARIABLE) or None)


@dataclass
class SetupServices:
    """Where the wizard gets its catalog, recipes and hardware facts, and where it downloads from.

    The defaults are the real ones; tests pass their own catalog (one that lists the
    tiny test model) and the local mirror's address. Nothing else is replaced.
    ``recipes`` gives :class:`AvailableRecipes` (shipped, added here, left out).
    """

    catalog: Callable[[], Catalog] = load_catalog
    recipes: Callable[[], AvailableRecipes] = available_recipes
    probe: Callable[[], HardwareProfile] = probe_hardware
    endpoint: str | None = field(default_factory=default_endpoint)
    models_dir: Path | None = None  # None: hearth_paths().models


@dataclass(frozen=True)
class ModelChoice:
    """The model the person picked: a catalog entry to download, or a file they already have."""

    name: str
    plan: FitPlan
    entry: CatalogEntry | None = None  # to download
    local_path: Path | None = None  # already on this computer

    @property
    def needs_download(self) -> bool:
        return self.local_path is None


@dataclass
class SetupAnswers:
    """Every answer so far. Pages read and write it; nothing here talks to the screen."""

    hardware: HardwareProfile | None = None
    recipe: LoadedRecipe | None = None
    model: ModelChoice | None = None
    model_path: Path | None = None  # the verified file, once downloaded (or chosen)
    person_name: str = ""
    folders_allowed: dict[str, bool] = field(default_factory=dict)  # folder path -> allowed
    secret_values: dict[str, str] = field(default_factory=dict, repr=False)
    session_only_secrets: bool = False
    session_secrets: SessionSecrets = field(default_factory=SessionSecrets)
    check_reply: str = ""
    check_tokens_per_second: float | None = None
    check_plan: LoadPlan | None = None  # the plan the check measured and passed (may have a shorter context)
    check_peak_ram_bytes: int | None = None
    profile_dir: Path | None = None


def has_completed_profile() -> bool:
    """True when setup finished at least once (a complete profile exists, see wizard.profiles)."""
    from wizard.profiles import list_profiles

    return bool(list_profiles())
