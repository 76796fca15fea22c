"""``hearth recipe apply``: a recipe alone becomes a complete assistant, made the way provisioning makes one.

:func:`plan_recipe_setup` decides without writing anything: the recipe's plan, the model
(Hearth's recommendation for this computer, a model from Hearth's list, or a model file;
on a second apply the model already set up is kept with its measured settings) and the
person's name. :func:`finish_recipe_setup` puts the model in place (download or add the
file), runs it once to measure it, and writes the profile with
:func:`wizard.profiles.save_profile` — recipe, grants and ``setup.json`` together, so
:func:`wizard.profiles.load_profile` accepts it — or nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path

from wizard.engine.plan import LoadPlan
from wizard.errors import HearthError
from wizard.hardware import HardwareProfile
from wizard.profiles import Profile, load_profile, read_setup, save_profile
from wizard.provision.answers import AUTO, Answers
from wizard.provision.model import ModelPick, choose_model, describe, install_model
from wizard.recipes import LoadedRecipe
from wizard.recipes.plan import ConsentNeeded, Permission, RecipePlan, _model_line, plan_recipe

Step = Callable[[str], None]
SETUP_KEYS = ("schema_version", "person_name", "model", "load_plan")  # written by save_profile itself


@dataclass(frozen=True)
class RecipeSetup:
    """What applying a recipe would do; show :meth:`lines`, then :func:`finish_recipe_setup`."""

    plan: RecipePlan
    pick: ModelPick
    kept_plan: LoadPlan | None  # the measured plan of the model kept from the earlier setup
    person_name: str
    hardware: HardwareProfile
    answers: Answers  # the same choices an answer file would hold
    unchanged: bool  # the profile is complete and exactly like this already
    recommended: bool = False  # the model is Hearth's own pick for this computer (not named, kept or installed)

    def lines(self) -> list[str]:
        plan = self.plan
        if self.unchanged:
            return plan.lines(with_model=False)
        if plan.unchanged:  # the same recipe; the setup is unfinished or changes
            out = [f"Finish setting up \"{plan.recipe.name}\" in {plan.profile_dir}: the recipe is applied "
                   "already and asks for nothing new."]
        else:
            out = plan.lines(with_model=False)
        if self.recommended:
            out.append("Model: " + _model_line(plan.recipe))
        elif self.kept_plan is not None:
            out.append(f"Model: {self.pick.name}, kept from the earlier setup with its measured settings: "
                       f"{self.pick.path}")
        else:
            out += [describe(self.pick, self.answers), f"Why this model: {self.pick.reason}"]
        if self.person_name:
            out.append(f"For: {self.person_name}")
        if self.kept_plan is None:
            out.append("The model is run once to check and measure it." if self.answers.verify
                       else "The model is not run to check it (--no-check).")
        return out


def plan_recipe_setup(loaded: LoadedRecipe, *, model: str = AUTO, person_name: str | None = None,
                      check: bool = True) -> RecipeSetup:
    """Decide everything applying ``loaded`` does on this computer; nothing is written.

    ``model``: "auto" (the earlier model; else Hearth's pick for this computer if it is
    installed; else an installed model that suits the recipe and fits, so nothing is
    downloaded when one is there, e.g. from a model pack; else Hearth's pick, downloaded),
    a model id from Hearth's list, or the path of a .gguf file. ``person_name`` None keeps
    the earlier one.

    Raises:
        ProvisionError: the model named is unknown or does not run here, or none in the list fits.
        ModelFileError, ModelShapeError: a model file is damaged or not a chat model.
        CatalogError, HearthFileError: Hearth's list of models cannot be read.
    """
    from wizard.hardware import probe_hardware
    from wizard.models import ModelRegistry

    recipe = loaded.recipe
    plan = plan_recipe(recipe)
    earlier = _earlier(plan.profile_dir)
    model_file = Path(model).expanduser().resolve() if model.lower().endswith(".gguf") else None
    name = person_name if person_name is not None else (earlier.person_name if earlier else "")
    answers = Answers(source=recipe.source or Path(f"{recipe.id}.toml"), recipe=recipe.id, model=model,
                      model_file=model_file, person_name=name.strip(), folders=None, local_api=False,
                      model_pack=None, mirror=None, catalog=None, verify=check)
    hardware = probe_hardware()
    registry = ModelRegistry()
    pick, kept_plan = _kept(earlier, registry) if model == AUTO else (None, None)
    recommended = False
    if pick is None:
        pick = _said_by_the_command(choose_model(answers, hardware, recipe.model, registry=registry))
        installed = _installed_instead(pick, hardware, recipe, registry) if model == AUTO else None
        recommended = model == AUTO and installed is None
        pick = installed or pick
    unchanged = (plan.unchanged and earlier is not None and kept_plan is not None
                 and answers.person_name == earlier.person_name and not earlier.setup.get("folders_refused"))
    return RecipeSetup(plan, pick, kept_plan, answers.person_name, hardware, answers, unchanged, recommended)


def finish_recipe_setup(setup: RecipeSetup, *, allow: bool | Collection[Permission] = False,
                        step: Step = lambda _line: None, cancel=None) -> Path:
    """Install and check the model, then write the complete profile; return its folder.

    Raises:
        ConsentNeeded: a new permission was not agreed to (checked before anything is done).
        ProvisionError: the model check failed; the errors of downloading and adding model files;
        HearthFileError: the profile could not be written. In every case no half-made profile is left.
    """
    from wizard.models import ModelRegistry
    from wizard.provision.run import _checked_plan, hardware_facts

    plan = setup.plan
    if setup.unchanged:
        return plan.profile_dir
    agreed = set(plan.new_permissions) if allow is True else set(allow or ())
    missing = [p for p in plan.new_permissions if p not in agreed]
    if missing:
        raise ConsentNeeded(missing)
    registry = ModelRegistry()
    pick = install_model(setup.pick, setup.answers, registry=registry, step=step, cancel=cancel)
    if setup.kept_plan is not None:
        load_plan = setup.kept_plan
    elif not setup.answers.verify:
        step("Model check skipped (--no-check)")
        load_plan = pick.plan.engine_plan()
    else:
        pick, load_plan = _checked_plan(pick, setup.answers, plan.recipe, setup.hardware, registry, step, cancel)
    earlier = read_setup(plan.profile_dir) or {}
    extra = {key: value for key, value in earlier.items() if key not in SETUP_KEYS}
    extra.update({"folders_refused": [],  # the recipe as written: every folder it names was agreed to
                  "hardware": hardware_facts(setup.hardware),
                  "model_id": pick.record.id if pick.record else earlier.get("model_id"),
                  "catalog_id": pick.entry.id if pick.entry else earlier.get("catalog_id"),
                  "model_reason": pick.reason,
                  "applied_from": {"recipe": str(setup.answers.source)}})
    return save_profile(plan, allow=allow, person_name=setup.person_name, model_name=pick.name,
                        model_path=pick.path, model_repo=pick.repo, model_file=pick.file, load_plan=load_plan,
                        extra=extra)


def _earlier(profile_dir: Path) -> Profile | None:
    try:
        return load_profile(profile_dir)
    except HearthError:  # none yet, or never finished (e.g. made by an older `hearth recipe apply`)
        return None


def _said_by_the_command(pick: ModelPick) -> ModelPick:
    """The pick's reason as this command gives it (choose_model speaks of an answer file)."""
    for said, now in (("the answer file names this model file", "the model file given with --model"),
                      ("the answer file names it", "given with --model")):
        if pick.reason.startswith(said):
            return replace(pick, reason=now + pick.reason[len(said):])
    return pick


def _installed_instead(first_choice: ModelPick, hardware: HardwareProfile, recipe, registry) -> ModelPick | None:
    """An installed model that suits the recipe and fits here, when Hearth's own pick would be downloaded.

    First the best such model in Hearth's list; then a chat model file not in the list (one
    from a model pack, say), when the recipe needs nothing more than chatting.
    """
    from wizard.catalog import load_catalog
    from wizard.provision.model import _installed, plan_file
    from wizard.recommend import recommend

    if first_choice.how != "download":
        return None
    needs = recipe.model
    catalog = load_catalog()
    why = f"Hearth's first choice, {first_choice.name}, would have to be downloaded"
    for option in recommend(hardware, catalog, needs).options:
        entry = option.entry
        record = _installed(registry, repo=entry.repo, file=entry.file, sha256=entry.sha256) if option.fits else None
        if record is not None:
            return ModelPick(entry.name, option.plan, f"already installed and suits this assistant: it {option.verdict} "
                             f"({option.speed}); {why}", "installed", record.file_in(registry.models_dir),
                             entry=entry, record=record, size_bytes=entry.size_bytes)
    if not (needs.capabilities <= {"chat"} and needs.min_size == "tiny"):
        return None  # what a file outside the list can do is not known
    listed = {(e.repo, e.file) for e in catalog.entries}
    for record in registry.list():
        path = record.file_in(registry.models_dir)
        if (record.source.repo, record.source.filename) in listed or not path.is_file():
            continue
        try:
            name, plan = plan_file(path, hardware, needs)
        except HearthError:
            continue
        return ModelPick(name, plan, f"already installed (not in Hearth's list) and fits this computer with the "
                         f"{needs.min_context} tokens of context this assistant needs; {why}", "installed", path,
                         record=record, size_bytes=record.size)
    return None


def _kept(earlier: Profile | None, registry) -> tuple[ModelPick | None, LoadPlan | None]:
    """The earlier profile's model and measured plan, when the file is still there."""
    if (earlier is None or earlier.model_path is None or earlier.load_plan is None
            or not earlier.model_path.is_file()):
        return None, None
    try:
        record = next((m for m in registry.list()
                       if m.file_in(registry.models_dir).resolve() == earlier.model_path.resolve()), None)
    except HearthError:
        record = None
    reason = str(earlier.setup.get("model_reason") or "the model chosen when this assistant was set up")
    pick = ModelPick(earlier.model_name or earlier.model_path.stem, None, reason, "installed", earlier.model_path,
                     record=record, size_bytes=record.size if record else None)
    return pick, earlier.load_plan
