"""Local windows and softcap on the GPU, dense and varlen (packed and paged),
checked with the SPEC's correctness rule against reference.attention_ref,
which applies each feature from FlashAttention-2's description, not from
fa4's code. Without torch or a CUDA GPU these tests report SKIPPED."""

import math
import os
import random
import sys
import zlib

import pytest

sys.path.insert(0, os.path.dirname(__file__))

torch = pytest.importorskip("torch", reason="torch is not installed")
import fa4  # noqa: E402
from fa4 import _launch  # noqa: E402

from reference import check, visible_keys  # noqa: E402
from test_varlen import _check_per_sequence, _cu, _lengths, _packed, _page  # noqa: E402

HAS_GPU = torch.cuda.is_available()
requires_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

HEADS = [(8, 8), (32, 8), (40, 8), (8, 1)]
DTYPES = ["bfloat16", "float16"]
HEAD_DIMS = [64, 96, 128]
SEQLENS = [(1, 1), (113, 203), (239, 17), (1000, 1000), (4224, 4224)]
# Fixed windows (0, larger than every sequence, one-sided, causal-like) and
# random ones, drawn per test.
WINDOWS = [(0, 0), (5000, 5000), (-1, 0), (64, -1), (-1, 100), (0, 7), "random", "random"]


def _window(spec, rng, seqlen_k):
    if spec != "random":
        return spec
    return (rng.randint(0, max(seqlen_k, 1) + 64), rng.randint(0, max(seqlen_k, 1) + 64))


def _inputs(batch, seqlen_q, seqlen_k, heads, d, dtype, seed, q_scale=1.0):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    dt = getattr(torch, dtype)
    q = torch.randn(batch, seqlen_q, heads[0], d, device="cuda", generator=gen) * q_scale
    k = torch.randn(batch, seqlen_k, heads[1], d, device="cuda", generator=gen)
    v = torch.randn(batch, seqlen_k, heads[1], d, device="cuda", generator=gen)
    return q.to(dt), k.to(dt), v.to(dt)


def _dense(q, k, v, causal, window, softcap, path):
    """Into NaN-poisoned out and lse: an element not written fails."""
    b, sq, h, _ = q.shape
    out = torch.full((b, sq, h, v.shape[3]), float("nan"), dtype=q.dtype, device="cuda")
    lse = torch.full((b, h, sq), float("nan"), dtype=torch.float32, device="cuda")
    _launch.forward(q, k, v, out, lse, 1.0 / math.sqrt(q.shape[-1]), causal, path,
                       window, softcap)
    torch.cuda.synchronize()
    return out, lse


@requires_gpu
@pytest.mark.parametrize("seqlens", SEQLENS, ids=lambda s: f"sq{s[0]}-sk{s[1]}")
@pytest.mark.parametrize("window", WINDOWS, ids=str)
@pytest.mark.parametrize("d", HEAD_DIMS, ids=lambda d: f"d{d}")
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", ["cp_async", "tma", "auto"])
def test_dense_window(path, dtype, causal, d, window, seqlens):
    if path == "tma" and d == 64:
        pytest.skip("no TMA kernel at d = 64 (the dispatch runs cp.async there)")
    key = repr((path, dtype, causal, d, window, seqlens))
    rng = random.Random(zlib.crc32(key.encode()))
    heads = HEADS[rng.randrange(len(HEADS))]
    window = _window(window, rng, seqlens[1])
    q, k, v = _inputs(2, *seqlens, heads, d, dtype, zlib.crc32(key.encode()))
    out, lse = _dense(q, k, v, causal, window, 0.0, path)
    check(out, lse, q, k, v, causal, window=window)


@requires_gpu
@pytest.mark.parametrize("seqlens", SEQLENS, ids=lambda s: f"sq{s[0]}-sk{s[1]}")
@pytest.mark.parametrize("softcap", [2.0, 10.0])
@pytest.mark.parametrize("d", HEAD_DIMS, ids=lambda d: f"d{d}")
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", ["cp_async", "tma", "auto"])
def test_dense_softcap(path, dtype, causal, d, softcap, seqlens):
    """q scaled by 4: scaled scores of std ~4, so the cap bites."""
    if path == "tma" and d == 64:
        pytest.skip("no TMA kernel at d = 64 (the dispatch runs cp.async there)")
    key = repr((path, dtype, causal, d, softcap, seqlens))
    heads = HEADS[zlib.crc32(key.encode()) % len(HEADS)]
    q, k, v = _inputs(2, *seqlens, heads, d, dtype, zlib.crc32(key.encode()), q_scale=4.0)
    out, lse = _dense(q, k, v, causal, (-1, -1), softcap, path)
    check(out, lse, q, k, v, causal, softcap=softcap)


