"""Local windows and softcap: their cost against the plain kernels, in one run.

For each shape of the SPEC's prefill grid (bf16, batch * seqlen = 16384,
hidden 2048) this times fa4 plain, causal, softcap, causal + softcap and
sliding windows (left, 0) and ALiBi next to FlashAttention-2 (SDPA FLASH,
plain and causal) and reports:
  * softcap's, ALiBi's and the window kernel's overhead: time / the plain
    (or causal) kernel's time;
  * whether a window's time follows the key blocks it visits: (time /
    causal time) against (visited blocks / causal's visited blocks), both
    counted with fa4.kv_range's formulas for the kernel's tile.

    PYTHONPATH=python python3 bench/bench_masks.py [--out DIR] [--quick]
"""

import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from bench import SDPBackend, bench, sdpa  # noqa: E402

import fa4  # noqa: E402


def visited_blocks(seqlen, tile_m, tile_n, left):
    """Key blocks an (Sq = Sk) problem visits, summed over m-blocks: causal
    (left < 0) or a window (left, 0), per fa4.kv_range."""
    total = 0
    for m0 in range(0, seqlen, tile_m):
        end = min(math.ceil(seqlen / tile_n), math.ceil((m0 + tile_m) / tile_n))
        begin = 0 if left < 0 else max((m0 - left) // tile_n, 0)
        total += max(end - begin, 0)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seqlens = [4096, 16384] if args.quick else [2048, 4096, 8192, 16384]
    windows = [512, 4096]
    rows = []
    for d in (64, 128):
        heads = 2048 // d
        for s in seqlens:
            b = 16384 // s
            torch.manual_seed(0)
            q = torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
            k = torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
            v = torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
            slopes = torch.rand(heads, device="cuda") * 0.3
            t = {
                "fa2": bench(lambda: sdpa(SDPBackend.FLASH_ATTENTION, q, k, v, False)),
                "fa2_causal": bench(lambda: sdpa(SDPBackend.FLASH_ATTENTION, q, k, v, True)),
                "plain": bench(lambda: fa4.flash_attn_func(q, k, v)),
                "causal": bench(lambda: fa4.flash_attn_func(q, k, v, causal=True)),
                "softcap": bench(lambda: fa4.flash_attn_func(q, k, v, softcap=30.0)),
                "causal_softcap": bench(
                    lambda: fa4.flash_attn_func(q, k, v, causal=True, softcap=30.0)),
                "alibi": bench(lambda: fa4.flash_attn_func(q, k, v, alibi_slopes=slopes)),
                "causal_alibi": bench(
                    lambda: fa4.flash_attn_func(q, k, v, causal=True, alibi_slopes=slopes)),
            }
            for w in windows:
                t[f"window{w}"] = bench(
                    lambda: fa4.flash_attn_func(q, k, v, causal=True, window_size=(w, 0)))
            # The same kernel with an unbounded-left window (-1 selects the
            # causal kernel): the window kernel's own overhead.
            t["window_inf"] = bench(
                lambda: fa4.flash_attn_func(q, k, v, window_size=(s, s)))
            row = {"d": d, "seqlen": s, "batch": b, "heads": heads, "ms": t}
            # The causal and window kernels the dispatch runs use 128 x 64
            # tiles: cp.async at d = 64, TMA at d = 128.
            tile_m, tile_n = 128, 64
            causal_blocks = visited_blocks(s, tile_m, tile_n, -1)
            row["window_scaling"] = {
                str(w): {"time_ratio": t[f"window{w}"] / t["causal"],
                         "block_ratio": visited_blocks(s, tile_m, tile_n, w) / causal_blocks}
                for w in windows}
            rows.append(row)
            print(json.dumps(row), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench_masks.json"), "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "rows": rows}, f, indent=1)
    lines = [f"device: {torch.cuda.get_device_name()}", "",
             "| d | seqlen | FA2 ms | FA2 causal | fa4 plain | causal | softcap (x plain) | "
             "causal+softcap (x causal) | alibi (x plain) | causal+alibi (x causal) | "
             "window(s,s) (x plain) | w512 time/blocks vs causal | "
             "w4096 time/blocks vs causal |", "|" + "---|" * 13]
    for r in rows:
        t = r["ms"]
        ws = r["window_scaling"]
        lines.append(
            f"| {r['d']} | {r['seqlen']} | {t['fa2']:.3f} | {t['fa2_causal']:.3f} | "
            f"{t['plain']:.3f} | {t['causal']:.3f} | {t['softcap']:.3f} "
            f"({t['softcap'] / t['plain']:.3f}) | {t['causal_softcap']:.3f} "
            f"({t['causal_softcap'] / t['causal']:.3f}) | {t['alibi']:.3f} "
            f"({t['alibi'] / t['plain']:.3f}) | {t['causal_alibi']:.3f} "
            f"({t['causal_alibi'] / t['causal']:.3f}) | {t['window_inf']:.3f} "
            f"({t['window_inf'] / t['plain']:.3f}) | "
            f"{ws['512']['time_ratio']:.3f} / {ws['512']['block_ratio']:.3f} | "
            f"{ws['4096']['time_ratio']:.3f} / {ws['4096']['block_ratio']:.3f} |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.out, "bench_masks.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
