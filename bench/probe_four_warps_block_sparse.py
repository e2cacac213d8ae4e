"""Four warps of 32 rows for the d = 64/96 block-sparse kernels: variants
`fa4_fwd_bf16_hd{64,96}[_causal]_block_sparse_w4` (the definitions with
`tile(128, 64) warps(4) q_in_registers(false)`, in a folder named by
FA4_KERNEL_PATH) forced by name against the embedded kernel, one process,
random 128 x 128 block lists at density 0.5 (half the listed blocks in the
mask list); each variant's output compared with the embedded kernel's.

    FA4_KERNEL_PATH=variants PYTHONPATH=python python3 bench/probe_four_warps_block_sparse.py
"""
import json, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import torch, triton.testing, fa4


def run(q, k, v, causal, bst, name=None):
    if name:
        os.environ["FA4_KERNEL"] = name
    try:
        return fa4.flash_attn_func(q, k, v, causal=causal, block_sparse_tensors=bst)
    finally:
        os.environ.pop("FA4_KERNEL", None)


rows = []
for d in (64, 96):
    h = 2048 // d
    for causal in (False, True):
        for s in (2048, 8192):
            b = 16384 // s
            torch.manual_seed(s + d)
            q, k, v = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            nb = s // 128
            listed = torch.rand(b, h, nb, nb, device="cuda") < 0.5
            if causal:
                listed &= torch.ones(nb, nb, device="cuda", dtype=torch.bool).tril()
            split = torch.rand(b, h, nb, nb, device="cuda") < 0.5
            bst = fa4.BlockSparseTensors.from_masks(listed & split, listed & ~split)
            name = f"fa4_fwd_bf16_hd{d}{'_causal' if causal else ''}_block_sparse_w4"
            a = run(q, k, v, causal, bst)
            w = run(q, k, v, causal, bst, name)
            diff = (a.float() - w.float()).abs().max().item()
            assert diff < 2e-2, (name, s, diff)
            ta = triton.testing.do_bench(lambda: run(q, k, v, causal, bst), warmup=25, rep=100,
                                         return_mode="median")
            tw = triton.testing.do_bench(lambda: run(q, k, v, causal, bst, name), warmup=25,
                                         rep=100, return_mode="median")
            row = dict(d=d, causal=causal, s=s, auto_ms=ta, w4_ms=tw, speedup=ta / tw, maxdiff=diff)
            rows.append(row)
            print(json.dumps(row), flush=True)
print("| d | causal | s | 8 warps ms | 4 warps ms | speedup | max diff |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['d']} | {int(r['causal'])} | {r['s']} | {r['auto_ms']:.3f} | {r['w4_ms']:.3f} | "
          f"{r['speedup']:.3f} | {r['maxdiff']:.1e} |")
