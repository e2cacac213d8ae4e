"""Head dims beyond 64/96/128: fa4 against FlashAttention-2, in one run.

On the SPEC's prefill grid (bf16, batch * seqlen = 16384, hidden 2048:
nheads = 2048 / d) this times, causal and not:
  * d = 32, 160, 192, 224, 256: fa4 against FlashAttention-2 (SDPA FLASH);
  * DeepSeek's d = 192 / dv = 128: fa4's 192/128 kernel against
    FlashAttention-2 on v padded to 192 (what FA2 users do; its output
    sliced back) and cuDNN's SDPA where it takes the pair;
  * a head dim without a kernel (d = 80, run on the 96 kernel after
    padding): fa4's padded call against its own d = 96 call (the cost of
    the copy) and FA2 at d = 80.
FLOPs = 4 B H S^2 (d + dv) / 2, halved when causal.

    PYTHONPATH=python python3 bench/bench_head_dims.py [--out DIR] [--quick]
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from bench import SDPBackend, bench, sdpa  # noqa: E402

import fa4  # noqa: E402


def tflops(b, h, s, d, dv, causal, ms):
    return 4 * b * h * s * s * (d + dv) / 2 / (2 if causal else 1) / ms / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dims", default="32,160,192,224,256,192/128,80",
                    help="comma-separated d or d/dv")
    args = ap.parse_args()
    dims = [tuple(int(x) for x in (spec.split("/") * 2)[:2]) for spec in args.dims.split(",")]
    seqlens = [1024, 4096, 16384] if args.quick else [512, 1024, 2048, 4096, 8192, 16384]
    rows = []
    for d, dv in dims:
        heads = max(2048 // d, 1)
        for s in seqlens:
            b = max(16384 // s, 1)
            for causal in (False, True):
                torch.manual_seed(0)
                q = torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
                k = torch.randn(b, s, heads, d, device="cuda", dtype=torch.bfloat16)
                v = torch.randn(b, s, heads, dv, device="cuda", dtype=torch.bfloat16)
                row = {"d": d, "dv": dv, "batch": b, "seqlen": s, "heads": heads,
                       "causal": causal}
                row["fa4_ms"] = bench(lambda: fa4.flash_attn_func(q, k, v, causal=causal))
                if dv == d:
                    row["fa2_ms"] = bench(lambda: sdpa(SDPBackend.FLASH_ATTENTION, q, k, v,
                                                       causal))
                else:
                    vp = torch.nn.functional.pad(v, (0, d - dv))
                    row["fa2_ms"] = bench(lambda: sdpa(SDPBackend.FLASH_ATTENTION, q, k, vp,
                                                       causal)[..., :dv])
                    try:
                        row["cudnn_ms"] = bench(lambda: sdpa(SDPBackend.CUDNN_ATTENTION, q, k, v,
                                                             causal))
                    except RuntimeError as e:
                        row["cudnn_error"] = str(e).splitlines()[0][:120]
                if d == 80:
                    qp, kp, vp = (torch.nn.functional.pad(t, (0, 16)) for t in (q, k, v))
                    row["fa4_d96_ms"] = bench(lambda: fa4.flash_attn_func(qp, kp, vp,
                                                                          causal=causal))
                row["fa4_tflops"] = tflops(b, heads, s, d, dv, causal, row["fa4_ms"])
                row["fa2_tflops"] = tflops(b, heads, s, d, dv, causal, row["fa2_ms"])
                row["fa4_over_fa2"] = row["fa2_ms"] / row["fa4_ms"]
                rows.append(row)
                extra = ""
                if "cudnn_ms" in row:
                    extra = f" cudnn/fa4 {row['cudnn_ms'] / row['fa4_ms']:.2f}x"
                if "fa4_d96_ms" in row:
                    extra = f" padded/d96 {row['fa4_ms'] / row['fa4_d96_ms']:.2f}"
                print(f"d{d}/{dv} s{s:5d} {'causal' if causal else 'full  '} "
                      f"fa4 {row['fa4_ms']:.3f} ms {row['fa4_tflops']:.0f} TF | "
                      f"fa2 {row['fa2_ms']:.3f} ms {row['fa2_tflops']:.0f} TF | "
                      f"speedup {row['fa4_over_fa2']:.2f}x{extra}", flush=True)
    with open(os.path.join(args.out, "bench_head_dims.json"), "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