@requires_gpu
@pytest.mark.parametrize("d", HEAD_DIMS, ids=lambda d: f"d{d}")
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("heads", HEADS, ids=lambda h: f"h{h[0]}-{h[1]}")
@pytest.mark.parametrize("mod", ["window", "softcap"])
@pytest.mark.parametrize("layout", ["packed", "paged16", "paged48", "paged256"])
def test_varlen_masks(layout, mod, heads, dtype, causal, d):
    key = repr((layout, mod, heads, dtype, causal, d))
    rng = random.Random(zlib.crc32(key.encode()))
    gen = torch.Generator(device="cuda").manual_seed(zlib.crc32(key.encode()))
    lq, lk = _lengths(rng, 5)
    scale = 4.0 if mod == "softcap" else 1.0
    q = (_packed(sum(lq), heads[0], d, "float32", gen) * scale).to(getattr(torch, dtype))
    k = _packed(sum(lk), heads[1], d, dtype, gen)
    v = _packed(sum(lk), heads[1], d, dtype, gen)
    window = (rng.randint(0, 300), rng.choice([-1, 0, rng.randint(0, 300)]))
    mods = {"window": window} if mod == "window" else {"softcap": 5.0}
    kv = (k, v)
    table = None
    if layout != "packed":
        kc, vc, table = _page(k, v, lk, int(layout[5:]), rng)
        kv = (kc, vc)
    total_q, h, _ = q.shape
    out = torch.full((total_q, h, d), float("nan"), dtype=q.dtype, device="cuda")
    lse = torch.full((h, total_q), float("nan"), dtype=torch.float32, device="cuda")
    _launch.varlen_forward(q, *kv, out, lse, _cu(lq), _cu(lk), None, table, max(lq), max(lk),
                           1.0 / math.sqrt(d), causal, mods.get("window", (-1, -1)),
                           mods.get("softcap", 0.0))
    torch.cuda.synchronize()
    _check_per_sequence(out, lse, q, k, v, lq, lk, causal, key, **mods)


@requires_gpu
def test_public_api_window_and_softcap():
    """flash_attn_func and flash_attn_varlen_func take FA2's arguments."""
    q, k, v = _inputs(2, 300, 500, (16, 4), 128, "bfloat16", 7, q_scale=3.0)
    out, lse = fa4.flash_attn_func(q, k, v, causal=True, window_size=(100, -1),
                                   return_lse=True)
    torch.cuda.synchronize()
    check(out, lse, q, k, v, True, window=(100, -1))
    out, lse = fa4.flash_attn_func(q, k, v, softcap=8.0, return_lse=True)
    torch.cuda.synchronize()
    check(out, lse, q, k, v, False, softcap=8.0)
    lq = lk = [300, 300]
    qp, kp, vp = q.reshape(600, 16, 128), k[:, :300].reshape(600, 4, 128), \
        v[:, :300].reshape(600, 4, 128)
    out, lse = fa4.flash_attn_varlen_func(qp, kp, vp, _cu(lq), _cu(lk), 300, 300,
                                          window_size=(32, 32), return_lse=True)
    torch.cuda.synchronize()
    _check_per_sequence(out, lse, qp, kp, vp, lq, lk, False, "public varlen", window=(32, 32))


@requires_gpu
def test_empty_windows_give_zero_and_neg_inf():
    """Rows whose window holds no key: O = 0 and LSE = -inf, never NaN."""
    q, k, v = _inputs(1, 600, 100, (4, 4), 64, "float16", 8)
    # Diagonal of row i is i - 500: rows 0..499 see nothing with (0, 0).
    out, lse = _dense(q, k, v, False, (0, 0), 0.0, "auto")
    keep = visible_keys(600, 100, False, (0, 0), "cuda")
    empty = ~keep.any(dim=1)
    assert empty.sum().item() == 500
    assert torch.all(out[0, empty] == 0) and torch.all(torch.isneginf(lse[0][:, empty]))
    check(out, lse, q, k, v, False, window=(0, 0))


