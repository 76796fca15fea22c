"""``hearth estimate MODEL.gguf``: how much memory a model file needs, from its header alone.

Reads only the file's header (never its weights) and prints the estimate llama.cpp's
load would need: weights, KV cache, compute buffer, overhead, split between RAM and
graphics memory. ``--json`` prints the same numbers in bytes. A missing, damaged or
non-GGUF file is a plain error (exit code 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

DEFAULT_MAX_CTX = 8192


def register(subparsers: argparse._SubParsersAction) -> None:
    from wizard.fit import KV_TYPES

    parser = subparsers.add_parser(
        "estimate", help="show how much memory a model file needs",
        description="Read a GGUF model file's header and estimate the memory llama.cpp needs to run it.")
    parser.add_argument("model", type=Path, help="the model file (.gguf)")
    parser.add_argument("--ctx", type=int, default=None, metavar="N",
                        help=f"conversation length in tokens (default: the model's own, at most {DEFAULT_MAX_CTX})")
    parser.add_argument("--gpu-layers", type=int, default=0, metavar="N",
                        help="layers on the graphics card (-1: all; default 0)")
    parser.add_argument("--kv-type", choices=KV_TYPES, default="f16", help="KV cache type (default f16)")
    parser.add_argument("--json", action="store_true", help="print JSON (sizes in bytes) instead of text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from wizard.errors import HearthFileError
    from wizard.fit import estimate_memory, model_shape
    from wizard.gguf import read_gguf_header

    path: Path = args.model
    if not path.is_file():
        raise HearthFileError(f"There is no model file at {path}." if not path.exists()
                              else f"{path} is a folder, not a model file.",
                              hint="Check the path; model files end in .gguf.")
    header = read_gguf_header(path)
    shape = model_shape(header)
    n_ctx = args.ctx if args.ctx is not None else min(shape.n_ctx_train or DEFAULT_MAX_CTX, DEFAULT_MAX_CTX)
    estimate = estimate_memory(shape, n_ctx=n_ctx, n_gpu_layers=args.gpu_layers, kv_type=args.kv_type)
    if args.json:
        data = {"model": str(path), "architecture": shape.architecture, "layers": shape.n_layer,
                "trained_context": shape.n_ctx_train, "file_bytes": header.file_size, **asdict(estimate)}
        json.dump(data, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    gb = lambda n: f"{n / 2**30:.2f} GB"  # noqa: E731
    lines = [
        f"{path.name}: {shape.architecture}, {shape.n_layer} layers, trained for {shape.n_ctx_train} tokens",
        f"Settings: {estimate.n_ctx} tokens of conversation, {estimate.n_gpu_layers} layers on the graphics card, "
        f"KV cache {estimate.kv_type}",
        f"  Weights:        {gb(estimate.weights_bytes)}",
        f"  KV cache:       {gb(estimate.kv_bytes)}",
        f"  Compute buffer: {gb(estimate.compute_bytes)}",
        f"  Overhead:       {gb(estimate.overhead_bytes)}",
        f"Total: {gb(estimate.total_bytes)} (memory {gb(estimate.ram_bytes)}, graphics card {gb(estimate.gpu_bytes)})",
    ]
    if shape.n_ctx_train and estimate.n_ctx > shape.n_ctx_train:
        lines.append(f"Note: this model was trained for at most {shape.n_ctx_train} tokens; longer "
                     "conversations will not work well.")
    print("\n".join(lines))
    return 0
