#!/usr/bin/env python3
"""Writes fa4-fuzz's seed corpus: every kernel definition, every lit input
(split at `// -----`), and the IR between passes of a few kernels.

    python3 tools/fa4-fuzz/make_corpus.py FA4_OPT OUT_DIR
"""

import hashlib
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The stages whose output seeds the later passes: the IR between passes.
STAGES = [
    "builtin.module(fa4-tile-attention{chip=sm_120a})",
    "builtin.module(fa4-tile-attention{chip=sm_120a}, gpu.module(fa4-schedule-kv-loop))",
    "builtin.module(fa4-tile-attention{chip=sm_120a}, gpu.module(fa4-schedule-kv-loop,"
    " fa4-scope-attention))",
    "builtin.module(fa4-to-llvm{chip=sm_120a})",
]
STAGED_KERNELS = ["fa4_fwd_bf16_hd64", "fa4_fwd_tma_bf16_hd128_causal",
                  "fa4_fwd_paged_f16_hd96_causal", "fa4_fwd_varlen_bf16_hd128"]


def main():
    fa4_opt, out = sys.argv[1], pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    seeds = []
    for path in sorted((ROOT / "kernels").glob("*.mlir")):
        seeds.append(path.read_text())
    for path in sorted((ROOT / "test").rglob("*.mlir")):
        text = path.read_text()
        if "XFAIL" in text:  # known upstream crashes (test/Robustness)
            continue
        seeds.extend(part for part in text.split("// -----") if part.strip())
    for kernel in STAGED_KERNELS:
        source = ROOT / "kernels" / f"{kernel}.mlir"
        for stage in STAGES:
            result = subprocess.run([fa4_opt, str(source), f"--pass-pipeline={stage}"],
                                    capture_output=True, text=True, check=True)
            seeds.append(result.stdout)
    for seed in seeds:
        name = hashlib.sha1(seed.encode()).hexdigest()
        (out / name).write_text(seed)
    print(f"{len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()
