"""Decode: fa4.flash_attn_with_kvcache against FlashAttention-2 (SDPA FLASH)
and a device-to-device copy, in one run, over the SPEC's decode grid
(Sq 1 and 4, d = 128, GQA 32/8 and 64/8 and MHA 32/32, batch 1..128, Sk
4k..128k, contiguous and paged (64) caches). Every call is timed as a CUDA
graph replay (both libraries), so host overhead is not in the numbers.
Reported: the KV bytes read per second (batch * Sk * Hkv * d * 2 tensors * 2
bytes / time), next to the copy's bytes moved (read + write) per second;
num_splits = 0 (fa4's rule) against the best of the fixed counts 1, 4, 16,
64.

    PYTHONPATH=python python3 bench/bench_decode.py [--out DIR] [--quick]
"""

import argparse
import json
import os
import sys

import torch
import triton.testing
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402

MAX_KV_BYTES = 12 << 30
FIXED_SPLITS = (1, 4, 16, 64)


def timed(fn):
    fn()
    torch.cuda.synchronize()
    return triton.testing.do_bench_cudagraph(fn, rep=40, return_mode="median")


def copy_bandwidth():
    """Bytes moved (read + write) per second by a 2 GiB device copy, after
    a second of warm-up (an idle GPU starts at a low clock)."""
    src = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    triton.testing.do_bench(lambda: dst.copy_(src), warmup=1000, rep=200)
    ms = timed(lambda: dst.copy_(src))
    return 2 * src.numel() / ms / 1e6


def read_bandwidth():
    """Bytes read per second by a reduction over 2 GiB (torch.sum): the
    read-only roof a decode step, which writes almost nothing, can reach."""
    src = torch.empty(1 << 29, dtype=torch.float32, device="cuda").uniform_()
    out = torch.empty((), dtype=torch.float32, device="cuda")
    ms = timed(lambda: torch.sum(src, dim=0, out=out))
    return src.numel() * 4 / ms / 1e6


def grid(quick):
    for sq in (1, 4):
        for hq, hk in ((32, 8), (64, 8), (32, 32)):
            for batch in (1, 8, 32, 128):
                for sk in (4096, 16384, 65536, 131072):
                    if quick and (sk not in (4096, 65536) or batch not in (1, 32)):
                        continue
                    if batch * sk * hk * 128 * 4 > MAX_KV_BYTES:
                        continue
                    yield sq, hq, hk, batch, sk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    copy_gbs = copy_bandwidth()
    read_gbs = read_bandwidth()
    print(f"copy: {copy_gbs:.0f} GB/s moved; sum: {read_gbs:.0f} GB/s read", flush=True)
    rows = []
    for sq, hq, hk, batch, sk in grid(args.quick):
        torch.manual_seed(0)
        d = 128
        q = torch.randn(batch, sq, hq, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(batch, sk, hk, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn_like(k)
        seqlens = torch.full((batch,), sk, dtype=torch.int32, device="cuda")
        kv_bytes = 2 * k.numel() * k.element_size()
        row = {"sq": sq, "hq": hq, "hk": hk, "batch": batch, "sk": sk}
        row["auto_ms"] = timed(lambda: fa4.flash_attn_with_kvcache(
            q, k, v, cache_seqlens=seqlens, num_splits=0))
        fixed = {}
        for n in FIXED_SPLITS:
            fixed[n] = timed(lambda: fa4.flash_attn_with_kvcache(
                q, k, v, cache_seqlens=seqlens, num_splits=n))
        row["fixed_ms"] = fixed
        best = min(fixed, key=fixed.get)
        row["best_fixed"] = best
        # The same cache as 64-row pages (identity table), auto splits.
        pages = sk // 64
        table = torch.arange(batch * pages, dtype=torch.int32, device="cuda").view(batch, pages)
        pk, pv = k.view(batch * pages, 64, hk, d), v.view(batch * pages, 64, hk, d)
        row["paged_ms"] = timed(lambda: fa4.flash_attn_with_kvcache(
            q, pk, pv, cache_seqlens=seqlens, block_table=table))
        qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        try:
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                row["fa2_ms"] = timed(lambda: torch.nn.functional.scaled_dot_product_attention(
                    qt, kt, vt, enable_gqa=hq != hk))
        except RuntimeError as e:
            row["fa2_ms"] = None
            row["fa2_error"] = str(e).splitlines()[0]
        gbs = lambda ms: kv_bytes / ms / 1e6 if ms else None  # noqa: E731
        row.update({"kv_bytes": kv_bytes, "auto_gbs": gbs(row["auto_ms"]),
                    "paged_gbs": gbs(row["paged_ms"]), "fa2_gbs": gbs(row["fa2_ms"]),
                    "copy_gbs": copy_gbs, "read_gbs": read_gbs})
        rows.append(row)
        fa2 = f"{row['fa2_gbs']:.0f}" if row["fa2_gbs"] else "n/a"
        vs = f"x{row['fa2_ms'] / row['auto_ms']:.2f}" if row["fa2_ms"] else ""
        print(f"sq{sq} {hq}/{hk} b{batch:3d} sk{sk:6d}: fa4 {row['auto_gbs']:5.0f} GB/s "
              f"({row['auto_gbs'] / copy_gbs:.0%} of copy, {row['auto_gbs'] / read_gbs:.0%} of "
              f"sum) paged {row['paged_gbs']:5.0f} "
              f"fa2 {fa2} {vs} | auto {row['auto_ms'] * 1e3:.1f} us best fixed {best}: "
              f"{fixed[best] * 1e3:.1f} us", flush=True)
        del q, k, v, pk, pv
        # Written after every row: a run cut short keeps what it measured.
        with open(os.path.join(args.out, "bench_decode.json"), "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "copy_gbs": copy_gbs,
                       "rows": rows}, f, indent=1)
    copy_end = copy_bandwidth()
    print(f"copy at the end: {copy_end:.0f} GB/s moved", flush=True)
    with open(os.path.join(args.out, "bench_decode.json"), "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "copy_gbs": copy_gbs,
                   "read_gbs": read_gbs, "copy_end_gbs": copy_end, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
