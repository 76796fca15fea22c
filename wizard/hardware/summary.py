"""The wizard's "Your computer" card: a ``HardwareProfile`` in words anyone can read.

This is a first impression, not the recommendation: the model list is ranked later from
each model's real memory needs. Here the numbers are rounded the way people know them
from the box ("16 GB"), and the meaning is a rough size class.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.hardware.model import GpuInfo, HardwareProfile

GIB = 1024**3
# Share of RAM a model can have on a computer that also runs a browser and mail.
RAM_SHARE_FOR_MODELS = 0.6
LOW_DISK_BYTES = 5 * GIB
# (usable memory below, what fits) — a 4-bit model needs roughly 0.6 GB per billion
# parameters plus its working memory.
SIZE_CLASSES = (
    (3 * GIB, "the smallest AI models (about 1 billion parameters): quick answers to "
              "simple questions"),
    (6 * GIB, "small AI models (up to about 3–4 billion parameters): good for everyday "
              "questions, summaries and drafts"),
    (12 * GIB, "medium AI models (up to about 7–8 billion parameters): capable everyday "
               "assistants"),
    (24 * GIB, "larger AI models (up to about 12–14 billion parameters)"),
)
LARGEST_CLASS = "large AI models (about 30 billion parameters and more)"


@dataclass(frozen=True)
class ComputerSummary:
    headline: str  # "16 GB memory, graphics card with 8 GB, 120 GB free"
    meaning: str  # what that means for choosing a model
    details: tuple[str, ...] = ()  # battery, low disk, what could not be checked


def gigabytes(size: int) -> str:
    """Bytes as people say them: "16 GB", "0.5 GB", "120 GB" (binary units, as on the box)."""
    value = size / GIB
    if value >= 9.5 or abs(value - round(value)) < 0.05:
        return f"{round(value)} GB"
    return f"{value:.1f} GB"


def usable_model_memory(profile: HardwareProfile) -> int | None:
    """Roughly how much memory a model may use here, in bytes (``None`` if unknown)."""
    ram = profile.memory.total_bytes
    from_ram = int(ram * RAM_SHARE_FOR_MODELS) if ram else None
    apple = _apple_gpu(profile)
    if apple is not None and apple.total_bytes:
        return apple.total_bytes
    card = _best_card(profile)
    if card is not None and card.total_bytes and profile.gpu_offload.supported:
        return max(card.total_bytes, from_ram or 0)
    return from_ram


def summarize(profile: HardwareProfile) -> ComputerSummary:
    """Headline, meaning and details for the "Your computer" card."""
    parts = []
    if profile.memory.total_bytes:
        parts.append(f"{gigabytes(profile.memory.total_bytes)} memory")
    parts.append(_graphics_phrase(profile))
    if profile.disk.free_bytes is not None:
        parts.append(f"{gigabytes(profile.disk.free_bytes)} free")
    headline = ", ".join(parts)

    usable = usable_model_memory(profile)
    if usable is None:
        meaning = ("Hearth could not measure this computer's memory, so it will start "
                   "with a small AI model to be safe.")
    else:
        size_class = next((text for limit, text in SIZE_CLASSES if usable < limit),
                          LARGEST_CLASS)
        meaning = f"This computer can run {size_class}. {_speed_sentence(profile)}"

    details = []
    if profile.power.on_battery:
        details.append("You are on battery. AI models use a lot of power: plug in for long "
                       "conversations.")
    if profile.disk.free_bytes is not None and profile.disk.free_bytes < LOW_DISK_BYTES:
        details.append("The disk is almost full. AI models take 1–10 GB each: make some room "
                       "before downloading one.")
    if profile.unknowns:
        details.append("A few things could not be checked; Hearth will choose carefully.")
    return ComputerSummary(headline=headline, meaning=meaning, details=tuple(details))


def _graphics_phrase(profile: HardwareProfile) -> str:
    apple = _apple_gpu(profile)
    if apple is not None:
        return "Apple chip (graphics share the memory)"
    card = _best_card(profile)
    if card is None:
        if any(gpu.unified_memory for gpu in profile.gpus):
            return "built-in graphics only"
        return "no graphics card"
    size = f" with {gigabytes(card.total_bytes)}" if card.total_bytes else ""
    phrase = f"graphics card{size}"
    if profile.gpu_offload.supported is False:
        phrase += " (not used by this version of Hearth)"
    return phrase


def _speed_sentence(profile: HardwareProfile) -> str:
    if _apple_gpu(profile) is not None:
        return "Apple's chips run AI models well, so answers come quickly."
    card = _best_card(profile)
    if card is not None and profile.gpu_offload.supported:
        return "The graphics card makes answers come quickly."
    return ("Hearth will use the processor: small models answer at reading speed, bigger "
            "ones more slowly.")


def _apple_gpu(profile: HardwareProfile) -> GpuInfo | None:
    return next((gpu for gpu in profile.gpus if gpu.vendor == "apple"), None)


def _best_card(profile: HardwareProfile) -> GpuInfo | None:
    """The dedicated graphics card with the most memory (built-in graphics do not count)."""
    cards = [gpu for gpu in profile.gpus if not gpu.unified_memory]
    return max(cards, key=lambda gpu: gpu.total_bytes or 0, default=None)
