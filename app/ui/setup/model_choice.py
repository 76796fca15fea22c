"""Qt-free helpers for the "Your model" page: a model file the person already has, sized for this computer.

The catalog's models are ranked by :func:`wizard.recommend.recommend`; a file chosen by
hand (or from a model pack) is checked by the GGUF reader and planned here the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.ui.setup.state import ModelChoice
from wizard.engine.modelfile import validate_model_file
from wizard.errors import HearthValueError
from wizard.fit import plan_load
from wizard.hardware import HardwareProfile
from wizard.recipes.schema import ModelNeeds
from wizard.recommend import offload_card, ram_budget

if TYPE_CHECKING:
    from wizard.packs import PackRecipe


class ModelTooBigError(HearthValueError):
    """A model file the person chose will not run on this computer."""

    default_hint = "Choose a smaller model file, or pick one of the models Hearth suggests."


def plan_model_file(path: Path, profile: HardwareProfile, needs: ModelNeeds) -> ModelChoice:
    """Check ``path`` is a sound GGUF model and plan how to load it here.

    Raises:
        ModelFileError: the file is missing, unreadable, not a model, or damaged.
        ModelShapeError: the file is not a chat model Hearth can size.
        ModelTooBigError: it does not fit in this computer's memory (the reason says why).
    """
    header = validate_model_file(path)
    card = offload_card(profile)
    gpu_free = 0
    if card is not None and not card.unified_memory:
        gpu_free = card.free_bytes if card.free_bytes is not None else card.total_bytes or 0
    plan = plan_load(header, ram_available_bytes=ram_budget(profile), min_ctx=needs.min_context,
                     wanted_ctx=max(8192, needs.min_context), gpu_free_bytes=gpu_free,
                     physical_cores=profile.cpu.performance_cores or profile.cpu.physical_cores)
    if not plan.fits:
        raise ModelTooBigError(f"This model will not run on this computer: {plan.reason}",
                               details=f"{path}: verdict {plan.verdict}")
    name = str(header.metadata.get("general.name") or path.stem)
    return ModelChoice(name=name, plan=plan, local_path=Path(path))


class PackWithoutModelError(HearthValueError):
    """A model pack held no model file."""

    default_hint = "Ask whoever made the pack for one that includes a model, or download one instead."


@dataclass(frozen=True)
class PackChoice:
    """The model planned from a pack, and the recipes the pack installed (offered on the purpose page)."""

    model: ModelChoice
    recipes: tuple[PackRecipe, ...] = ()


def choose_from_pack(folder: Path, profile: HardwareProfile, needs: ModelNeeds, *, models_dir: Path | None,
                     progress, cancel) -> PackChoice:
    """Install the model pack in ``folder`` (verified copies) and plan its first model file.

    Raises:
        PackManifestError, PackFileMissingError, PackFileDamagedError, NotEnoughSpaceError,
        PackCancelled, HearthFileError: from :func:`wizard.packs.import_pack`.
        PackWithoutModelError: the pack has no model file.
        And what :func:`plan_model_file` raises.
    """
    from wizard.models import ModelRegistry
    from wizard.packs import import_pack

    registry = ModelRegistry(models_dir=models_dir)
    result = import_pack(folder, registry=registry, progress=progress, cancel=cancel)
    files = [model.file_in(registry.models_dir) for model in result.installed]
    models = [path for path in files if path.suffix.lower() == ".gguf"]
    if not models:
        raise PackWithoutModelError("This model pack has no AI model in it.", details=str(folder))
    return PackChoice(plan_model_file(models[0], profile, needs), result.recipes)
