"""Choosing and installing the model an answer file asks for: a file, a model pack, or a download.

:func:`choose_model` decides (reading only: the pack's files are sized where they are,
downloads are sized from the catalog); :func:`install_model` makes it so and returns the
installed file. Both say what they do through ``step``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from wizard.catalog import Catalog, CatalogEntry, load_catalog
from wizard.engine.modelfile import validate_model_file
from wizard.fit import FitPlan, plan_load
from wizard.hardware import HardwareProfile
from wizard.models import ModelRegistry
from wizard.models.records import InstalledModel
from wizard.provision.answers import AUTO, Answers
from wizard.provision.errors import ProvisionError
from wizard.recipes.schema import ModelNeeds
from wizard.recommend import judge, offload_card, ram_budget, recommend
from wizard.settings import download_endpoint

Step = Callable[[str], None]


@dataclass(frozen=True)
class ModelPick:
    """The model chosen, why, and how it gets onto this computer."""

    name: str
    plan: FitPlan | None  # None for a model kept from an earlier run (its measured plan is kept too)
    reason: str  # why this model, in plain words
    how: str  # "file", "pack", "download" or "installed"
    path: Path | None  # where it is (None until downloaded)
    entry: CatalogEntry | None = None
    pack_file: Path | None = None  # the file inside the pack
    record: InstalledModel | None = None  # its installed-models record, once known
    size_bytes: int | None = None

    @property
    def repo(self) -> str | None:
        return self.entry.repo if self.entry else (self.record.source.repo if self.record else None)

    @property
    def file(self) -> str | None:
        return self.entry.file if self.entry else (self.record.source.filename if self.record else None)


def plan_file(path: Path, hardware: HardwareProfile, needs: ModelNeeds) -> tuple[str, FitPlan]:
    """Check a model file and plan it for this computer; returns (its name, the plan).

    Raises:
        ModelFileError, ModelShapeError: not a sound GGUF chat model.
        ProvisionError: it does not fit in this computer's memory.
    """
    header = validate_model_file(path)
    card = offload_card(hardware)
    gpu_free = 0
    if card is not None and not card.unified_memory:
        gpu_free = card.free_bytes if card.free_bytes is not None else card.total_bytes or 0
    plan = plan_load(header, ram_available_bytes=ram_budget(hardware), min_ctx=needs.min_context,
                     wanted_ctx=max(8192, needs.min_context), gpu_free_bytes=gpu_free,
                     physical_cores=hardware.cpu.performance_cores or hardware.cpu.physical_cores)
    if not plan.fits:
        raise ProvisionError(f"The model {path.name} will not run on this computer: {plan.reason}",
                             details=f"{path}: verdict {plan.verdict}")
    return str(header.metadata.get("general.name") or path.stem), plan


def choose_model(answers: Answers, hardware: HardwareProfile, needs: ModelNeeds, *,
                 registry: ModelRegistry) -> ModelPick:
    """Decide which model to use and how to get it; nothing is written.

    Raises:
        ProvisionError: the model is unknown, unsuitable, or none fits this computer.
        PackManifestError, PackFileMissingError: the model pack is unusable.
        ModelFileError, ModelShapeError: a model file is damaged or not a chat model.
        CatalogError, HearthFileError: the list of models cannot be read.
    """
    if answers.model_file is not None:
        return _from_file(answers.model_file, hardware, needs, registry)
    if answers.model_pack is not None:
        return _from_pack(answers, hardware, needs, registry)
    return _from_catalog(answers, hardware, needs, registry)


def _installed(registry: ModelRegistry, *, path: Path | None = None, repo: str | None = None,
               file: str | None = None, sha256: str | None = None) -> InstalledModel | None:
    for model in registry.list():
        where = model.file_in(registry.models_dir)
        if not where.is_file() or where.stat().st_size != model.size:
            continue
        if path is not None and where.resolve() == path.resolve():
            return model
        if sha256 and model.sha256 == sha256.lower():
            return model
        if repo and file and model.source.repo == repo and model.source.filename == file and not sha256:
            return model
    return None


def _from_file(path: Path, hardware: HardwareProfile, needs: ModelNeeds, registry: ModelRegistry) -> ModelPick:
    name, plan = plan_file(path, hardware, needs)
    record = _installed(registry, path=path)
    return ModelPick(name, plan, "the answer file names this model file", "file", path, record=record,
                     size_bytes=path.stat().st_size)


def _from_pack(answers: Answers, hardware: HardwareProfile, needs: ModelNeeds,
               registry: ModelRegistry) -> ModelPick:
    from wizard.packs import read_manifest

    manifest = read_manifest(answers.model_pack)
    files = [e for e in manifest.files if e.path.lower().endswith(".gguf")]
    if not files:
        raise ProvisionError("The model pack has no AI model in it.", details=str(answers.model_pack))
    entry = None
    if answers.model != AUTO:
        entry = _catalog_entry(answers, load_catalog(answers.catalog))
        files = [f for f in files if f.source and (f.source.repo, f.source.file) == (entry.repo, entry.file)
                 or Path(f.path).name == entry.file]
        if not files:
            raise ProvisionError(f"The model pack does not hold the model \"{answers.model}\".",
                                 hint="Use a pack made with this model, or write model = \"auto\".",
                                 details=str(answers.model_pack))
    problems = []
    for candidate in files:
        try:
            name, plan = plan_file(candidate.location, hardware, needs)
        except ProvisionError as exc:
            problems.append(exc.user_message)
            continue
        reason = ("the answer file names this model" if entry else
                  "the first model in the model pack that fits this computer")
        record = _installed(registry, sha256=candidate.sha256)
        return ModelPick(name if entry is None else entry.name, plan, reason, "installed" if record else "pack",
                         record.file_in(registry.models_dir) if record else None, entry=entry,
                         pack_file=candidate.location, record=record, size_bytes=candidate.size)
    raise ProvisionError("No model in the model pack fits this computer.", details="\n".join(problems))


def _catalog_entry(answers: Answers, catalog: Catalog) -> CatalogEntry:
    entry = next((e for e in catalog.entries if e.id == answers.model), None)
    if entry is None:
        known = ", ".join(e.id for e in catalog.entries)
        raise ProvisionError(f"Hearth's list of models has no model called \"{answers.model}\".",
                             hint=f"Write model = \"auto\" or one of: {known}.")
    return entry


def _from_catalog(answers: Answers, hardware: HardwareProfile, needs: ModelNeeds,
                  registry: ModelRegistry) -> ModelPick:
    catalog = load_catalog(answers.catalog)
    if answers.model == AUTO:
        result = recommend(hardware, catalog, needs)
        if result.best is None:
            raise ProvisionError("No model in Hearth's list fits both this computer and this assistant.",
                                 hint="Use a smaller recipe, a computer with more memory, or name a model "
                                      "file in the answer file.")
        chosen = result.best
        reason = (f"the best model in Hearth's list for this computer and this assistant: it "
                  f"{chosen.verdict} ({chosen.speed}, about {chosen.tokens_per_second:.0f} words a second "
                  f"expected). {chosen.reason}")
    else:
        entry = _catalog_entry(answers, catalog)
        if not needs.accepts(entry):
            raise ProvisionError(f"The model \"{entry.id}\" does not meet what this assistant needs.",
                                 hint="Write model = \"auto\" to let Hearth choose.")
        chosen = judge(entry, hardware, needs)
        if chosen is None or not chosen.fits:
            raise ProvisionError(f"The model \"{entry.id}\" will not run on this computer.",
                                 details=chosen.reason if chosen else "its size is not known")
        reason = f"the answer file names it; it {chosen.verdict} ({chosen.speed}). {chosen.reason}"
    entry = chosen.entry
    record = _installed(registry, repo=entry.repo, file=entry.file, sha256=entry.sha256)
    return ModelPick(entry.name, chosen.plan, reason.strip(), "installed" if record else "download",
                     record.file_in(registry.models_dir) if record else None, entry=entry, record=record,
                     size_bytes=entry.size_bytes)


def describe(pick: ModelPick, answers: Answers) -> str:
    """What getting the model involves, in one line."""
    size = f" ({pick.size_bytes / 1e6:,.1f} MB)" if pick.size_bytes else ""
    if pick.how == "installed":
        return f"Model: {pick.name}, already installed at {pick.path}"
    if pick.how == "file":
        return f"Model: {pick.name}, the file {pick.path}{size}"
    if pick.how == "pack":
        return f"Model: {pick.name}, to be copied and checked from the model pack {answers.model_pack}{size}"
    mirror = download_endpoint(answers.mirror)
    where = f"the mirror {mirror}" if mirror else "Hugging Face"
    return f"Model: {pick.name}, to be downloaded from {where}: {pick.entry.repo}/{pick.entry.file}{size}"


def install_model(pick: ModelPick, answers: Answers, *, registry: ModelRegistry, step: Step,
                  cancel=None) -> ModelPick:
    """Get the model onto this computer and into the installed-models list; return the pick with its path.

    Raises: what :func:`wizard.packs.import_pack`, :func:`wizard.download.download_from_hub` and
    :func:`wizard.models.register_file` raise; ProvisionError when a download does not match the
    catalog's checksum.
    """
    from wizard.models import register_download, register_file
    from wizard.models.records import ModelSource

    if pick.how == "installed":
        step(f"The model {pick.name} is already installed and checked: {pick.path}")
        return pick
    if pick.how == "file":
        if pick.record is None:
            record = register_file(pick.path, source=ModelSource(kind="manual"), registry=registry)
            step(f"Added the model file {pick.path} to Hearth's installed models")
            return replace(pick, record=record)
        return pick
    if pick.how == "pack":
        from wizard.packs import import_pack

        step(f"Copying the model pack from {answers.model_pack} and checking every file…")
        result = import_pack(answers.model_pack, registry=registry, cancel=cancel)
        record = next(m for m in result.installed
                      if m.sha256 == _sha_of_pack_file(answers.model_pack, pick.pack_file))
        step(f"Installed {record.id} from the model pack (sha256 verified)")
        return replace(pick, record=record, path=record.file_in(registry.models_dir))
    from wizard.download import download_from_hub
    from wizard.secrets import hub_token

    entry = pick.entry
    mirror = download_endpoint(answers.mirror)  # the answer file's, else the one in Settings
    step(f"Downloading {entry.repo}/{entry.file} from {mirror or 'Hugging Face'}…")
    result = download_from_hub(entry.repo, entry.file, revision=entry.revision or "main", endpoint=mirror,
                               token=hub_token(), models_dir=registry.models_dir, cancel=cancel)
    if entry.sha256 and result.digest.lower() != entry.sha256.lower():
        result.path.unlink(missing_ok=True)
        raise ProvisionError(f"The downloaded model {entry.file} is not the file Hearth's list describes.",
                             hint="The mirror may hold another version; ask its owner, or use a model pack.",
                             details=f"expected sha256 {entry.sha256}, got {result.digest}")
    record = register_download(result, revision=entry.revision or "main", endpoint=mirror,
                               registry=registry)
    step(f"Downloaded and verified {entry.file} ({result.size / 1e6:,.1f} MB)")
    return replace(pick, record=record, path=result.path)


def _sha_of_pack_file(pack: Path, location: Path) -> str:
    from wizard.packs import read_manifest

    return next(e.sha256 for e in read_manifest(pack).files if e.location == location)
