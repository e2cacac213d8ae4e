"""Block-sparse time against density: fa4 with random block lists (128 x 128
blocks, each row listing round(density * n) key blocks) beside the dense fa4
kernel and FlashAttention-2 (SDPA FLASH) at density 1, in one run (CUDA
events via triton.testing.do_bench, median, ms). Time should track the
visited blocks: the "per block" column is time / (visited blocks / all
blocks), normalized to the dense kernel.

    PYTHONPATH=python python3 bench/bench_block_sparse.py
"""
import os
import random
import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4  # noqa: E402
from timing import timed  # noqa: E402


def lists(batch, heads, m_blocks, n_blocks, density, kind, causal, rng):
    """Per row, round(density * visible) distinct random key blocks (visible:
    all, or with causal the blocks at or left of the diagonal, the diagonal
    block always in the mask list); `kind` "full" or "mask" for the rest."""
    cap = n_blocks
    mask_cnt = torch.zeros(batch, heads, m_blocks, dtype=torch.int32)
    full_cnt = torch.zeros_like(mask_cnt)
    mask_idx = torch.zeros(batch, heads, m_blocks, cap, dtype=torch.int32)
    full_idx = torch.zeros_like(mask_idx)
    visited = 0
    for b in range(batch):
        for h in range(heads):
            for i in range(m_blocks):
                visible = i + 1 if causal else n_blocks
                chosen = rng.sample(range(visible), max(1, round(density * visible)))
                diag = [i] if causal and i in chosen else []
                rest = [j for j in chosen if j not in diag]
                masked = diag + (rest if kind == "mask" else [])
                full = rest if kind == "full" else []
                mask_cnt[b, h, i], full_cnt[b, h, i] = len(masked), len(full)
                mask_idx[b, h, i, :len(masked)] = torch.tensor(masked, dtype=torch.int32)
                full_idx[b, h, i, :len(full)] = torch.tensor(full, dtype=torch.int32)
                visited += len(chosen)
    tensors = [t.cuda() for t in (mask_cnt, mask_idx, full_cnt, full_idx)]
    return fa4.BlockSparseTensors(*tensors), visited


def main():
    print(torch.cuda.get_device_name())
    rng = random.Random(0)
    for d, causal, s in ((128, False, 8192), (128, True, 8192), (64, False, 8192)):
        batch, heads = 2, 2048 // d
        q, k, v = (torch.randn(batch, s, heads, d, device="cuda", dtype=torch.bfloat16)
                   for _ in range(3))
        flops = 4 * batch * heads * s * s * d / (2 if causal else 1)
        dense = timed(lambda: fa4.flash_attn_func(q, k, v, causal=causal))
        qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            fa2 = timed(lambda: torch.nn.functional.scaled_dot_product_attention(
                qt, kt, vt, is_causal=causal))
        print(f"d={d} {'causal' if causal else 'full'} s={s} b={batch} h={heads}: "
              f"fa4 dense {dense:.3f} ms ({flops / dense / 1e9:.0f} TF/s), "
              f"FA2 {fa2:.3f} ms ({flops / fa2 / 1e9:.0f} TF/s)", flush=True)
        m = n = s // 128
        all_blocks = batch * (m * (m + 1) // 2 if causal else m * n)
        for kind in ("full", "mask"):
            for density in (0.1, 0.25, 0.5, 0.75, 1.0):
                bs, visited = lists(batch, 1, m, n, density, kind, causal, rng)
                t = timed(lambda: fa4.flash_attn_func(q, k, v, causal=causal,
                                                      block_sparse_tensors=bs))
                frac = visited / all_blocks
                print(f"  {kind:4s} density {density:.2f} (visited {frac:.3f}): {t:.3f} ms, "
                      f"x dense {t / dense:.3f}, per block {t / frac / dense:.3f}", flush=True)


if __name__ == "__main__":
    main()
