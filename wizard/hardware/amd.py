"""Linux graphics cards from sysfs: /sys/class/drm/card*/device/{vendor,device,mem_info_vram_*}.

The amdgpu driver publishes its memory in plain files (``mem_info_vram_total``,
``mem_info_vram_used``, in bytes), so AMD cards need no vendor tool. Intel and NVIDIA
cards appear here too, without memory figures (their drivers do not publish them); the
probe uses them to say "an NVIDIA card is present but its driver did not answer".
"""

from __future__ import annotations

from pathlib import Path

from wizard.hardware.model import GpuInfo

DRM_ROOT = Path("/sys/class/drm")
PCI_IDS_FILES = (Path("/usr/share/hwdata/pci.ids"), Path("/usr/share/misc/pci.ids"),
                 Path("/usr/share/pci.ids"))
VENDORS = {"0x1002": "amd", "0x8086": "intel", "0x10de": "nvidia"}
VENDOR_NAMES = {"amd": "AMD", "intel": "Intel", "nvidia": "NVIDIA"}
# AMD APUs reserve a small slice of RAM ("UMA frame buffer", 512 MiB–2 GiB by default) and
# report it as VRAM; discrete Radeon cards start at 4 GiB.
INTEGRATED_VRAM_BELOW = 2 * 1024**3 + 1


def gpus_from_sysfs(drm_root: Path = DRM_ROOT, *, pci_ids: str | None = None) -> list[GpuInfo]:
    """One ``GpuInfo`` per PCI display device under ``drm_root`` (card0, card1 …).

    ``pci_ids`` is the text of a pci.ids database used for names when the driver does not
    publish ``product_name``; ``None`` reads the system's copy only if a name is needed.
    Unreadable or odd entries are skipped. Raises OSError only if ``drm_root`` itself
    cannot be listed.
    """
    gpus = []
    seen: set[Path] = set()
    for card in sorted(drm_root.iterdir(), key=lambda p: (len(p.name), p.name)):
        if not card.name.startswith("card") or not card.name[4:].isdigit():
            continue  # card0-DP-1 and friends are connectors, renderD128 a second node
        device = card / "device"
        vendor = VENDORS.get(_read(device / "vendor").lower())
        if vendor is None:
            continue
        try:
            real = device.resolve()
        except OSError:
            real = device
        if real in seen:
            continue
        seen.add(real)

        device_id = _read(device / "device").lower()
        name = _read(device / "product_name")
        if not name:
            if pci_ids is None:
                pci_ids = _system_pci_ids()
            name = pci_device_name(pci_ids, _read(device / "vendor"), device_id) or ""
        name = name or f"{VENDOR_NAMES[vendor]} graphics (device {device_id or 'unknown'})"

        total = _read_int(device / "mem_info_vram_total")
        used = _read_int(device / "mem_info_vram_used")
        free = total - used if total is not None and used is not None else None
        driver_link = device / "driver"
        driver = driver_link.resolve().name if driver_link.exists() else None
        integrated = vendor == "intel" or (
            vendor == "amd" and total is not None and total < INTEGRATED_VRAM_BELOW)
        gpus.append(GpuInfo(
            vendor=vendor, name=name, total_bytes=total, free_bytes=free, driver=driver,
            unified_memory=integrated, source="sysfs",
        ))
    return gpus


def pci_device_name(pci_ids: str, vendor: str, device: str) -> str | None:
    """The device's name in pci.ids text (``1002`` / ``744c`` → "Navi 31 [Radeon RX 7900 …]")."""
    vendor = vendor.lower().removeprefix("0x")
    device = device.lower().removeprefix("0x")
    if not vendor or not device:
        return None
    start = pci_ids.find(f"\n{vendor}  ")
    if start < 0:
        return None
    for line in pci_ids[start + 1:].splitlines()[1:]:
        if not line.startswith("\t"):
            return None  # the next vendor: device not listed
        if line.startswith(f"\t{device}  "):
            return line.split("  ", 1)[1].strip()
    return None


def _system_pci_ids() -> str:
    for path in PCI_IDS_FILES:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return ""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _read_int(path: Path) -> int | None:
    text = _read(path)
    return int(text) if text.isdigit() else None
