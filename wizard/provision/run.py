"""``hearth provision``: set up one assistant from an answer file, with no window and no questions.

Order, so a failure never leaves a half-made profile: read the recipe and the answers,
look at the computer, choose the model, install it (pack, download or file), run it once
and measure it, and only then write the profile (:func:`wizard.profiles.save_profile`,
all three files at once) and the handover report. Running the same answers again finds
everything in place and changes nothing: the model already chosen for these answers is
kept with its measured load plan, and files with the same contents are not rewritten.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wizard.engine.plan import LoadPlan
from wizard.errors import HearthError
from wizard.profiles import load_profile, narrow_recipe, read_setup, save_profile
from wizard.provision.answers import Answers
from wizard.provision.errors import ProvisionError
from wizard.provision.keys import (
    ensure_local_api_token,
    local_api_change,
    secret_lines,
    secrets_from_environment,
    store_secrets,
)
from wizard.provision.report import REPORT_FILE
from wizard.provision.model import ModelPick, choose_model, describe, install_model
from wizard.recipes import LoadedRecipe, load_recipe, shipped_recipes
from wizard.recipes.plan import PROFILE_FILE, RECIPE_FILE, plan_recipe
from wizard.recipes.schema import Recipe

log = logging.getLogger(__name__)

Step = Callable[[str], None]
PROFILE_FILES = (RECIPE_FILE, PROFILE_FILE, "setup.json", REPORT_FILE)


@dataclass(frozen=True)
class ProvisionResult:
    profile_dir: Path
    changed: bool  # False: everything was already exactly like this
    dry_run: bool
    lines: tuple[str, ...]  # every step, as shown
    report: Path | None


def find_recipe(answers: Answers) -> LoadedRecipe:
    """The recipe the answers name: a shipped id or a file.

    Raises: ProvisionError (no shipped recipe has that id), HearthFileError, RecipeError.
    """
    if answers.recipe_path is not None:
        return load_recipe(answers.recipe_path)
    shipped = shipped_recipes()
    found = next((r for r in shipped if r.recipe.id == answers.recipe), None)
    if found is None:
        raise ProvisionError(f"Hearth has no recipe called \"{answers.recipe}\".",
                             hint="Use one of: " + ", ".join(r.recipe.id for r in shipped)
                                  + ", or the path of a recipe file.")
    return found


def refused_folders(recipe: Recipe, answers: Answers) -> list[str]:
    """The recipe's folders the answers do not grant (all are granted when ``folders`` is left out).

    Raises: ProvisionError when the answers grant a folder the recipe does not ask for.
    """
    from wizard.recipes.folders import FolderProblem, resolve

    asked = {str(f.path): f for tool in recipe.tools for f in (*tool.read_folders, *tool.write_folders)}
    asked.update({str(f.path): f for f in recipe.document_folders})
    if answers.folders is None:
        return []
    granted = set()
    for written in answers.folders:
        match = next((path for path, f in asked.items() if f.written == written), None)
        if match is None:
            try:
                match = str(resolve(written)[0])
            except FolderProblem as exc:
                raise ProvisionError(f"The folder \"{written}\" in the answer file cannot be granted: "
                                     f"{exc.message}.") from None
        if match not in asked:
            raise ProvisionError(f"The folder \"{written}\" in the answer file is not one the recipe "
                                 f"\"{recipe.name}\" asks for.",
                                 hint="List only folders the recipe names: " +
                                      ", ".join(f.written for f in asked.values()) or "none")
        granted.add(match)
    return sorted(set(asked) - granted)


def provision(answers: Answers, *, dry_run: bool = False, progress: Step | None = None,
              cancel=None) -> ProvisionResult:
    """Set up the assistant the answers describe (or, with ``dry_run``, only say what would change).

    ``progress`` receives one plain line per step (each is also logged).

    Raises:
        ProvisionError, AnswersError, RecipeError, and the errors of choosing, installing and
        checking the model (PackManifestError, DownloadNetworkError, ModelFileError …);
        in every case no profile was created or changed.
    """
    from wizard.hardware import probe_hardware
    from wizard.hardware.summary import summarize
    from wizard.models import ModelRegistry

    lines: list[str] = []

    def step(text: str) -> None:
        lines.append(text)
        log.info("provision: %s", text)
        if progress:
            progress(text)

    step(f"Answer file: {answers.source}")
    loaded = find_recipe(answers)
    recipe = loaded.recipe
    step(f"Recipe: \"{recipe.name}\" ({recipe.id})")
    refused = refused_folders(recipe, answers)
    for path in refused:
        step(f"Folder not granted (left out of the answer file): {path}")
    if answers.local_api and not recipe.local_api_offered:
        raise ProvisionError(f"The recipe \"{recipe.name}\" does not offer the local API, so it cannot be "
                             "turned on.", hint="Write local_api = false, or use a recipe that offers it.")
    narrowed = narrow_recipe(recipe, {path: False for path in refused})
    plan = plan_recipe(narrowed)
    secrets = secrets_from_environment(recipe, answers)

    hardware = probe_hardware()
    step(f"This computer: {summarize(hardware).headline}")
    registry = ModelRegistry()
    pick, kept_plan = _kept_model(plan.profile_dir, answers, registry)
    if pick is None:
        pick = choose_model(answers, hardware, narrowed.model, registry=registry)
    step(describe(pick, answers))
    step(f"Why this model: {pick.reason}")
    step(_local_api_line(answers))
    for line in secret_lines(recipe, secrets, answers):
        step(line)

    if dry_run:
        for line in plan.lines(with_model=False):  # the model was described above
            step(line)
        if not answers.verify or kept_plan is not None:
            step("The model would not be checked again.")
        else:
            step("The model would be run once to check and measure it.")
        step(f"Would write setup.json and {REPORT_FILE} in {plan.profile_dir}. Nothing was changed (dry run).")
        return ProvisionResult(plan.profile_dir, not _same_as_before(plan, answers), True, tuple(lines), None)

    if answers.local_api:
        ensure_local_api_token()  # before anything is installed: without a keyring it could never work
    pick = install_model(pick, answers, registry=registry, step=step, cancel=cancel)
    if kept_plan is not None:
        load_plan = kept_plan
    else:
        pick, load_plan = _checked_plan(pick, answers, narrowed, hardware, registry, step, cancel)

    store_secrets(recipe, secrets, step)

    before = _snapshot(plan.profile_dir)
    existed = plan.profile_dir.exists()
    local_api_was_on = (read_setup(plan.profile_dir) or {}).get("local_api") is True
    for line in plan.lines(with_model=False):
        log.info("provision plan: %s", line)
    profile_dir = save_profile(
        plan, allow=True, person_name=answers.person_name, model_name=pick.name, model_path=pick.path,
        model_repo=pick.repo, model_file=pick.file, load_plan=load_plan,
        extra={"folders_refused": refused, "local_api": answers.local_api,
               "hardware": hardware_facts(hardware),
               "model_id": pick.record.id if pick.record else None,
               "catalog_id": pick.entry.id if pick.entry else None, "model_reason": pick.reason,
               "provisioned_from": {"answers": str(answers.source), "model": answers.model,
                                    "model_pack": str(answers.model_pack) if answers.model_pack else None,
                                    "mirror": answers.mirror}})
    settings_before = None
    try:
        from wizard.provision.report import write_report
        from wizard.settings import load_settings, save_settings

        new_settings = local_api_change(answers, local_api_was_on)
        if new_settings is not None:
            settings_before = load_settings().settings
            save_settings(new_settings)
            step(f"Turned the local API {'on' if new_settings.local_api else 'off'} in Hearth's settings"
                 + (f": {new_settings.local_api_address}, with the token kept in this computer's keyring"
                    if new_settings.local_api else ""))
        report = write_report(load_profile(profile_dir))
    except BaseException:
        if not existed:  # a new profile without its report: take it away again
            shutil.rmtree(profile_dir, ignore_errors=True)
            if settings_before is not None:
                save_settings(settings_before)
        raise
    changed = _snapshot(profile_dir) != before or settings_before is not None
    if changed:
        step(f"{'Updated' if existed else 'Created'} the assistant \"{recipe.name}\" in {profile_dir}")
    else:
        step(f"Nothing to change: \"{recipe.name}\" was already set up exactly like this in {profile_dir}")
    step(f"Handover report: {report}")
    return ProvisionResult(profile_dir, changed, False, tuple(lines), report)


def _kept_model(profile_dir: Path, answers: Answers, registry) -> tuple[ModelPick | None, LoadPlan | None]:
    """The model and measured plan already chosen for these same answers, when still installed."""
    try:
        profile = load_profile(profile_dir)
    except HearthError:
        return None, None
    before = profile.setup.get("provisioned_from") or {}
    same = (before.get("model") == answers.model and before.get("mirror") == answers.mirror
            and before.get("model_pack") == (str(answers.model_pack) if answers.model_pack else None))
    model_id = profile.setup.get("model_id")
    if (not same or not model_id or profile.load_plan is None or profile.model_path is None
            or not profile.model_path.is_file()):
        return None, None
    record = next((m for m in registry.list() if m.id == model_id), None)
    if record is None or record.file_in(registry.models_dir).resolve() != profile.model_path.resolve():
        return None, None
    catalog_id = profile.setup.get("catalog_id")
    entry = None
    if catalog_id:
        from wizard.catalog import load_catalog

        try:
            entry = next((e for e in load_catalog(answers.catalog).entries if e.id == catalog_id), None)
        except HearthError:
            entry = None
    pick = ModelPick(profile.model_name, None, str(profile.setup.get("model_reason") or ""), "installed",
                     profile.model_path, entry=entry, record=record, size_bytes=record.size)
    return pick, profile.load_plan


def _checked_plan(pick: ModelPick, answers: Answers, recipe: Recipe, hardware, registry, step: Step,
                  cancel) -> tuple[ModelPick, LoadPlan]:
    """Run the model once with its plan and measure it; the model and plan that passed.

    The plan may have a shorter context than planned. When even the recipe's shortest context
    does not fit and Hearth chose the model itself (``model = "auto"`` from the catalog), the
    next smaller catalog model that fits (:func:`wizard.recommend.next_smaller`) is installed
    and checked instead, and so on. Every check's figures are kept with its installed model.

    Raises: ProvisionError when no model runs well enough here.
    """
    if not answers.verify:
        step("Model check skipped (verify = false in the answer file)")
        return pick, pick.plan.engine_plan()
    from wizard.recommend import ram_budget
    from wizard.verify import store_verification, verify_model

    budget = ram_budget(hardware)
    too_big: list[str] = []
    while True:
        step(f"Running {pick.name} once to check it and measure its speed and memory…")
        result = verify_model(pick.path, pick.plan, min_ctx=recipe.model.min_context,
                              ram_budget_bytes=budget, cancel=cancel)
        if pick.record is not None:  # passed or not, what was measured stays with the model
            store_verification(pick.record.id, result, registry=registry)
        if result.passed:
            break
        smaller = _smaller_pick(pick, result, answers, recipe, hardware, registry, too_big)
        if smaller is None:
            raise ProvisionError(f"The model check failed: {result.message}",
                                 details="\n".join(a.problem for a in result.attempts if a.problem))
        step(f"Model check: {pick.name} is too big for this computer ({result.attempts[-1].problem}); "
             f"it stays installed at {pick.path}. Trying the smaller {smaller.name} instead.")
        pick = install_model(smaller, answers, registry=registry, step=step, cancel=cancel)
    final = result.final
    speed = f"{final.tokens_per_second:.0f} tokens a second" if final and final.tokens_per_second else "speed unknown"
    memory = f"{final.peak_ram_bytes / 1e6:,.0f} MB of memory" if final and final.peak_ram_bytes else ""
    step(f"Model check passed: {result.message} ({speed}{', ' + memory if memory else ''})")
    return pick, result.plan


def _smaller_pick(pick: ModelPick, result, answers: Answers, recipe: Recipe, hardware, registry,
                  too_big: list[str]) -> ModelPick | None:
    """The next smaller catalog model after ``pick`` failed its check for size; None if there is none."""
    from wizard.catalog import load_catalog
    from wizard.provision.answers import AUTO
    from wizard.provision.model import _installed
    from wizard.recommend import next_smaller
    from wizard.verify import NEEDS_SMALLER_FILE

    if (result.outcome != NEEDS_SMALLER_FILE or pick.entry is None or answers.model != AUTO
            or answers.model_file is not None or answers.model_pack is not None):
        return None
    too_big.append(pick.entry.id)
    ratios = [a.peak_ram_bytes / a.estimated_ram_bytes for a in result.attempts
              if a.peak_ram_bytes and a.estimated_ram_bytes]
    chosen = next_smaller(hardware, load_catalog(answers.catalog), recipe.model, than=pick.entry,
                          tried=too_big, measured_ratio=max(ratios, default=None))
    if chosen is None:
        return None
    entry = chosen.entry
    record = _installed(registry, repo=entry.repo, file=entry.file, sha256=entry.sha256)
    reason = (f"{pick.name} was Hearth's first choice but proved too big for this computer when it was run "
              f"({result.attempts[-1].problem}); this is the best smaller model in Hearth's list: it "
              f"{chosen.verdict} ({chosen.speed}). {chosen.reason}")
    return ModelPick(entry.name, chosen.plan, reason.strip(), "installed" if record else "download",
                     record.file_in(registry.models_dir) if record else None, entry=entry, record=record,
                     size_bytes=entry.size_bytes)


def _local_api_line(answers: Answers) -> str:
    from wizard.settings import load_settings

    if not answers.local_api:
        return "Local API for other apps: off (Hearth's settings are left as they are)"
    settings = load_settings().settings
    state = "already on" if settings.local_api else "to be turned on"
    return f"Local API for other apps: on: {state} in Hearth's settings, at {settings.local_api_address}"


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for name in PROFILE_FILES:
        try:
            out[name] = (folder / name).read_bytes()
        except OSError:
            out[name] = None
    return out


def _same_as_before(plan, answers: Answers) -> bool:
    """For a dry run: the recipe is applied unchanged and these answers set it up before."""
    if not plan.unchanged:
        return False
    setup = read_setup(plan.profile_dir) or {}
    before = setup.get("provisioned_from") or {}
    return (before.get("model") == answers.model and setup.get("local_api") == answers.local_api
            and setup.get("person_name") == answers.person_name
            and local_api_change(answers, setup.get("local_api") is True) is None)


def hardware_facts(hardware) -> dict:
    """What the report says about the computer: only facts that stay the same from run to run."""
    cpu, memory = hardware.cpu, hardware.memory
    return {"os": " ".join(p for p in (hardware.os.name, hardware.os.version) if p),
            "cpu": cpu.model_name or "", "architecture": cpu.architecture or "",
            "physical_cores": cpu.physical_cores, "logical_cores": cpu.logical_cores,
            "memory_total_bytes": memory.total_bytes,
            "gpus": [{"name": g.name, "vendor": g.vendor, "total_bytes": g.total_bytes,
                      "unified_memory": g.unified_memory} for g in hardware.gpus],
            "gpu_offload": bool(hardware.gpu_offload.supported)}
