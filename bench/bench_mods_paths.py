"""d = 64/96 with one score modification through auto dispatch: dense,
varlen (mixed lengths, bench_varlen.lengths) and paged (page 64, pages
permuted), bf16, 16384 tokens, hidden 2048. Prints one JSON row per shape;
run it once per library (FA4_LIBRARY) in one session to compare two
builds (bench/RESULTS.md, run 55).

    FA4_LIBRARY=... PYTHONPATH=python python3 bench/bench_mods_paths.py
"""
import json, os, random, sys
sys.path.insert(0, "bench"); sys.path.insert(0, "python/tests")
import torch, triton.testing, fa4
from test_varlen import _cu, _page
from bench_varlen import lengths
lib = os.environ["FA4_LIBRARY"]
MODS = {64: {"window": dict(window_size=(256, 0)), "softcap": dict(softcap=30.0),
             "alibi": dict(alibi=True), "causal_alibi": dict(causal=True, alibi=True),
             "causal_softcap": dict(causal=True, softcap=30.0)},
        96: {"window": dict(window_size=(256, 0)), "window_sym": dict(window_size=(512, 512))}}
def kw(mods, slopes):
    m = dict(mods)
    if m.pop("alibi", False):
        m["alibi_slopes"] = slopes
    return m
t = lambda fn: triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median")
for d, mods_of in MODS.items():
    h = 2048 // d
    for s in (2048, 8192):
        rng = random.Random(s)
        torch.manual_seed(0)
        b = 16384 // s
        q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        lq = lengths(s, 16384, rng)
        qv = torch.randn(sum(lq), h, d, device="cuda", dtype=torch.bfloat16)
        kv_, vv_ = torch.randn_like(qv), torch.randn_like(qv)
        kc, vc, table = _page(kv_, vv_, lq, 64, rng)
        cu = _cu(lq)
        slopes = torch.rand(h, device="cuda") * 0.3
        for name, mods in mods_of.items():
            m = kw(mods, slopes)
            row = dict(lib=lib, d=d, s=s, mod=name)
            row["dense"] = t(lambda: fa4.flash_attn_func(q, k, v, **m))
            row["varlen"] = t(lambda: fa4.flash_attn_varlen_func(qv, kv_, vv_, cu, cu, max(lq), max(lq), **m))
            row["paged"] = t(lambda: fa4.flash_attn_varlen_func(qv, kc, vc, cu, cu, max(lq), max(lq), block_table=table, **m))
            print(json.dumps(row), flush=True)
