"""Combinations of a window (or causal), softcap and ALiBi, with and without
dropout, which have no kernel of their own: the runtime runs them on the
switchable kernel (ScoreMods::makeSwitchable), each absent modification
switched off by its neutral value. Checked on the GPU with the SPEC's
correctness rule against reference.attention_ref (dropout: with the kernel's
keep mask re-implemented in torch, test_dropout.keep_mask), on the dense,
varlen and paged paths. The KV-cache combinations are in test_kvcache.py
(test_score_mods). Without torch or a CUDA GPU these tests report
SKIPPED."""

import os
import random
import sys
import zlib

import pytest

sys.path.insert(0, os.path.dirname(__file__))

torch = pytest.importorskip("torch", reason="torch is not installed")
import fa4  # noqa: E402

from reference import check  # noqa: E402
from test_dropout import keep_mask  # noqa: E402
from test_varlen import _check_per_sequence, _cu, _page  # noqa: E402

HAS_GPU = torch.cuda.is_available()
requires_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

# FlashAttention-2 takes each of these; fa4 has a kernel for none of them.
COMBOS = {
    "window-softcap": {"window_size": (48, 16), "softcap": 6.0},
    "window-alibi": {"window_size": (100, 0), "alibi": True},
    "softcap-alibi": {"softcap": 6.0, "alibi": True},
    "causal-softcap-alibi": {"causal": True, "softcap": 6.0, "alibi": True},
    "window-softcap-alibi": {"window_size": (-1, 40), "softcap": 6.0, "alibi": True},
}
DROPOUT_COMBOS = {
    "window": {"window_size": (64, 8)},
    "softcap": {"softcap": 6.0},
    "alibi": {"alibi": True},
    "causal-alibi": {"causal": True, "alibi": True},
    "window-softcap-alibi": {"window_size": (30, 30), "softcap": 6.0, "alibi": True},
}


def _inputs(batch, sq, sk, heads, d, dtype, seed):
    """q scaled by 3 so that a softcap of 6 bites."""
    gen = torch.Generator(device="cuda").manual_seed(seed)
    dt = getattr(torch, dtype)
    q = torch.randn(batch, sq, heads[0], d, device="cuda", generator=gen) * 3.0
    k = torch.randn(batch, sk, heads[1], d, device="cuda", generator=gen)
    v = torch.randn(batch, sk, heads[1], d, device="cuda", generator=gen)
    return q.to(dt), k.to(dt), v.to(dt)


def _split(mods, nheads, batch=None, seed=0):
    """(call kwargs, check kwargs, causal) for a combination; ALiBi slopes
    per head, or per (batch, head) when `batch` is given."""
    mods = dict(mods)
    causal = mods.pop("causal", False)
    call, ref = {}, {}
    if mods.pop("alibi", False):
        gen = torch.Generator(device="cuda").manual_seed(seed + 1)
        shape = (nheads,) if batch is None else (batch, nheads)
        slopes = torch.rand(shape, device="cuda", generator=gen) * 0.3
        call["alibi_slopes"] = ref["alibi_slopes"] = slopes
    if "window_size" in mods:
        call["window_size"] = mods["window_size"]
        ref["window"] = mods["window_size"]
    if "softcap" in mods:
        call["softcap"] = ref["softcap"] = mods["softcap"]
    return call, ref, causal


@requires_gpu
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("heads", [(8, 2), (4, 4)], ids=lambda h: f"h{h[0]}-{h[1]}")
@pytest.mark.parametrize("d", [64, 96, 128, 192, 256])
@pytest.mark.parametrize("sq, sk", [(128, 128), (113, 203), (1, 77), (300, 64), (1000, 1000)])
@pytest.mark.parametrize("combo", list(COMBOS), ids=str)
def test_dense(combo, sq, sk, d, heads, dtype):
    key = zlib.crc32(repr((combo, sq, sk, d, heads, dtype)).encode())
    q, k, v = _inputs(2, sq, sk, heads, d, dtype, key)
    call, ref, causal = _split(COMBOS[combo], heads[0], batch=2 if key % 2 else None, seed=key)
    out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True, **call)
    torch.cuda.synchronize()
    check(out, lse, q, k, v, causal, **ref)


