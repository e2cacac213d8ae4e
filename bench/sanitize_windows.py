"""compute-sanitizer driver for the window kernels (branch
wip/window-two-copies: both masked window edges visited in one loop): the
cp.async path with windows whose left and right edges both fall inside
the key range, on ragged shapes (Sq != Sk, sizes not multiples of the
tile), dense, varlen, paged and the KV cache (contiguous and paged),
plain and with softcap + ALiBi + dropout, head dims 64, 96 and 128, and
the KV cache at 256 too. Small shapes, one call each.

    compute-sanitizer --tool memcheck python3 bench/sanitize_windows.py
(from the repository root, FA4_LIBRARY and PYTHONPATH=python set)
"""
import random
import sys

sys.path.insert(0, "python/tests")
import torch  # noqa: E402
import fa4  # noqa: E402
from test_kvcache import _paged  # noqa: E402
from test_varlen import _cu, _page  # noqa: E402

WINDOWS = [(40, 0), (70, 33), (0, 90), (129, 129), (5, 300)]
g = torch.Generator(device="cuda").manual_seed(7)


def randn(*shape):
    return torch.randn(*shape, device="cuda", dtype=torch.bfloat16, generator=g)


for d in (64, 96, 128):
    slopes = torch.rand(8, device="cuda", generator=g) * 0.1
    for sq, sk in ((300, 517), (517, 300), (129, 1000)):
        q, k, v = randn(2, sq, 8, d), randn(2, sk, 2, d), randn(2, sk, 2, d)
        for w in WINDOWS:
            fa4.flash_attn_func(q, k, v, window_size=w, load_path="cp_async")
            fa4.flash_attn_func(q, k, v, window_size=w, load_path="cp_async", softcap=20.0,
                                alibi_slopes=slopes, dropout_p=0.2)
    lq, lk = [37, 0, 128, 201], [64, 5, 300, 201]
    q, k, v = randn(sum(lq), 8, d), randn(sum(lk), 2, d), randn(sum(lk), 2, d)
    kk, vv, table = _page(k, v, lk, 16, random.Random(0))
    for w in WINDOWS[:3]:
        for mods in ({}, dict(softcap=20.0, alibi_slopes=slopes, dropout_p=0.2)):
            fa4.flash_attn_varlen_func(q, k, v, _cu(lq), _cu(lk), 201, 300, window_size=w, **mods)
            fa4.flash_attn_varlen_func(q, kk, vv, _cu(lq), _cu(lk), 201, 300, window_size=w,
                                       block_table=table, **mods)

for d in (64, 96, 128, 256):
    slopes = torch.rand(8, device="cuda", generator=g) * 0.1
    qd, kc = randn(2, 3, 8, d), randn(2, 400, 2, d)
    pk, pv, table = _paged(kc[:, :384], kc[:, :384], 16, random.Random(1))
    lens = torch.tensor([400, 177], dtype=torch.int32, device="cuda")
    plens = torch.tensor([384, 177], dtype=torch.int32, device="cuda")
    for w in WINDOWS[:3]:
        for splits in (1, 3):
            for mods in ({}, dict(softcap=6.0, alibi_slopes=slopes)):
                fa4.flash_attn_with_kvcache(qd, kc, kc, cache_seqlens=lens, window_size=w,
                                            num_splits=splits, **mods)
                fa4.flash_attn_with_kvcache(qd, pk, pv, cache_seqlens=plens, block_table=table,
                                            window_size=w, num_splits=splits, **mods)
torch.cuda.synchronize()
print("sanitizer driver done")
