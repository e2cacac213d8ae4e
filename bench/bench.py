"""Times fa4 and its peers in one run over the SPEC's benchmark grid.

Peers: torch SDPA with the FLASH backend (FlashAttention-2, the same mma.sync
instruction class) and with the CUDNN backend. Convention (FlashAttention's):
batch * seqlen = 16384, hidden 2048 (32 heads at d=64, 16 at d=128), bf16,
FLOPs = 4 * B * H * Sq * Sk * D, halved for causal; plus GQA 32/8 d=128 at
seqlen 2k and 8k. Times are CUDA-event medians (triton.testing.do_bench)
after warm-up. Every fa4 result is checked against SDPA before it is timed.

    PYTHONPATH=python python3 bench/bench.py [--quick] [--out DIR] [--append bench/RESULTS.md]

Prints a table, writes bench.md, bench.json and bench.png into --out, and,
with --append, appends the Markdown table with the date and device.
"""

import argparse
import datetime
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402


def grid(quick, head_dims=(64, 128), gqa=True):
    rows = []
    seqlens = (512, 2048, 8192) if quick else (512, 1024, 2048, 4096, 8192, 16384)
    for d in head_dims:
        for s in seqlens:
            for causal in (False, True):
                rows.append((16384 // s, s, 2048 // d, 2048 // d, d, causal))
    for s in ((2048,) if quick else (2048, 8192)) if gqa else ():
        for causal in (False, True):
            rows.append((16384 // s, s, 32, 8, 128, causal))
    return rows


def sdpa(backend, q, k, v, causal):
    with sdpa_kernel([backend]):
        return F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=causal,
            enable_gqa=k.shape[2] != q.shape[2]).transpose(1, 2)


def bench(fn):
    import triton.testing
    return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a reduced grid")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--append", help="a Markdown file to append the table to")
    ap.add_argument("--paths", default="auto", help="comma-separated fa4 load paths to time")
    ap.add_argument("--head-dims", default="64,128", help="head dims of the hidden-2048 grid")
    ap.add_argument("--no-gqa", action="store_true", help="skip the GQA 32/8 rows")
    args = ap.parse_args()
    paths = args.paths.split(",")
    device = torch.cuda.get_device_name()
    results = []
    head_dims = tuple(int(d) for d in args.head_dims.split(","))
    for (b, s, h, hk, d, causal) in grid(args.quick, head_dims, not args.no_gqa):
        torch.manual_seed(0)
        q = torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(b, s, hk, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(b, s, hk, d, device="cuda", dtype=torch.bfloat16)
        flops = 4 * b * h * s * s * d / (2 if causal else 1)
        row = {"batch": b, "seqlen": s, "heads": h, "heads_kv": hk, "d": d, "causal": causal}
        ref = sdpa(SDPBackend.FLASH_ATTENTION, q, k, v, causal)
        for path in paths:
            out = fa4.flash_attn_func(q, k, v, causal=causal, load_path=path)
            err = (out.float() - ref.float()).abs().max().item()
            if not err < 0.05:
                raise SystemExit(f"fa4 ({path}) disagrees with SDPA by {err} at {row}")
            ms = bench(lambda: fa4.flash_attn_func(q, k, v, causal=causal, load_path=path))
            row[f"fa4_{path}"] = flops / ms / 1e9
        for name, backend in (("fa2", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)):
            try:
                ms = bench(lambda: sdpa(backend, q, k, v, causal))
                row[name] = flops / ms / 1e9
            except RuntimeError:  # a backend may refuse a configuration
                row[name] = None
        results.append(row)
        print(format_row(row, paths), flush=True)

    table = markdown(results, paths, device)
    print("\n" + table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({"device": device, "rows": results}, f, indent=1)
    plot(results, paths, device, os.path.join(args.out, "bench.png"))
    if args.append:
        with open(args.append, "a") as f:
            f.write(f"\n## {datetime.date.today().isoformat()} — {device}\n\n{table}\n")


def fmt(x):
    return "  -  " if x is None else f"{x:5.0f}"


def format_row(row, paths):
    fa4s = " ".join(f"fa4[{p}]={fmt(row.get('fa4_' + p))}" for p in paths)
    return (f"b={row['batch']:2d} s={row['seqlen']:5d} h={row['heads']:2d}/{row['heads_kv']:2d} "
            f"d={row['d']:3d} causal={int(row['causal'])}  {fa4s} fa2={fmt(row['fa2'])} "
            f"cudnn={fmt(row['cudnn'])} TFLOP/s")


def markdown(rows, paths, device):
    head = ["batch", "seqlen", "heads q/kv", "d", "causal"] + [f"fa4 {p}" for p in paths] + \
           ["FA2 (SDPA flash)", "cuDNN"] + [f"{p}/FA2" for p in paths] + [f"{p}/cuDNN" for p in paths]
    lines = [f"Device: {device}. TFLOP/s (bf16, CUDA-event median); ratios from this run.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["batch"], r["seqlen"], f"{r['heads']}/{r['heads_kv']}", r["d"], int(r["causal"])]
        cells += [f"{r['fa4_' + p]:.0f}" for p in paths]
        cells += [fmt(r["fa2"]).strip(), fmt(r["cudnn"]).strip()]
        cells += [f"{r['fa4_' + p] / r['fa2']:.2f}" if r["fa2"] else "-" for p in paths]
        cells += [f"{r['fa4_' + p] / r['cudnn']:.2f}" if r["cudnn"] else "-" for p in paths]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def plot(rows, paths, device, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot")
        return
    groups = sorted({(r["d"], r["heads"], r["heads_kv"], r["causal"]) for r in rows})
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 3.6), squeeze=False)
    for ax, (d, h, hk, causal) in zip(axes[0], groups):
        sel = [r for r in rows if (r["d"], r["heads"], r["heads_kv"], r["causal"]) == (d, h, hk, causal)]
        xs = [r["seqlen"] for r in sel]
        for key, label in [(f"fa4_{p}", f"fa4 {p}") for p in paths] + [("fa2", "FA2"), ("cudnn", "cuDNN")]:
            ax.plot(xs, [r[key] or math.nan for r in sel], marker="o", label=label)
        ax.set_xscale("log", base=2)
        ax.set_title(f"d={d} h={h}/{hk} {'causal' if causal else 'full'}", fontsize=9)
        ax.set_xlabel("seqlen")
        ax.set_ylabel("TFLOP/s")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"fa4 forward vs peers, {device}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
