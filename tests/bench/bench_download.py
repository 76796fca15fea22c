"""Benchmark: Hearth's download vs curl from the same local mirror, and bytes lost to a kill.

Run from the repository root:  .venv/bin/python tests/bench/bench_download.py [rounds]

1. Throughput: the real tiny model (98 MB) from tests/support/hub_mirror.py (a Python
   server on 127.0.0.1), fetched alternately by ``curl -o FILE`` and by Hearth in its own
   process (``download_from_hub``: metadata requests + transfer + sha256 + fsync +
   atomic move). Goal: Hearth >= 0.9x curl. Both clients are separate processes, so
   neither competes with the server for the GIL. The server itself is Python; if both
   clients are close to each other, the server is the bottleneck and is said so.
2. Kill: ``hearth download`` killed with SIGKILL at several points, then run again; the
   bytes fetched twice are reported. Goal: <= one 16 MiB checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from tests.support import tiny_model as tiny  # noqa: E402
from tests.support.hub_mirror import HubMirror  # noqa: E402

REPO, FILE = "bench/tiny-GGUF", "tiny.Q4_1.gguf"
MB = 1024 * 1024
CURL = shutil.which("curl") or "/usr/bin/curl"

DRIVER = """
import sys, time
from pathlib import Path
from wizard.download import download_from_hub
started = time.perf_counter()
result = download_from_hub(sys.argv[1], sys.argv[2], endpoint=sys.argv[3], models_dir=Path(sys.argv[4]))
print(time.perf_counter() - started, result.bytes_fetched, result.digest)
"""


def hearth_once(mirror: HubMirror, scratch: Path) -> tuple[float, float]:
    """(seconds inside download_from_hub, seconds for the whole process)."""
    models = scratch / "models"
    shutil.rmtree(models, ignore_errors=True)
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", DRIVER, REPO, FILE, mirror.url, str(models)],
                         cwd=REPO_ROOT, capture_output=True, text=True, check=True,
                         env=dict(os.environ, HEARTH_HOME=str(scratch / "home")))
    wall = time.perf_counter() - began
    inner, fetched, digest = out.stdout.split()
    assert int(fetched) == tiny.SIZE and digest == tiny.SHA256, out.stdout
    return float(inner), wall


def curl_once(mirror: HubMirror, scratch: Path) -> tuple[float, float]:
    """(curl's own time_total, seconds for the whole process)."""
    target = scratch / "curl.out"
    target.unlink(missing_ok=True)
    began = time.perf_counter()
    out = subprocess.run([CURL, "-sS", "-o", str(target), "-w", "%{time_total}",
                          mirror.url_of(REPO, FILE)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - began
    assert target.stat().st_size == tiny.SIZE
    return float(out.stdout), wall


def curl_verified_once(mirror: HubMirror, scratch: Path) -> float:
    """Seconds for curl + sha256sum + sync of the file: the same work Hearth does."""
    target = scratch / "curl.out"
    target.unlink(missing_ok=True)
    began = time.perf_counter()
    script = f'"{CURL}" -sS -o "{target}" "{mirror.url_of(REPO, FILE)}" && sha256sum "{target}" && sync "{target}"'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - began
    assert out.stdout.split()[0] == tiny.SHA256
    return seconds


def throughput(mirror: HubMirror, scratch: Path, rounds: int) -> None:
    print(f"== throughput: {tiny.SIZE / 1e6:.1f} MB file, {rounds} rounds each, alternating; "
          f"curl = {CURL}")
    hearth_inner, hearth_wall, curl_inner, curl_wall, verified = [], [], [], [], []
    curl_once(mirror, scratch)  # warm the page cache for both
    for _ in range(rounds):
        verified.append(curl_verified_once(mirror, scratch))
        inner, wall = curl_once(mirror, scratch)
        curl_inner.append(inner)
        curl_wall.append(wall)
        inner, wall = hearth_once(mirror, scratch)
        hearth_inner.append(inner)
        hearth_wall.append(wall)

    def rate(seconds: list[float]) -> float:
        return tiny.SIZE / statistics.median(seconds) / 1e6

    print(f"{'':28}{'curl':>12}{'hearth':>12}{'ratio':>8}")
    for label, c, h in (("transfer (median MB/s)", curl_inner, hearth_inner),
                        ("whole process (median MB/s)", curl_wall, hearth_wall)):
        print(f"{label:28}{rate(c):12.1f}{rate(h):12.1f}{rate(h) / rate(c):8.2f}x")
    print(f"{'curl+sha256sum+sync vs whole':28}{rate(verified):12.1f}{rate(hearth_wall):12.1f}"
          f"{rate(hearth_wall) / rate(verified):8.2f}x")
    print("  curl rounds MB/s:  ", " ".join(f"{tiny.SIZE / s / 1e6:.0f}" for s in curl_inner))
    print("  hearth rounds MB/s:", " ".join(f"{tiny.SIZE / s / 1e6:.0f}" for s in hearth_inner))
    print("  (Hearth's transfer time includes 2 metadata requests, sha256, fsyncs and the move;"
          " its whole-process time includes starting Python and importing huggingface_hub.)")


def throttled_link(mirror: HubMirror, scratch: Path, rate_mb: int) -> None:
    """Both clients on a link of ``rate_mb`` MiB/s (a fast home connection), one round each."""
    mirror.trouble.bytes_per_second = rate_mb * MB
    try:
        curl_s, _ = curl_once(mirror, scratch)
        hearth_s, _ = hearth_once(mirror, scratch)
    finally:
        mirror.trouble.bytes_per_second = None
    print(f"link limited to {rate_mb} MiB/s: curl {tiny.SIZE / curl_s / 1e6:.1f} MB/s, "
          f"hearth {tiny.SIZE / hearth_s / 1e6:.1f} MB/s, ratio {curl_s / hearth_s:.2f}x")


def kill_once(mirror: HubMirror, scratch: Path, kill_at: int) -> tuple[int, int, int]:
    """(bytes re-fetched, checkpoint at the kill, bytes on disk at the kill)."""
    models = scratch / "models"
    shutil.rmtree(models, ignore_errors=True)
    cmd = [sys.executable, "-m", "app", "download", REPO, FILE, "--endpoint", mirror.url,
           "--dest", str(models)]
    env = dict(os.environ, HEARTH_HOME=str(scratch / "home"))
    part = models / "partial" / "bench--tiny-GGUF" / (FILE + ".part")
    mirror.reset_counters()
    mirror.trouble.bytes_per_second = 40 * MB
    process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    while not (part.exists() and part.stat().st_size >= kill_at):
        if process.poll() is not None:
            raise RuntimeError("the download ended before the kill")
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    on_disk = part.stat().st_size
    checkpoint = json.loads(part.with_name(part.name + ".json").read_text())["checkpoint_bytes"]
    first = mirror.bytes_served
    mirror.trouble.bytes_per_second = None
    subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    assert tiny.sha256_of(models / "bench--tiny-GGUF" / FILE) == tiny.SHA256
    return first + (mirror.bytes_served - first) - tiny.SIZE, checkpoint, on_disk


def kill_and_resume(mirror: HubMirror, scratch: Path) -> None:
    print("\n== SIGKILL mid-download, then run again (goal: re-fetched <= 16 MiB)")
    print(f"{'killed at':>12}{'on disk':>12}{'checkpoint':>12}{'re-fetched':>14}")
    worst = 0
    for kill_at in (10 * MB, 31 * MB, 47 * MB, 70 * MB, 90 * MB):
        refetched, checkpoint, on_disk = kill_once(mirror, scratch, kill_at)
        worst = max(worst, refetched)
        print(f"{kill_at / MB:10.1f}Mi{on_disk / MB:10.1f}Mi{checkpoint / MB:10.1f}Mi"
              f"{refetched / MB:12.2f}Mi")
    print(f"worst re-fetched: {worst / MB:.2f} MiB (goal <= 16 MiB; includes bytes the server had "
          "already pushed into socket buffers when the process died)")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    model = tiny.ensure_tiny_model()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder, HubMirror() as mirror:
        scratch = Path(folder)
        mirror.add_repo(REPO, {FILE: model})
        throughput(mirror, scratch, rounds)
        throttled_link(mirror, scratch, 50)
        kill_and_resume(mirror, scratch)


if __name__ == "__main__":
    main()
