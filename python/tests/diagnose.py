"""Localizes a wrong result: runs small attention problems and prints where
the output differs from the float32 reference (by row within the 16-row MMA
fragment, by column within the 8-column fragment, by warp). Not a test: a
tool for reading a failure on the GPU.

    PYTHONPATH=python python3 python/tests/diagnose.py
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import fa4  # noqa: E402
from reference import attention_ref  # noqa: E402


def report(name, out, ref):
    err = (out.float() - ref).abs()
    worst = err.max().item()
    print(f"{name}: max err {worst:.3e}  nan {torch.isnan(out).sum().item()}", flush=True)
    if not worst > 0.02:
        return
    e = err[0, :, 0]  # (Sq, D) of batch 0, head 0
    rows = e.max(dim=1).values
    cols = e.max(dim=0).values
    print("  rows with err>0.02:", (rows > 0.02).nonzero().flatten()[:40].tolist())
    print("  row%16 max:", [round(rows[i::16].max().item(), 3) for i in range(16)])
    print("  cols with err>0.02:", (cols > 0.02).nonzero().flatten()[:40].tolist())
    print("  col%8 max:", [round(cols[i::8].max().item(), 3) for i in range(8)])
    r0 = (rows > 0.02).nonzero().flatten()[0].item()
    print("  out row", r0, out[0, r0, 0, :8].float().tolist())
    print("  ref row", r0, ref[0, r0, 0, :8].tolist())


def main():
    torch.manual_seed(0)
    for d in (64, 96, 128):
        for (sq, sk, causal) in ((128, 128, False), (16, 128, False), (128, 64, False),
                                 (200, 200, False), (128, 128, True), (300, 77, True)):
            q = torch.randn(1, sq, 1, d, device="cuda", dtype=torch.bfloat16)
            k = torch.randn(1, sk, 1, d, device="cuda", dtype=torch.bfloat16)
            v = torch.randn(1, sk, 1, d, device="cuda", dtype=torch.bfloat16)
            out = fa4.flash_attn_func(q, k, v, causal=causal)
            ref, _ = attention_ref(q, k, v, causal, 1 / math.sqrt(d))
            report(f"d{d} sq{sq} sk{sk} causal{int(causal)}", out, ref)
            if d == 128 and sq == 128 and sk == 128 and not causal:
                # V = one-hot rows: O[:, j] = P[:, j] exposes the probabilities.
                v1 = torch.zeros_like(v)
                v1[0, :, 0, :sk] = torch.eye(sk, d, device="cuda", dtype=v.dtype)[:, :sk]
                out1 = fa4.flash_attn_func(q, k, v1)
                ref1, _ = attention_ref(q, k, v1, False, 1 / math.sqrt(d))
                report("  probabilities (V = I)", out1, ref1)


if __name__ == "__main__":
    main()
