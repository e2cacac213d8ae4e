"""Times fa4's varlen and paged-KV forward against FlashAttention-2's varlen
forward in one run.

The SPEC's prefill grid (16384 tokens, hidden 2048: 32 heads at d=64, 16 at
d=128, plus GQA 32/8 at d=128), re-cut into batches of mixed lengths: for a
nominal length s, sequences drawn uniformly from [s/4, 7s/4] until the batch
holds 16384 tokens. Peers: FlashAttention-2's varlen forward
(torch.ops.aten._flash_attention_forward with cum_seq_q/k). Then the same
batches through fa4's paged cache (page sizes 16, 64, 256, pages permuted),
against fa4's own packed varlen. FLOPs = 4 * H * sum(L_q * L_k) * D, halved
for causal. Every fa4 result is checked against FA2 before it is timed.

    PYTHONPATH=python python3 bench/bench_varlen.py [--quick] [--out DIR]
"""

import argparse
import json
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402
from bench import bench  # noqa: E402

PAGE_SIZES = (16, 64, 256)


def lengths(seqlen, total, rng):
    out = []
    while sum(out) < total:
        out.append(min(rng.randint(seqlen // 4, 7 * seqlen // 4), total - sum(out)))
    return out


def grid(quick):
    seqlens = (512, 2048, 8192) if quick else (512, 1024, 2048, 4096, 8192, 16384)
    rows = []
    for d in (64, 128):
        for s in seqlens:
            for causal in (False, True):
                rows.append((s, 2048 // d, 2048 // d, d, causal))
    for s in (2048, 8192):
        for causal in (False, True):
            rows.append((s, 32, 8, 128, causal))
    return rows


def fa2_varlen(q, k, v, cu, max_len, causal):
    return torch.ops.aten._flash_attention_forward(q, k, v, cu, cu, max_len, max_len, 0.0,
                                                   causal, False)[0]


def to_pages(k, v, lens, page_size, rng):
    pages = [(n + page_size - 1) // page_size for n in lens]
    num, max_pages = sum(pages), max(pages)
    order = list(range(num))
    rng.shuffle(order)
    kc = torch.empty(num, page_size, *k.shape[1:], dtype=k.dtype, device=k.device)
    vc = torch.empty(num, page_size, *v.shape[1:], dtype=v.dtype, device=v.device)
    table = torch.zeros(len(lens), max_pages, dtype=torch.int32)
    start, nxt = 0, 0
    for b, n in enumerate(lens):
        for j in range(pages[b]):
            page = order[nxt]
            nxt += 1
            table[b, j] = page
            rows = min(page_size, n - j * page_size)
            kc[page, :rows] = k[start + j * page_size:start + j * page_size + rows]
            vc[page, :rows] = v[start + j * page_size:start + j * page_size + rows]
        start += n
    return kc, vc, table.cuda()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-paged", action="store_true")
    ap.add_argument("--varlen-variants", default="",
                    help="kernels (FA4_KERNEL_PATH + FA4_KERNEL) to time beside the "
                         "embedded varlen kernel")
    ap.add_argument("--paged-variants", default="",
                    help="kernels to time beside the embedded paged kernel")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    device = torch.cuda.get_device_name()
    results = []
    for (s, h, hk, d, causal) in grid(args.quick):
        rng = random.Random(s * 7 + d + causal)
        lens = lengths(s, 16384, rng)
        cu = torch.tensor([0] + [sum(lens[:i + 1]) for i in range(len(lens))],
                          dtype=torch.int32, device="cuda")
        total, max_len = sum(lens), max(lens)
        torch.manual_seed(0)
        q = torch.randn(total, h, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(total, hk, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(total, hk, d, device="cuda", dtype=torch.bfloat16)
        pairs = sum(n * n for n in lens)
        flops = 4 * h * pairs * d / (2 if causal else 1)
        row = {"seqlen": s, "batch": len(lens), "heads": h, "heads_kv": hk, "d": d,
               "causal": causal}
        ref = fa2_varlen(q, k, v, cu, max_len, causal)
        out = fa4.flash_attn_varlen_func(q, k, v, cu, cu, max_len, max_len, causal=causal)
        err = (out.float() - ref.float()).abs().max().item()
        if not err < 0.05:
            raise SystemExit(f"fa4 varlen disagrees with FA2 by {err} at {row}")
        row["fa4"] = flops / bench(lambda: fa4.flash_attn_varlen_func(
            q, k, v, cu, cu, max_len, max_len, causal=causal)) / 1e9
        row["fa2"] = flops / bench(lambda: fa2_varlen(q, k, v, cu, max_len, causal)) / 1e9
        for name in filter(None, args.varlen_variants.split(",")):
            os.environ["FA4_KERNEL"] = name
            row[f"fa4[{name}]"] = flops / bench(lambda: fa4.flash_attn_varlen_func(
                q, k, v, cu, cu, max_len, max_len, causal=causal)) / 1e9
            del os.environ["FA4_KERNEL"]
        if not args.no_paged:
            for page in PAGE_SIZES:
                kc, vc, table = to_pages(k, v, lens, page, rng)
                call = lambda: fa4.flash_attn_varlen_func(  # noqa: E731
                    q, kc, vc, cu, cu, max_len, max_len, causal=causal, block_table=table)
                err = (call().float() - ref.float()).abs().max().item()
                if not err < 0.05:
                    raise SystemExit(f"fa4 paged {page} disagrees with FA2 by {err} at {row}")
                row[f"paged{page}"] = flops / bench(call) / 1e9
                for name in filter(None, args.paged_variants.split(",")):
                    os.environ["FA4_KERNEL"] = name
                    row[f"paged{page}[{name}]"] = flops / bench(call) / 1e9
                    del os.environ["FA4_KERNEL"]
                del kc, vc
        results.append(row)
        print(" ".join(f"{k}={v:.0f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in row.items()), flush=True)

    paged = [] if args.no_paged else [f"paged{p}" for p in PAGE_SIZES]
    head = ["seqlen (nominal)", "batch", "heads q/kv", "d", "causal", "fa4 varlen",
            "FA2 varlen", "fa4/FA2"] + [f"fa4 {p}" for p in paged] + \
           [f"{p}/varlen" for p in paged]
    lines = [f"Device: {device}. bf16 TFLOP/s (CUDA-event medians), 16384 tokens per batch "
             "of mixed lengths; ratios from this run.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r["seqlen"], r["batch"], f"{r['heads']}/{r['heads_kv']}", r["d"],
                 int(r["causal"]), f"{r['fa4']:.0f}", f"{r['fa2']:.0f}",
                 f"{r['fa4'] / r['fa2']:.2f}"]
        cells += [f"{r[p]:.0f}" for p in paged]
        cells += [f"{r[p] / r['fa4']:.2f}" for p in paged]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    extra = sorted({key for r in results for key in r if "[" in key})
    if extra:
        lines += ["", "Variants (FA4_KERNEL), TFLOP/s:", "",
                  "| seqlen | d | causal | " + " | ".join(extra) + " |",
                  "|" + "---|" * (3 + len(extra))]
        for r in results:
            lines.append("| " + " | ".join([str(r["seqlen"]), str(r["d"]), str(int(r["causal"]))] +
                                           [f"{r[k]:.0f}" if k in r else "-" for k in extra]) + " |")
    table = "\n".join(lines)
    print("\n" + table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench_varlen.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, "bench_varlen.json"), "w") as f:
        json.dump({"device": device, "rows": results}, f, indent=1)


if __name__ == "__main__":
    main()