@requires_gpu
def test_causal_window_equals_causal_kernel_when_unbounded():
    """A window (-1, 0) runs the causal kernel: bit-identical to causal=True."""
    q, k, v = _inputs(1, 700, 900, (8, 2), 128, "bfloat16", 9)
    a = fa4.flash_attn_func(q, k, v, causal=True)
    b = fa4.flash_attn_func(q, k, v, window_size=(-1, 0))
    c = fa4.flash_attn_func(q, k, v, window_size=(900, 0))
    torch.cuda.synchronize()
    assert torch.equal(a, b) and torch.equal(a, c)


@requires_gpu
def test_packed_forms_equal_the_unpacked_calls():
    """The packed entry points pass views: bit-identical to the unpacked call."""
    gen = torch.Generator(device="cuda").manual_seed(11)
    qkv = torch.randn(2, 257, 3, 8, 64, device="cuda", generator=gen).to(torch.bfloat16)
    q, k, v = qkv.unbind(2)
    mods = {"causal": True, "window_size": (40, -1)}
    ref = fa4.flash_attn_func(q, k, v, **mods)
    got = fa4.flash_attn_qkvpacked_func(qkv, **mods)
    kv = torch.stack([k[:, :, :2], v[:, :, :2]], dim=2)
    ref_kv = fa4.flash_attn_func(q, k[:, :, :2], v[:, :, :2], softcap=6.0)
    got_kv = fa4.flash_attn_kvpacked_func(q, kv, softcap=6.0)
    # The sequences cover every row: rows past cu_seqlens[-1] are left
    # unwritten (as FlashAttention-2 leaves them), so they would compare
    # uninitialized memory.
    lens = [100, 157, 257]
    flat = qkv.reshape(514, 3, 8, 64)
    cu = _cu(lens)
    ref_v = fa4.flash_attn_varlen_func(flat[:, 0], flat[:, 1], flat[:, 2], cu, cu, 257, 257,
                                       window_size=(16, 16))
    got_v = fa4.flash_attn_varlen_qkvpacked_func(flat, cu, 257, window_size=(16, 16))
    got_vkv = fa4.flash_attn_varlen_kvpacked_func(flat[:, 0], flat[:, 1:], cu, cu, 257, 257,
                                                  window_size=(16, 16))
    torch.cuda.synchronize()
    assert torch.equal(ref, got) and torch.equal(ref_kv, got_kv)
    assert torch.equal(ref_v, got_v) and torch.equal(ref_v, got_vkv)
    check(got, None, q, k, v, True, window=(40, -1))
    with pytest.raises(ValueError, match="qkv must be \\(batch, seqlen, 3, nheads, headdim\\)"):
        fa4.flash_attn_qkvpacked_func(q)


def _slopes(batch, heads, per_batch, gen):
    shape = (batch, heads) if per_batch else (heads,)
    return torch.rand(shape, device="cuda", generator=gen) * 0.3


@requires_gpu
@pytest.mark.parametrize("seqlens", SEQLENS, ids=lambda s: f"sq{s[0]}-sk{s[1]}")
@pytest.mark.parametrize("per_batch", [False, True], ids=["H", "BH"])
@pytest.mark.parametrize("d", HEAD_DIMS, ids=lambda d: f"d{d}")
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", ["cp_async", "tma", "auto"])
def test_dense_alibi(path, dtype, causal, d, per_batch, seqlens):
    if path == "tma" and d == 64:
        pytest.skip("no TMA kernel at d = 64 (the dispatch runs cp.async there)")
    key = repr(("alibi", path, dtype, causal, d, per_batch, seqlens))
    seed = zlib.crc32(key.encode())
    heads = HEADS[seed % len(HEADS)]
    q, k, v = _inputs(2, *seqlens, heads, d, dtype, seed)
    gen = torch.Generator(device="cuda").manual_seed(seed)
    slopes = _slopes(2, heads[0], per_batch, gen)
    b, sq, h, _ = q.shape
    out = torch.full((b, sq, h, d), float("nan"), dtype=q.dtype, device="cuda")
    lse = torch.full((b, h, sq), float("nan"), dtype=torch.float32, device="cuda")
    _launch.forward(q, k, v, out, lse, 1.0 / math.sqrt(d), causal, path, (-1, -1), 0.0,
                       slopes)
    torch.cuda.synchronize()
    check(out, lse, q, k, v, causal, alibi_slopes=slopes)


