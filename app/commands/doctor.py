"""``hearth doctor [--json]``: what Hearth sees of this computer, for a consultant.

Plain text by default; ``--json`` prints one JSON object with stable keys (sizes in
bytes as integers) for scripts and handover reports. Always exits 0: a part that could
not be checked is listed under "Could not check" (``unknowns`` in JSON), never an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="show what Hearth sees of this computer",
        description="Show this computer's memory, processor, graphics cards, free disk space "
        "and battery as Hearth sees them, and what that means for running AI models.")
    parser.add_argument("--json", action="store_true",
                        help="print JSON (sizes in bytes) instead of text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from wizard import __version__
    from wizard.hardware import probe_hardware
    from wizard.hardware.summary import summarize

    profile = probe_hardware()
    summary = summarize(profile)
    if args.json:
        data: dict[str, Any] = {"hearth_version": __version__, **profile.to_dict()}
        data["summary"] = {"headline": summary.headline, "meaning": summary.meaning,
                           "details": list(summary.details)}
        json.dump(data, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_text(profile, summary))
    return 0


def format_text(profile: Any, summary: Any) -> str:
    """The plain-text report (``profile``: HardwareProfile, ``summary``: ComputerSummary)."""
    from wizard.hardware.summary import gigabytes

    def size(value: int | None) -> str:
        return gigabytes(value) if value is not None else "unknown"

    cpu, memory, disk, power = profile.cpu, profile.memory, profile.disk, profile.power
    lines = ["Your computer", f"  {summary.headline}", f"  {summary.meaning}"]
    lines += [f"  {detail}" for detail in summary.details]
    lines += ["", "Details"]

    system = " ".join(part for part in (profile.os.name, profile.os.version) if part)
    if profile.os.kernel:
        system += f" (kernel {profile.os.kernel})"
    lines.append(f"  System:        {system or 'unknown'}")

    cores = []
    if cpu.physical_cores:
        cores.append(f"{cpu.physical_cores} cores")
    if cpu.performance_cores:
        cores.append(f"{cpu.performance_cores} of them performance cores")
    if cpu.logical_cores:
        cores.append(f"{cpu.logical_cores} threads")
    processor = cpu.model_name or "unknown"
    if cores:
        processor += " — " + ", ".join(cores)
    if cpu.architecture:
        processor += f" ({cpu.architecture})"
    lines.append(f"  Processor:     {processor}")
    lines.append(f"  Instructions:  {', '.join(cpu.simd) or 'none reported'}")

    swap = ("none" if memory.swap_total_bytes == 0 else
            f"{size(memory.swap_free_bytes)} free of {size(memory.swap_total_bytes)}")
    lines.append(f"  Memory:        {size(memory.total_bytes)} total, "
                 f"{size(memory.available_bytes)} available; swap: {swap}")

    if not profile.gpus:
        lines.append("  Graphics:      none found")
    else:
        lines.append("  Graphics:")
        for gpu in profile.gpus:
            facts = []
            if gpu.total_bytes is not None:
                facts.append(f"{size(gpu.total_bytes)}"
                             + (" usable (shared with memory)" if gpu.vendor == "apple" else ""))
            if gpu.free_bytes is not None:
                facts.append(f"{size(gpu.free_bytes)} free")
            if gpu.driver:
                facts.append(f"driver {gpu.driver}")
            if gpu.unified_memory and gpu.vendor != "apple":
                facts.append("built-in")
            details = ", ".join(facts) or "memory unknown"
            lines.append(f"    - {gpu.name}: {details} [{gpu.source}]")

    offload = profile.gpu_offload
    answer = {True: "yes", False: "no", None: "unknown"}[offload.supported]
    how = offload.how + (f"; backends: {', '.join(offload.backends)}" if offload.backends else "")
    lines.append(f"  GPU offload:   {answer} ({how})" if how else f"  GPU offload:   {answer}")

    lines.append(f"  Models folder: {disk.models_dir or 'unknown'} — {size(disk.free_bytes)} "
                 f"free of {size(disk.total_bytes)}")
    if power.has_battery is False:
        battery = "no battery"
    elif power.has_battery:
        state = {True: "on battery", False: "plugged in", None: "charging state unknown"}
        percent = f", {power.battery_percent:g}%" if power.battery_percent is not None else ""
        battery = state[power.on_battery] + percent
    else:
        battery = "unknown"
    lines.append(f"  Power:         {battery}")

    if profile.unknowns:
        lines += ["", "Could not check"]
        lines += [f"  - {note.what}: {note.reason}" for note in profile.unknowns]
    lines += ["", f"Checked in {profile.probe_seconds * 1000:.0f} ms.", ""]
    return "\n".join(lines)