@requires_gpu
@pytest.mark.parametrize("layout", ["packed", "paged16", "paged64"])
@pytest.mark.parametrize("d", [64, 128, 256])
@pytest.mark.parametrize("combo", list(COMBOS), ids=str)
def test_varlen_and_paged(combo, d, layout):
    key = zlib.crc32(repr((combo, d, layout)).encode())
    rng = random.Random(key)
    lq, lk = [37, 0, 128, 201, 700], [64, 5, 300, 201, 650]
    hq, hk = 8, 2
    gen = torch.Generator(device="cuda").manual_seed(key)
    q = (torch.randn(sum(lq), hq, d, device="cuda", generator=gen) * 3.0).to(torch.bfloat16)
    k = torch.randn(sum(lk), hk, d, device="cuda", generator=gen).to(torch.bfloat16)
    v = torch.randn(sum(lk), hk, d, device="cuda", generator=gen).to(torch.bfloat16)
    call, ref, causal = _split(COMBOS[combo], hq, seed=key)
    kk, vv = k, v
    if layout != "packed":
        kk, vv, table = _page(k, v, lk, int(layout[5:]), rng)
        call["block_table"] = table
    out, lse = fa4.flash_attn_varlen_func(q, kk, vv, _cu(lq), _cu(lk), max(lq), max(lk),
                                          causal=causal, return_lse=True, **call)
    torch.cuda.synchronize()
    _check_per_sequence(out, lse, q, k, v, lq, lk, causal, combo, **ref)


@requires_gpu
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("d", [64, 128, 256])
@pytest.mark.parametrize("sq, sk", [(128, 128), (113, 203), (300, 64)])
@pytest.mark.parametrize("combo", list(DROPOUT_COMBOS), ids=str)
def test_dropout_dense(combo, sq, sk, d, dtype):
    hq, hk, p = 8, 2, 0.2
    key = zlib.crc32(repr((combo, sq, sk, d, dtype)).encode())
    q, k, v = _inputs(2, sq, sk, (hq, hk), d, dtype, key)
    call, ref, causal = _split(DROPOUT_COMBOS[combo], hq, seed=key)
    torch.manual_seed(77)
    out, lse = fa4.flash_attn_func(q, k, v, dropout_p=p, causal=causal, return_lse=True,
                                   **call)
    mask = keep_mask(77, 0, 0, hq, sq, sk, p, "cuda", batch=2)
    check(out, lse, q, k, v, causal, dropout=(mask, p), **ref)


@requires_gpu
@pytest.mark.parametrize("paged", [False, True], ids=["varlen", "paged"])
@pytest.mark.parametrize("combo", list(DROPOUT_COMBOS), ids=str)
def test_dropout_varlen_and_paged(combo, paged):
    rng = random.Random(5)
    lq, lk = [37, 0, 128, 201], [64, 5, 300, 201]
    hq, hk, d, p = 8, 2, 128, 0.3
    gen = torch.Generator(device="cuda").manual_seed(4)
    q = (torch.randn(sum(lq), hq, d, device="cuda", generator=gen) * 3.0).to(torch.bfloat16)
    k = torch.randn(sum(lk), hk, d, device="cuda", generator=gen).to(torch.bfloat16)
    v = torch.randn(sum(lk), hk, d, device="cuda", generator=gen).to(torch.bfloat16)
    call, ref, causal = _split(DROPOUT_COMBOS[combo], hq, seed=9)
    kk, vv = k, v
    if paged:
        kk, vv, table = _page(k, v, lk, 64, rng)
        call["block_table"] = table
    torch.manual_seed(99)
    out, lse = fa4.flash_attn_varlen_func(q, kk, vv, _cu(lq), _cu(lk), max(lq), max(lk),
                                          dropout_p=p, causal=causal, return_lse=True, **call)
    sq = sk = 0
    for b, (nq, nk) in enumerate(zip(lq, lk)):
        if nq:
            mask = keep_mask(99, 0, b * hq, hq, nq, nk, p, "cuda")
            check(out[sq:sq + nq].unsqueeze(0), lse[:, sq:sq + nq].unsqueeze(0),
                  q[sq:sq + nq].unsqueeze(0), k[sk:sk + nk].unsqueeze(0),
                  v[sk:sk + nk].unsqueeze(0), causal, dropout=(mask, p), **ref)
        sq += nq
        sk += nk


@requires_gpu
def test_switched_off_modifications_change_nothing():
    """Causal + softcap + ALiBi has no kernel of its own: the switchable
    kernel runs it, causal as the window (-1, 0). With slopes of 0 the bias
    is -0 on every score, so it equals the cp.async causal + softcap kernel
    (the same tile configuration) bit for bit, output and LSE."""
    q, k, v = _inputs(1, 300, 300, (8, 8), 128, "bfloat16", 3)
    zero = torch.zeros(8, device="cuda")
    a, lse_a = fa4.flash_attn_func(q, k, v, causal=True, softcap=6.0, alibi_slopes=zero,
                                   return_lse=True)
    b, lse_b = fa4.flash_attn_func(q, k, v, causal=True, softcap=6.0, return_lse=True,
                                   load_path="cp_async")
    torch.cuda.synchronize()
    assert torch.equal(a, b) and torch.equal(lse_a, lse_b)
    check(a, lse_a, q, k, v, True, softcap=6.0)
