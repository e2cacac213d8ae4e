"""Dropout's cost: fa4 with dropout_p = 0.1 against p = 0, beside
FlashAttention-2 (SDPA FLASH) with and without dropout, in one run (CUDA
events via triton.testing.do_bench, median, ms; TFLOP/s of the attention).

    PYTHONPATH=python python3 bench/bench_dropout.py
"""
import os
import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402
from timing import timed  # noqa: E402


def main():
    print(f"{torch.cuda.get_device_name()}")
    for d, causal in ((64, False), (128, False), (128, True)):
        for s in (1024, 4096, 8192):
            batch, heads = 16384 // s * 2, 2048 // d
            q, k, v = (torch.randn(batch, s, heads, d, device="cuda", dtype=torch.bfloat16)
                       for _ in range(3))
            flops = 4 * batch * heads * s * s * d / (2 if causal else 1)
            t = {}
            t["fa4 p=0"] = timed(lambda: fa4.flash_attn_func(q, k, v, causal=causal))
            t["fa4 p=0.1"] = timed(lambda: fa4.flash_attn_func(q, k, v, 0.1, causal=causal))
            qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                t["FA2 p=0"] = timed(lambda: torch.nn.functional.scaled_dot_product_attention(
                    qt, kt, vt, is_causal=causal))
                t["FA2 p=0.1"] = timed(lambda: torch.nn.functional.scaled_dot_product_attention(
                    qt, kt, vt, dropout_p=0.1, is_causal=causal))
            line = " | ".join(f"{n} {ms:.3f} ms ({flops / ms / 1e9:.0f} TF/s)" for n, ms in t.items())
            print(f"d={d} {'causal' if causal else 'full'} s={s} b={batch} h={heads}: {line} | "
                  f"overhead fa4 {t['fa4 p=0.1'] / t['fa4 p=0']:.3f}x, "
                  f"FA2 {t['FA2 p=0.1'] / t['FA2 p=0']:.3f}x; "
                  f"fa4/FA2 with dropout {t['FA2 p=0.1'] / t['fa4 p=0.1']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
