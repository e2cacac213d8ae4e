"""Four warps of 32 rows for d = 64/96 kernels with a score modification
(bench/RESULTS.md, run 54): variants `fa4_fwd_bf16_hd{64,96}_<mod>_w4`
(the kernels' definitions with `tile(128, 64) warps(4)
q_in_registers(false)`, compiled for the GPU's target into a folder named
by FA4_KERNEL_PATH) forced by name against the embedded kernel auto
dispatch picks, in one process; each variant's output checked against the
reference on a ragged shape first.

    FA4_KERNEL_PATH=variants PYTHONPATH=python python3 bench/probe_four_warps_mods.py
"""
import os, sys, json
sys.path.insert(0, "python/tests"); sys.path.insert(0, "bench")
import torch, triton.testing, fa4
from reference import check
MODS = {
    "window": dict(window_size=(256, 0)),
    "softcap": dict(softcap=30.0),
    "alibi": dict(alibi=True),
    "causal_softcap": dict(causal=True, softcap=30.0),
    "causal_alibi": dict(causal=True, alibi=True),
}
def call(q, k, v, mods, slopes, name=None):
    m = dict(mods)
    if m.pop("alibi", False):
        m["alibi_slopes"] = slopes
    if name:
        os.environ["FA4_KERNEL"] = name
    try:
        return fa4.flash_attn_func(q, k, v, **m)
    finally:
        os.environ.pop("FA4_KERNEL", None)
rows = []
for dtype in ("bfloat16",):
    for d in (64, 96):
        h = 2048 // d
        for mod, mods in MODS.items():
            name = f"fa4_fwd_bf16_hd{d}_{mod}_w4"
            # correctness on a ragged shape, against the reference
            torch.manual_seed(1)
            q, k, v = (torch.randn(2, n, 8, d, device="cuda", dtype=torch.bfloat16) * s
                       for n, s in ((333, 4.0), (517, 1.0), (517, 1.0)))
            sl = torch.rand(8, device="cuda") * 0.3
            out = call(q, k, v, mods, sl, name)
            ref_mods = {"window": mods.get("window_size", (-1, -1)), "softcap": mods.get("softcap", 0.0),
                        "alibi_slopes": sl if mods.get("alibi") else None}
            check(out, None, q, k, v, mods.get("causal", False), **ref_mods)
            for s in (1024, 4096, 16384):
                b = 16384 // s
                q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
                sl = torch.rand(h, device="cuda") * 0.3
                a = call(q, k, v, mods, sl)
                w = call(q, k, v, mods, sl, name)
                diff = (a.float() - w.float()).abs().max().item()
                t_auto = triton.testing.do_bench(lambda: call(q, k, v, mods, sl), warmup=25, rep=100, return_mode="median")
                t_w4 = triton.testing.do_bench(lambda: call(q, k, v, mods, sl, name), warmup=25, rep=100, return_mode="median")
                row = dict(d=d, mod=mod, s=s, auto_ms=t_auto, w4_ms=t_w4, speedup=t_auto / t_w4, maxdiff=diff)
                rows.append(row)
                print(json.dumps(row), flush=True)
print("| d | mod | s | auto ms | 4 warps ms | speedup |")
print("|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['d']} | {r['mod']} | {r['s']} | {r['auto_ms']:.3f} | {r['w4_ms']:.3f} | {r['speedup']:.3f} |")
