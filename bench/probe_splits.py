"""Split counts for batch-1 decode: fa4 with every fixed num_splits beside
num_splits = 0 and FlashAttention-2 (SDPA FLASH), CUDA-graph medians, us.

    PYTHONPATH=python python3 bench/probe_splits.py
"""
import sys, os, torch, triton.testing
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import fa4
from torch.nn.attention import SDPBackend, sdpa_kernel
def timed(fn):
    fn(); torch.cuda.synchronize()
    return triton.testing.do_bench_cudagraph(fn, rep=60, return_mode="median")
for hq, hk, sk in ((32, 8, 131072), (32, 8, 65536), (64, 8, 65536)):
    q = torch.randn(1, 1, hq, 128, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(1, sk, hk, 128, device="cuda", dtype=torch.bfloat16); v = torch.randn_like(k)
    s = torch.full((1,), sk, dtype=torch.int32, device="cuda")
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        fa2 = timed(lambda: torch.nn.functional.scaled_dot_product_attention(q.transpose(1,2), k.transpose(1,2), v.transpose(1,2), enable_gqa=True))
    res = {n: timed(lambda: fa4.flash_attn_with_kvcache(q, k, v, cache_seqlens=s, num_splits=n)) for n in (0, 8, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128)}
    print(f"{hq}/{hk} sk{sk}: fa2 {fa2*1e3:.1f} us | " + " ".join(f"{n}:{t*1e3:.1f}" for n, t in res.items()), flush=True)
