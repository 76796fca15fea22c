"""Benchmark: Hearth's download vs curl from the same local mirror, and bytes lost to a kill.

Run from the repository root:
    .venv/bin/python tests/bench/bench_download.py [rounds] [--big-mb 400] [--link-rounds 3]

1. Throughput: the real tiny model (98 MB) from tests/support/hub_mirror.py (a Python
   server on 127.0.0.1), fetched alternately by ``curl -o FILE`` and by Hearth in its own
   process (``download_from_hub``: metadata requests + transfer + sha256 + fsync +
   atomic move). Goal: Hearth >= 0.9x curl. Both clients are separate processes, so
   neither competes with the server for the GIL. The server itself is Python; if both
   clients are close to each other, the server is the bottleneck and is said so.
   Hearth's HTTP client (made once per process, ~35 ms) is made before its clock starts,
   as curl's own start is outside curl's ``time_total``.
   Each round is a curl run and a Hearth run back to back, with the CPU other processes
   used meanwhile; the verdict is the median of the per-round ratios ("paired") over the
   quiet rounds (others < 0.3 cores), or over all rounds if none was quiet.
   Then the same on links limited to 50, 100 and 200 MiB/s (the mirror's own pacing),
   with the tiny model and with a generated incompressible ``--big-mb`` file (models are
   GBs: a download's fixed costs — two metadata requests, the last fsync and the move —
   weigh less on it).
2. Kill: ``hearth download`` killed with SIGKILL at several points, then run again; the
   bytes fetched twice (the server's count) are reported. Goal: <= one 16 MiB chunk.

Both end with a ``verdict`` line: the measured figure, the goal, met or NOT met.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from tests.bench.machine_noise import OtherWork  # noqa: E402
from tests.support import tiny_model as tiny  # noqa: E402
from tests.support.hub_mirror import HubMirror  # noqa: E402

REPO, FILE = "bench/tiny-GGUF", "tiny.Q4_1.gguf"
MB = 1024 * 1024
THROUGHPUT_GOAL = 0.9  # Hearth / curl
REFETCH_GOAL = 16 * MB  # one chunk
LINK_RATES = (50, 100, 200)  # MiB/s: fast home, office, very fast office connections
CURL = shutil.which("curl") or "/usr/bin/curl"
QUIET_CORES = 0.3  # as bench_engine.py: a round during which other processes used less is "quiet"



@dataclass(frozen=True)
class Served:
    """One file on the mirror, and what a correct download of it is."""

    repo: str
    file: str
    size: int
    sha256: str

    def url(self, mirror: HubMirror) -> str:
        return mirror.url_of(self.repo, self.file)


TINY = Served(REPO, FILE, tiny.SIZE, tiny.SHA256)

DRIVER = """
import sys, time
from pathlib import Path
from huggingface_hub import get_session
from wizard.download import download_from_hub
get_session()  # the HTTP client, made once per process (~35 ms): not a download's cost, as curl's start is not
started = time.perf_counter()
result = download_from_hub(sys.argv[1], sys.argv[2], endpoint=sys.argv[3], models_dir=Path(sys.argv[4]))
print(time.perf_counter() - started, result.bytes_fetched, result.digest)
"""


def hearth_once(mirror: HubMirror, scratch: Path, served: Served = TINY) -> tuple[float, float]:
    """(seconds inside download_from_hub, seconds for the whole process)."""
    models = scratch / "models"
    shutil.rmtree(models, ignore_errors=True)
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", DRIVER, served.repo, served.file, mirror.url, str(models)],
                         cwd=REPO_ROOT, capture_output=True, text=True, check=True,
                         env=dict(os.environ, HEARTH_HOME=str(scratch / "home")))
    wall = time.perf_counter() - began
    inner, fetched, digest = out.stdout.split()
    assert int(fetched) == served.size and digest == served.sha256, out.stdout
    shutil.rmtree(models, ignore_errors=True)
    return float(inner), wall


def curl_once(mirror: HubMirror, scratch: Path, served: Served = TINY) -> tuple[float, float]:
    """(curl's own time_total, seconds for the whole process)."""
    target = scratch / "curl.out"
    target.unlink(missing_ok=True)
    began = time.perf_counter()
    out = subprocess.run([CURL, "-sS", "-o", str(target), "-w", "%{time_total}",
                          served.url(mirror)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - began
    assert target.stat().st_size == served.size
    target.unlink()
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


def verdict(what: str, ratios: list[float], others: list[float]) -> str:
    """The verdict line: the median Hearth / curl ratio over the quiet rounds, or over all if none was."""
    quiet = [ratio for ratio, cores in zip(ratios, others) if cores < QUIET_CORES]
    paired = statistics.median(quiet or ratios)
    where = (f"over the {len(quiet)} quiet rounds of {len(ratios)} (others < {QUIET_CORES} cores; all rounds "
             f"{statistics.median(ratios):.2f}x)" if quiet else
             f"over all {len(ratios)} rounds; none was quiet (others >= {QUIET_CORES} cores): mostly noise")
    return (f"verdict {what}: Hearth / curl {paired:.2f}x paired {where}; goal >= {THROUGHPUT_GOAL}x: "
            f"{'met' if paired >= THROUGHPUT_GOAL else 'NOT met'}")


def throughput(mirror: HubMirror, scratch: Path, rounds: int) -> None:
    print(f"== throughput: {tiny.SIZE / 1e6:.1f} MB file, {rounds} rounds each, alternating; "
          f"curl = {CURL}")
    hearth_inner, hearth_wall, curl_inner, curl_wall, verified, others = [], [], [], [], [], []
    curl_once(mirror, scratch)  # warm the page cache for both
    for _ in range(rounds):
        verified.append(curl_verified_once(mirror, scratch))
        with OtherWork() as noise:
            inner, wall = curl_once(mirror, scratch)
            curl_inner.append(inner)
            curl_wall.append(wall)
            inner, wall = hearth_once(mirror, scratch)
            hearth_inner.append(inner)
            hearth_wall.append(wall)
        others.append(noise.cores)

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
    print("  others (cores):    ", " ".join(f"{c:.1f}" for c in others))
    print("  (Hearth's transfer time includes 2 metadata requests, sha256, fsyncs and the move;"
          " its whole-process time includes starting Python and importing huggingface_hub.)")
    print(f"  ratio of the medians {rate(hearth_inner) / rate(curl_inner):.2f}x")
    print(verdict("throughput", [c / h for c, h in zip(curl_inner, hearth_inner)], others))


def throttled_link(mirror: HubMirror, scratch: Path, rate_mb: int, rounds: int, served: Served = TINY) -> None:
    """Both clients on a link of ``rate_mb`` MiB/s (a fast home or office connection), paired rounds."""
    mirror.trouble.bytes_per_second = rate_mb * MB
    ratios, curl_rates, hearth_rates, others = [], [], [], []
    try:
        for _ in range(rounds):
            with OtherWork() as noise:
                curl_s, _ = curl_once(mirror, scratch, served)
                hearth_s, _ = hearth_once(mirror, scratch, served)
            ratios.append(curl_s / hearth_s)
            curl_rates.append(served.size / curl_s / 1e6)
            hearth_rates.append(served.size / hearth_s / 1e6)
            others.append(noise.cores)
    finally:
        mirror.trouble.bytes_per_second = None
    print(f"  {rate_mb} MiB/s, {served.size / 1e6:.0f} MB: curl {statistics.median(curl_rates):.1f} MB/s, "
          f"hearth {statistics.median(hearth_rates):.1f} MB/s (medians); per round: ratio "
          + " ".join(f"{r:.2f}" for r in ratios) + ", others " + " ".join(f"{c:.1f}" for c in others))
    print(verdict(f"throughput at a {rate_mb} MiB/s link, {served.size / 1e6:.0f} MB file", ratios, others))


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
    rerun = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if rerun.returncode != 0:
        raise RuntimeError(f"the run after the kill failed ({rerun.returncode}): {rerun.stderr[-2000:]}")
    assert tiny.sha256_of(models / "bench--tiny-GGUF" / FILE) == tiny.SHA256
    return first + (mirror.bytes_served - first) - tiny.SIZE, checkpoint, on_disk


def kill_and_resume(mirror: HubMirror, scratch: Path) -> None:
    print("\n== SIGKILL mid-download, then run again (goal: re-fetched <= 16 MiB)")
    print(f"{'killed at':>12}{'on disk':>12}{'checkpoint':>12}{'unsaved':>12}{'re-fetched':>14}")
    worst = worst_unsaved = 0
    kills = (10 * MB, 31 * MB, 47 * MB, 70 * MB, 90 * MB)
    for kill_at in kills:
        refetched, checkpoint, on_disk = kill_once(mirror, scratch, kill_at)
        worst, worst_unsaved = max(worst, refetched), max(worst_unsaved, on_disk - checkpoint)
        print(f"{kill_at / MB:10.1f}Mi{on_disk / MB:10.1f}Mi{checkpoint / MB:10.1f}Mi"
              f"{(on_disk - checkpoint) / MB:10.1f}Mi{refetched / MB:12.2f}Mi")
    print("  (unsaved: bytes in the file past the last durable checkpoint; re-fetched: the server's count,"
          " which also holds what sat unread in socket buffers when the process died)")
    print(f"verdict re-fetched after SIGKILL: worst {worst / MB:.2f} MiB over {len(kills)} kills (unsaved "
          f"worst {worst_unsaved / MB:.2f} MiB); goal <= {REFETCH_GOAL // MB} MiB: "
          f"{'met' if worst <= REFETCH_GOAL else 'NOT met'}")


def big_file(scratch: Path, size_mb: int) -> Path:
    """An incompressible file of ``size_mb`` MB, written in 16 MiB pieces."""
    path = scratch / "big.gguf"
    with path.open("wb") as out:
        left = size_mb * 1_000_000
        while left > 0:
            out.write(os.urandom(min(left, 16 * MB)))
            left -= 16 * MB
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=5, help="unthrottled rounds (default 5)")
    parser.add_argument("--big-mb", type=int, default=400, help="size of the big file for the limited links "
                        "(0: skip it)")
    parser.add_argument("--link-rounds", type=int, default=3, help="rounds per limited link (default 3)")
    args = parser.parse_args()
    model = tiny.ensure_tiny_model()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder, HubMirror() as mirror:
        scratch = Path(folder)
        mirror.add_repo(REPO, {FILE: model})
        throughput(mirror, scratch, args.rounds)
        print("\n== the same on a limited link (the mirror sends no faster than the rate)")
        for rate in LINK_RATES:
            throttled_link(mirror, scratch, rate, args.link_rounds)
        if args.big_mb:
            repo = mirror.add_repo("bench/big", {"big.gguf": big_file(scratch, args.big_mb)})
            entry = repo.files["big.gguf"]
            big = Served("bench/big", "big.gguf", entry.size, entry.sha256)
            for rate in LINK_RATES[1:]:
                throttled_link(mirror, scratch, rate, args.link_rounds, big)
        kill_and_resume(mirror, scratch)


if __name__ == "__main__":
    main()
