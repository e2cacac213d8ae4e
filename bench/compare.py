"""Times two builds of fa4 side by side, in one process, shape by shape.

A change must not slow the existing kernels: this loads the `before` build
(a Python package folder and its runtime library) next to the current one,
and for each shape of the SPEC's prefill grid times before, after and
FlashAttention-2 (SDPA FLASH) interleaved, repeating the whole pass so that
the spread between passes (the run-to-run noise) is measured too.

    PYTHONPATH=python python3 bench/compare.py --before-python DIR --before-lib LIB \
        [--paths auto,tma,cp_async] [--passes 2] [--out DIR]
"""

import argparse
import importlib.util
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from bench import SDPBackend, bench, grid, sdpa  # noqa: E402


def load_package(name, folder, library):
    """Imports the fa4 package in `folder` as module `name`, bound to `library`."""
    saved = os.environ.get("FA4_LIBRARY")
    os.environ["FA4_LIBRARY"] = library
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module._runtime.library()  # load now, while FA4_LIBRARY names it
    if saved is None:
        del os.environ["FA4_LIBRARY"]
    else:
        os.environ["FA4_LIBRARY"] = saved
    return module


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before-python", required=True, help="the before build's fa4 package")
    ap.add_argument("--before-lib", required=True, help="the before build's libfa4_runtime.so")
    ap.add_argument("--after-lib", default=os.environ.get("FA4_LIBRARY"))
    ap.add_argument("--paths", default="auto")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    before = load_package("fa4_before", args.before_python, args.before_lib)
    after_dir = os.path.join(os.path.dirname(__file__), "..", "python", "fa4")
    after = load_package("fa4_after", after_dir, args.after_lib)
    paths = args.paths.split(",")
    rows = []
    for (b, s, h, hk, d, causal) in grid(args.quick, (64, 96, 128)):
        torch.manual_seed(0)
        q = torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(b, s, hk, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(b, s, hk, d, device="cuda", dtype=torch.bfloat16)
        flops = 4 * b * h * s * s * d / (2 if causal else 1)
        row = {"batch": b, "seqlen": s, "heads": h, "heads_kv": hk, "d": d, "causal": causal}
        for path in paths:
            a = after.flash_attn_func(q, k, v, causal=causal, load_path=path)
            z = before.flash_attn_func(q, k, v, causal=causal, load_path=path)
            torch.cuda.synchronize()
            if not torch.equal(a, z):
                raise SystemExit(f"before and after disagree ({path}) at {row}")
        for p in range(args.passes):
            for path in paths:
                for label, pkg in (("before", before), ("after", after)):
                    ms = bench(lambda: pkg.flash_attn_func(q, k, v, causal=causal,
                                                           load_path=path))
                    row.setdefault(f"{label}_{path}", []).append(flops / ms / 1e9)
            ms = bench(lambda: sdpa(SDPBackend.FLASH_ATTENTION, q, k, v, causal))
            row.setdefault("fa2", []).append(flops / ms / 1e9)
        rows.append(row)
        cells = " ".join(f"{k}={max(v):.0f}" for k, v in row.items() if isinstance(v, list))
        print(f"b={b} s={s} h={h}/{hk} d={d} causal={int(causal)} {cells}", flush=True)

    lines = [f"Device: {torch.cuda.get_device_name()}. bf16 TFLOP/s, best of {args.passes} "
             "passes (each a CUDA-event median); before and after interleaved in one "
             "process; outputs bit-identical.", "",
             "| batch | seqlen | heads | d | causal | " +
             " | ".join(f"before {p} | after {p} | after/before {p}" for p in paths) +
             " | FA2 | after/FA2 (" + paths[0] + ") | pass spread |",
             "|" + "---|" * (6 + 3 * len(paths) + 2)]
    worst = 0.0
    for r in rows:
        cells = [r["batch"], r["seqlen"], f"{r['heads']}/{r['heads_kv']}", r["d"],
                 int(r["causal"])]
        spread = 0.0
        for p in paths:
            bb, aa = max(r[f"before_{p}"]), max(r[f"after_{p}"])
            cells += [f"{bb:.0f}", f"{aa:.0f}", f"{aa / bb:.3f}"]
            for key in (f"before_{p}", f"after_{p}"):
                spread = max(spread, (max(r[key]) - min(r[key])) / max(r[key]))
            worst = min(worst, aa / bb - 1) if worst else aa / bb - 1
        fa2 = max(r["fa2"])
        cells += [f"{fa2:.0f}", f"{max(r['after_' + paths[0]]) / fa2:.2f}", f"{spread:.3f}"]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    table = "\n".join(lines)
    print("\n" + table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "compare.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
