"""compute-sanitizer driver: every switchable kernel path once (dense,
varlen, paged 16, KV cache with 1 and 3 splits; with and without dropout),
small shapes (bench/RESULTS.md, run 53).

    compute-sanitizer --tool racecheck python3 bench/sanitize_switchable.py
(from the repository root, FA4_LIBRARY and PYTHONPATH=python set)
"""
import sys, random
sys.path.insert(0, "python/tests")
import torch, fa4
from test_combinations import COMBOS, DROPOUT_COMBOS, _inputs, _split
from test_varlen import _cu, _page
for name, mods in COMBOS.items():
    q, k, v = _inputs(2, 113, 203, (8, 2), 128, "bfloat16", 1)
    call, _, causal = _split(mods, 8)
    fa4.flash_attn_func(q, k, v, causal=causal, **call)
for name, mods in DROPOUT_COMBOS.items():
    q, k, v = _inputs(2, 113, 203, (8, 2), 64, "bfloat16", 1)
    call, _, causal = _split(mods, 8)
    fa4.flash_attn_func(q, k, v, causal=causal, dropout_p=0.2, **call)
lq, lk = [37, 0, 128, 201], [64, 5, 300, 201]
q = torch.randn(sum(lq), 8, 128, device="cuda", dtype=torch.bfloat16)
k = torch.randn(sum(lk), 2, 128, device="cuda", dtype=torch.bfloat16)
v = torch.randn(sum(lk), 2, 128, device="cuda", dtype=torch.bfloat16)
kk, vv, table = _page(k, v, lk, 16, random.Random(0))
for drop in (0.0, 0.3):
    for mods in (COMBOS["window-softcap-alibi"], COMBOS["causal-softcap-alibi"]):
        call, _, causal = _split(mods, 8)
        fa4.flash_attn_varlen_func(q, k, v, _cu(lq), _cu(lk), 201, 300, dropout_p=drop, causal=causal, **call)
        fa4.flash_attn_varlen_func(q, kk, vv, _cu(lq), _cu(lk), 201, 300, dropout_p=drop, causal=causal,
                                   block_table=table, **call)
qd = torch.randn(2, 3, 8, 128, device="cuda", dtype=torch.bfloat16)
kc = torch.randn(2, 256, 2, 128, device="cuda", dtype=torch.bfloat16)
for splits in (1, 3):
    fa4.flash_attn_with_kvcache(qd, kc, kc, cache_seqlens=torch.tensor([256, 77], dtype=torch.int32, device="cuda"),
                                window_size=(64, 0), softcap=6.0, num_splits=splits)
torch.cuda.synchronize()
print("sanitizer driver done")