@requires_gpu
@pytest.mark.parametrize("d", HEAD_DIMS, ids=lambda d: f"d{d}")
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("heads", HEADS, ids=lambda h: f"h{h[0]}-{h[1]}")
@pytest.mark.parametrize("layout", ["packed", "paged16", "paged256"])
def test_varlen_alibi(layout, heads, dtype, causal, d):
    key = repr(("alibi", layout, heads, dtype, causal, d))
    rng = random.Random(zlib.crc32(key.encode()))
    gen = torch.Generator(device="cuda").manual_seed(zlib.crc32(key.encode()))
    lq, lk = _lengths(rng, 5)
    q = _packed(sum(lq), heads[0], d, dtype, gen)
    k = _packed(sum(lk), heads[1], d, dtype, gen)
    v = _packed(sum(lk), heads[1], d, dtype, gen)
    slopes = _slopes(5, heads[0], True, gen)
    kv, table = (k, v), None
    if layout != "packed":
        kc, vc, table = _page(k, v, lk, int(layout[5:]), rng)
        kv = (kc, vc)
    total_q, h, _ = q.shape
    out = torch.full((total_q, h, d), float("nan"), dtype=q.dtype, device="cuda")
    lse = torch.full((h, total_q), float("nan"), dtype=torch.float32, device="cuda")
    _launch.varlen_forward(q, *kv, out, lse, _cu(lq), _cu(lk), None, table, max(lq), max(lk),
                           1.0 / math.sqrt(d), causal, (-1, -1), 0.0, slopes)
    torch.cuda.synchronize()
    # Sequence b uses row b of the (batch, nheads) slopes.
    sq = sk = 0
    for b, (nq, nk) in enumerate(zip(lq, lk)):
        if nq:
            lse_b = lse[:, sq:sq + nq].unsqueeze(0)
            try:
                check(out[sq:sq + nq].unsqueeze(0), lse_b, q[sq:sq + nq].unsqueeze(0),
                      k[sk:sk + nk].unsqueeze(0), v[sk:sk + nk].unsqueeze(0), causal,
                      alibi_slopes=slopes[b])
            except AssertionError as e:
                raise AssertionError(f"{key}, sequence {b} ({nq} x {nk}): {e}") from None
        sq += nq
        sk += nk


@requires_gpu
def test_public_api_alibi_and_errors():
    q, k, v = _inputs(2, 300, 500, (16, 4), 64, "float16", 12)
    slopes = torch.rand(16, device="cuda") * 0.2
    out, lse = fa4.flash_attn_func(q, k, v, causal=True, alibi_slopes=slopes, return_lse=True)
    torch.cuda.synchronize()
    check(out, lse, q, k, v, True, alibi_slopes=slopes)
    with pytest.raises(ValueError, match="alibi_slopes must be float32"):
        fa4.flash_attn_func(q, k, v, alibi_slopes=slopes.half())
    with pytest.raises(ValueError, match="alibi_slopes must be \\(nheads=16,\\)"):
        fa4.flash_attn_func(q, k, v, alibi_slopes=slopes[:8])
    with pytest.raises(ValueError, match="alibi_slopes must be on"):
        fa4.flash_attn_func(q, k, v, alibi_slopes=slopes.cpu())
    # A combination runs on the switchable kernel (test_combinations.py);
    # one that no kernel serves (with learnable sinks) is named.
    sinks = torch.zeros(16, device="cuda")
    with pytest.raises(NotImplementedError, match="window \\(8, 8\\) alibi sink"):
        fa4.flash_attn_func(q, k, v, window_size=(8, 8), alibi_slopes=slopes,
                            learnable_sink=sinks)
