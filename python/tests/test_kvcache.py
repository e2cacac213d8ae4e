"""fa4.flash_attn_with_kvcache: FlashAttention-2's signature and argument
errors (CPU), and on the GPU the decode matrix (Sq 1..128, mixed cache
lengths up to 128k, contiguous and paged caches, split counts 1, 0 and 3,
MHA, GQA and MQA, cache_batch_idx and cache_leftpad) against the reference
entry by entry with the SPEC's correctness rule; appending new k, v with and
without rotary embeddings (interleaved or not, partial rotary dims) checked
in the cache and in the output; and decode steps captured in a CUDA graph
(append, attention, splits, combine) replayed against eager calls. Without a
CUDA GPU the GPU tests report SKIPPED with the reason."""

import inspect
import math
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

torch = pytest.importorskip("torch", reason="torch is not installed")
import fa4  # noqa: E402

from reference import check  # noqa: E402

HAS_GPU = torch.cuda.is_available()
requires_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

FA2_SIGNATURE = [
    ("q", inspect.Parameter.empty), ("k_cache", inspect.Parameter.empty),
    ("v_cache", inspect.Parameter.empty), ("k", None), ("v", None), ("rotary_cos", None),
    ("rotary_sin", None), ("cache_seqlens", None), ("cache_batch_idx", None),
    ("cache_leftpad", None), ("block_table", None), ("softmax_scale", None),
    ("causal", False), ("window_size", (-1, -1)), ("softcap", 0.0),
    ("rotary_interleaved", True), ("alibi_slopes", None), ("num_splits", 0),
    ("return_softmax_lse", False)]


def test_signature_is_flash_attention_2s():
    params = list(inspect.signature(fa4.flash_attn_with_kvcache).parameters.values())
    assert [(p.name, p.default) for p in params] == FA2_SIGNATURE
    assert all(p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params)


def _cpu_args():
    q = torch.zeros(1, 1, 4, 64, dtype=torch.bfloat16)
    cache = torch.zeros(1, 16, 4, 64, dtype=torch.bfloat16)
    return q, cache, cache


@pytest.mark.parametrize("kwargs, error, match", [
    ({"k": torch.zeros(1)}, ValueError, "k and v come together"),
    ({"rotary_cos": torch.zeros(1)}, ValueError, "rotary_cos and rotary_sin come together"),
    ({"rotary_cos": torch.zeros(1), "rotary_sin": torch.zeros(1)}, ValueError,
     "need new keys to rotate"),
    ({"num_splits": 129}, ValueError, "num_splits must be 0"),
    ({"num_splits": -1}, ValueError, "num_splits must be 0"),
    ({"num_splits": 1.5}, TypeError, "num_splits must be an int"),
    ({"cache_seqlens": "3"}, TypeError, "cache_seqlens must be an int or a torch.Tensor"),
    ({"causal": "yes"}, TypeError, "causal"),
])
def test_argument_errors(kwargs, error, match):
    q, k, v = _cpu_args()
    with pytest.raises(error, match=match):
        fa4.flash_attn_with_kvcache(q, k, v, **kwargs)


def test_cpu_tensors_are_value_errors():
    q, k, v = _cpu_args()
    with pytest.raises(ValueError, match="q must be on a CUDA device"):
        fa4.flash_attn_with_kvcache(q, k, v)


# ---- GPU ----------------------------------------------------------------


def _lengths(rng, batch, capacity):
    """Mixed cache lengths in [1, capacity]: one full, one short."""
    lengths = [rng.randint(1, capacity) for _ in range(batch)]
    lengths[0] = capacity
    if batch > 1:
        lengths[1] = rng.randint(1, min(capacity, 17))
    return lengths


def _paged(k_cache, v_cache, page_size, rng):
    """The same cache as pages in a shuffled pool: (pool k, pool v, table)."""
    batch, capacity, heads, dim = k_cache.shape
    per = capacity // page_size
    pages = list(range(batch * per + 3))
    rng.shuffle(pages)
    table = torch.tensor(pages[:batch * per], dtype=torch.int32).view(batch, per)
    pool_k = torch.randn(len(pages), page_size, heads, dim, dtype=k_cache.dtype,
                         device=k_cache.device)
    pool_v = torch.randn(len(pages), page_size, heads, v_cache.shape[3], dtype=v_cache.dtype,
                         device=v_cache.device)
    for b in range(batch):
        for j in range(per):
            pool_k[table[b, j]] = k_cache[b, j * page_size:(j + 1) * page_size]
            pool_v[table[b, j]] = v_cache[b, j * page_size:(j + 1) * page_size]
    return pool_k, pool_v, table.to(k_cache.device)


def _run_and_check(q, k_cache, v_cache, lengths, causal, num_splits, page_size=None,
                   batch_idx=None, leftpad=None, seed=0):
    rng = random.Random(seed)
    seqlens = torch.tensor(lengths, dtype=torch.int32, device=q.device)
    kwargs = dict(cache_seqlens=seqlens, causal=causal, num_splits=num_splits,
                  return_softmax_lse=True)
    k_in, v_in = k_cache, v_cache
    if page_size is not None:
        k_in, v_in, table = _paged(k_cache, v_cache, page_size, rng)
        kwargs["block_table"] = table
    if batch_idx is not None:
        kwargs["cache_batch_idx"] = batch_idx
    if leftpad is not None:
        kwargs["cache_leftpad"] = leftpad
    out, lse = fa4.flash_attn_with_kvcache(q, k_in, v_in, **kwargs)
    torch.cuda.synchronize()
    for b in range(q.shape[0]):
        entry = batch_idx[b].item() if batch_idx is not None else b
        start = leftpad[b].item() if leftpad is not None else 0
        kb = k_cache[entry:entry + 1, start:lengths[b]]
        vb = v_cache[entry:entry + 1, start:lengths[b]]
        check(out[b:b + 1], lse[b:b + 1], q[b:b + 1], kb, vb, causal)
    return out, lse


CASES = []
for sq in (1, 2, 4, 16, 128):
    for heads in ((8, 8), (32, 8), (64, 8), (16, 1)):
        for layout in ("contiguous", 16, 64, 256):
            for splits in (1, 0, 3):
                CASES.append((sq, heads, layout, splits))


@requires_gpu
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("sq, heads, layout, splits", CASES,
                         ids=[f"sq{c[0]}-{c[1][0]}x{c[1][1]}-{c[2]}-s{c[3]}" for c in CASES])
def test_decode_matrix(sq, heads, layout, splits, causal, dtype):
    dtype = getattr(torch, dtype)
    rng = random.Random(hash((sq, heads, layout, splits, causal)) & 0xFFFF)
    torch.manual_seed(rng.randint(0, 1 << 30))
    hq, hk = heads
    batch = 3
    capacity = rng.choice([512, 1024, 4096])
    if layout != "contiguous":
        capacity = max(capacity // layout, 1) * layout
    lengths = _lengths(rng, batch, capacity)
    q = torch.randn(batch, sq, hq, 128, dtype=dtype, device="cuda")
    k = torch.randn(batch, capacity, hk, 128, dtype=dtype, device="cuda")
    v = torch.randn(batch, capacity, hk, 128, dtype=dtype, device="cuda")
    _run_and_check(q, k, v, lengths, causal, splits,
                   page_size=None if layout == "contiguous" else layout, seed=sq)


@requires_gpu
@pytest.mark.parametrize("d", [32, 64, 96, 160, 192, 224, 256])
@pytest.mark.parametrize("paged", [False, True])
def test_head_dims(d, paged):
    torch.manual_seed(d)
    q = torch.randn(2, 1, 16, d, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(2, 2048, 4, d, dtype=torch.bfloat16, device="cuda")
    v = torch.randn(2, 2048, 4, d, dtype=torch.bfloat16, device="cuda")
    _run_and_check(q, k, v, [2048, 777], False, 0, page_size=64 if paged else None)


@requires_gpu
@pytest.mark.parametrize("length", [131072, 65536 + 33])
@pytest.mark.parametrize("splits", [0, 1, 16])
def test_long_context(length, splits):
    torch.manual_seed(length)
    q = torch.randn(1, 1, 32, 128, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(1, 131072, 8, 128, dtype=torch.bfloat16, device="cuda")
    v = torch.randn(1, 131072, 8, 128, dtype=torch.bfloat16, device="cuda")
    _run_and_check(q, k, v, [length], True, splits)


@requires_gpu
@pytest.mark.parametrize("splits", [1, 3])
def test_batch_idx_and_leftpad(splits):
    torch.manual_seed(5)
    q = torch.randn(3, 4, 8, 128, dtype=torch.float16, device="cuda")
    k = torch.randn(5, 1000, 8, 128, dtype=torch.float16, device="cuda")
    v = torch.randn(5, 1000, 8, 128, dtype=torch.float16, device="cuda")
    idx = torch.tensor([4, 0, 2], dtype=torch.int32, device="cuda")
    leftpad = torch.tensor([10, 0, 500], dtype=torch.int32, device="cuda")
    _run_and_check(q, k, v, [1000, 300, 700], True, splits, batch_idx=idx, leftpad=leftpad)


@requires_gpu
def test_empty_cache_entry_gives_zero_and_neg_inf():
    q = torch.randn(2, 1, 8, 128, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(2, 256, 8, 128, dtype=torch.bfloat16, device="cuda")
    for splits in (1, 4):
        out, lse = fa4.flash_attn_with_kvcache(
            q, k, k, cache_seqlens=torch.tensor([0, 256], dtype=torch.int32, device="cuda"),
            num_splits=splits, return_softmax_lse=True)
        assert torch.all(out[0] == 0) and torch.all(torch.isneginf(lse[0]))
        assert torch.isfinite(lse[1]).all()


@requires_gpu
def test_int_cache_seqlens_and_none():
    torch.manual_seed(3)
    q = torch.randn(2, 2, 8, 64, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(2, 300, 8, 64, dtype=torch.bfloat16, device="cuda")
    v = torch.randn(2, 300, 8, 64, dtype=torch.bfloat16, device="cuda")
    out = fa4.flash_attn_with_kvcache(q, k, v, cache_seqlens=200)
    check(out, None, q, k[:, :200], v[:, :200], False)
    out = fa4.flash_attn_with_kvcache(q, k, v)
    check(out, None, q, k, v, False)


@requires_gpu
def test_split_counts_agree():
    """Every split count gives the same answer within rounding."""
    torch.manual_seed(9)
    q = torch.randn(2, 1, 32, 128, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(2, 8192, 8, 128, dtype=torch.bfloat16, device="cuda")
    seqlens = torch.tensor([8192, 5000], dtype=torch.int32, device="cuda")
    ref = fa4.flash_attn_with_kvcache(q, k, k, cache_seqlens=seqlens, num_splits=1)
    for splits in (2, 3, 7, 64, 128):
        out = fa4.flash_attn_with_kvcache(q, k, k, cache_seqlens=seqlens, num_splits=splits)
        assert (out.float() - ref.float()).abs().max().item() < 2e-2, splits


@requires_gpu
def test_bad_inputs_are_named():
    q = torch.randn(2, 1, 8, 128, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(2, 64, 8, 128, dtype=torch.bfloat16, device="cuda")
    with pytest.raises(ValueError, match="cache_seqlens must be int32"):
        fa4.flash_attn_with_kvcache(q, k, k, cache_seqlens=torch.zeros(2, device="cuda"))
    with pytest.raises(ValueError, match=r"cache_seqlens must be \(2,\)"):
        fa4.flash_attn_with_kvcache(
            q, k, k, cache_seqlens=torch.zeros(3, dtype=torch.int32, device="cuda"))
    with pytest.raises(ValueError, match=r"cache_seqlens \(65\) must be in \[0, 64\]"):
        fa4.flash_attn_with_kvcache(q, k, k, cache_seqlens=65)
    table = torch.zeros(2, 1, dtype=torch.int32, device="cuda")
    with pytest.raises(ValueError, match="cache_batch_idx cannot be used with a paged cache"):
        fa4.flash_attn_with_kvcache(q, k, k, block_table=table,
                                    cache_batch_idx=torch.zeros(2, dtype=torch.int32,
                                                                device="cuda"))
    with pytest.raises(ValueError, match="page_size must be a positive multiple of 16"):
        fa4.flash_attn_with_kvcache(q, k[:, :24], k[:, :24], block_table=table)


@requires_gpu
def test_cuda_graph_decode_step():
    """A decode step (attention with splits and combine) captured once and
    replayed with new queries and advanced cache_seqlens equals eager calls."""
    torch.manual_seed(11)
    batch, hq, hk, d, capacity = 4, 32, 8, 128, 4096
    k = torch.randn(batch, capacity, hk, d, dtype=torch.bfloat16, device="cuda")
    v = torch.randn(batch, capacity, hk, d, dtype=torch.bfloat16, device="cuda")
    q = torch.randn(batch, 1, hq, d, dtype=torch.bfloat16, device="cuda")
    seqlens = torch.tensor([1000, 2000, 3000, 4000], dtype=torch.int32, device="cuda")
    for splits in (0, 5):
        fa4.flash_attn_with_kvcache(q, k, v, cache_seqlens=seqlens, num_splits=splits)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = fa4.flash_attn_with_kvcache(q, k, v, cache_seqlens=seqlens,
                                              num_splits=splits)
        for step in range(3):
            q.copy_(torch.randn_like(q))
            seqlens.add_(7)
            graph.replay()
            torch.cuda.synchronize()
            eager = fa4.flash_attn_with_kvcache(q, k, v, cache_seqlens=seqlens,
                                                num_splits=splits)
            assert torch.equal(out, eager), (splits, step)


# ---- Appending and rotary ----------------------------------------------------


def _rotary_ref(x, cos, sin, positions, interleaved):
    """x (B, S, H, D) rotated at positions (B, S) in float32, rounded once."""
    rd = 2 * cos.shape[1]
    c = cos[positions].float()[:, :, None, :]
    s_ = sin[positions].float()[:, :, None, :]
    xr = x[..., :rd].float()
    if interleaved:
        x1, x2 = xr[..., 0::2], xr[..., 1::2]
    else:
        x1, x2 = xr[..., :rd // 2], xr[..., rd // 2:]
    y1, y2 = x1 * c - x2 * s_, x1 * s_ + x2 * c
    out = torch.stack([y1, y2], -1).flatten(-2) if interleaved else torch.cat([y1, y2], -1)
    return torch.cat([out.to(x.dtype), x[..., rd:]], -1)


APPEND_CASES = []
for layout in ("contiguous", 16, 64):
    for rotary in (None, "interleaved", "half"):
        for sq, sn in ((1, 1), (4, 4), (3, 7)):
            for causal in (False, True):
                APPEND_CASES.append((layout, rotary, sq, sn, causal))


@requires_gpu
@pytest.mark.parametrize("splits", [1, 0])
@pytest.mark.parametrize("layout, rotary, sq, sn, causal", APPEND_CASES,
                         ids=[f"{c[0]}-{c[1]}-sq{c[2]}-new{c[3]}-{'causal' if c[4] else 'full'}"
                              for c in APPEND_CASES])
def test_append(layout, rotary, sq, sn, causal, splits):
    rng = random.Random(hash((layout, rotary, sq, sn, causal)) & 0xFFFF)
    torch.manual_seed(rng.randint(0, 1 << 30))
    dtype = torch.bfloat16 if rng.random() < 0.5 else torch.float16
    batch, hq, hk, d, capacity = 3, 16, 4, 128, 512
    q = torch.randn(batch, sq, hq, d, dtype=dtype, device="cuda")
    k_cache = torch.randn(batch + 1, capacity, hk, d, dtype=dtype, device="cuda")
    v_cache = torch.randn_like(k_cache)
    k_new = torch.randn(batch, sn, hk, d, dtype=dtype, device="cuda")
    v_new = torch.randn_like(k_new)
    lengths = [rng.randint(0, capacity - sn) for _ in range(batch)]
    lengths[0] = capacity - sn
    seqlens = torch.tensor(lengths, dtype=torch.int32, device="cuda")
    kwargs = dict(k=k_new, v=v_new, cache_seqlens=seqlens, causal=causal, num_splits=splits,
                  return_softmax_lse=True)
    cos = sin = None
    if rotary:
        rd = d if rotary == "interleaved" else d // 2
        angle = torch.rand(capacity, rd // 2, device="cuda") * 2 * math.pi
        cos, sin = torch.cos(angle).to(dtype), torch.sin(angle).to(dtype)
        kwargs.update(rotary_cos=cos, rotary_sin=sin,
                      rotary_interleaved=rotary == "interleaved")
    idx = leftpad = None
    if layout == "contiguous":
        idx = torch.tensor([3, 0, 1], dtype=torch.int32, device="cuda")
        leftpad = torch.tensor([0, min(5, lengths[1]), min(40, lengths[2])],
                               dtype=torch.int32, device="cuda")
        kwargs.update(cache_batch_idx=idx, cache_leftpad=leftpad)
        k_in, v_in = k_cache.clone(), v_cache.clone()
        entries = idx.tolist()
    else:
        # The first `batch` entries as pages in a shuffled pool.
        k_in, v_in, table = _paged(k_cache[:batch].contiguous(), v_cache[:batch].contiguous(),
                                   layout, rng)
        kwargs["block_table"] = table
        entries = list(range(batch))
    out, lse = fa4.flash_attn_with_kvcache(q, k_in, v_in, **kwargs)
    torch.cuda.synchronize()

    # The expected cache: new tokens at rows lengths[b] .. + sn, keys rotated.
    positions_k = seqlens[:, None].long() + torch.arange(sn, device="cuda")[None]
    k_rot = _rotary_ref(k_new, cos, sin, positions_k, rotary == "interleaved") if rotary else k_new
    if causal:
        positions_q = seqlens[:, None].long() + torch.arange(sq, device="cuda")[None]
    else:
        positions_q = seqlens[:, None].long().expand(batch, sq)
    q_rot = _rotary_ref(q, cos, sin, positions_q, rotary == "interleaved") if rotary else q
    for b in range(batch):
        e, n = entries[b], lengths[b]
        if layout == "contiguous":
            got_k, got_v = k_in[e, n:n + sn], v_in[e, n:n + sn]
            untouched = torch.equal(k_in[e, :n], k_cache[e, :n]) and torch.equal(
                k_in[e, n + sn:], k_cache[e, n + sn:])
        else:
            rows = [table[b, r // layout].item() for r in range(n, n + sn)]
            got_k = torch.stack([k_in[p, r % layout] for p, r in zip(rows, range(n, n + sn))])
            got_v = torch.stack([v_in[p, r % layout] for p, r in zip(rows, range(n, n + sn))])
            untouched = True
        assert untouched, f"entry {b}: rows outside the append changed"
        assert torch.equal(got_v, v_new[b]), f"entry {b}: v not appended"
        if rotary:
            torch.testing.assert_close(got_k.float(), k_rot[b].float(), atol=2e-2, rtol=1e-2)
        else:
            assert torch.equal(got_k, k_new[b]), f"entry {b}: k not appended"
        # Attention over [leftpad, n + sn) of the updated cache, q rotated.
        start = leftpad[b].item() if leftpad is not None else 0
        if layout == "contiguous":
            kb, vb = k_in[e:e + 1, start:n + sn], v_in[e:e + 1, start:n + sn]
        else:
            per = table.shape[1]
            kb = torch.cat([k_in[table[b, j]] for j in range(per)])[None, :n + sn]
            vb = torch.cat([v_in[table[b, j]] for j in range(per)])[None, :n + sn]
        check(out[b:b + 1], lse[b:b + 1], q_rot[b:b + 1], kb, vb, causal)


@requires_gpu
@pytest.mark.parametrize("paged", [False, True])
@pytest.mark.parametrize("rotary", [False, True])
def test_cuda_graph_append_decode_step(paged, rotary):
    """Append (and rotary), attention, splits and combine captured once;
    replayed with new tokens and advanced cache_seqlens, the outputs and the
    caches equal eager calls on a copy of the cache."""
    torch.manual_seed(21)
    batch, hq, hk, d, capacity = 4, 32, 8, 128, 2048
    dtype = torch.bfloat16
    k_g = torch.randn(batch, capacity, hk, d, dtype=dtype, device="cuda")
    v_g = torch.randn_like(k_g)
    kwargs = {}
    if paged:
        pages = capacity // 64
        table = torch.randperm(batch * pages, device="cuda").to(torch.int32).view(batch, pages)
        k_g = k_g.view(batch * pages, 64, hk, d)
        v_g = v_g.view(batch * pages, 64, hk, d)
        kwargs["block_table"] = table
    if rotary:
        angle = torch.rand(capacity, d // 4, device="cuda") * 2 * math.pi
        kwargs.update(rotary_cos=torch.cos(angle).to(dtype), rotary_sin=torch.sin(angle).to(dtype))
    k_e, v_e = k_g.clone(), v_g.clone()
    q = torch.randn(batch, 1, hq, d, dtype=dtype, device="cuda")
    k_new = torch.randn(batch, 1, hk, d, dtype=dtype, device="cuda")
    v_new = torch.randn_like(k_new)
    seqlens = torch.tensor([100, 700, 1500, 2000], dtype=torch.int32, device="cuda")

    def step(k_cache, v_cache):
        return fa4.flash_attn_with_kvcache(q, k_cache, v_cache, k=k_new, v=v_new,
                                           cache_seqlens=seqlens, causal=True, num_splits=0,
                                           **kwargs)

    # The warm-up appends once to both copies.
    step(k_g, v_g)
    step(k_e, v_e)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out_g = step(k_g, v_g)
    for _ in range(4):
        seqlens.add_(1)
        q.copy_(torch.randn_like(q))
        k_new.copy_(torch.randn_like(k_new))
        v_new.copy_(torch.randn_like(v_new))
        graph.replay()
        out_e = step(k_e, v_e)
        torch.cuda.synchronize()
        assert torch.equal(out_g, out_e)
        assert torch.equal(k_g, k_e) and torch.equal(v_g, v_e)


# ---- Windows, softcap, ALiBi ---------------------------------------------------

MOD_CASES = []
# The last three are combinations without a kernel of their own: the
# switchable kernel serves them (ALiBi compiled in, so no GQA packing).
for mods in ({"window_size": (64, 0)}, {"window_size": (200, 3)}, {"softcap": 15.0},
             {"softcap": 15.0, "causal": True}, {"alibi": True},
             {"alibi": True, "causal": True}, {"window_size": (64, 0), "softcap": 15.0},
             {"window_size": (200, 3), "alibi": True},
             {"softcap": 15.0, "alibi": True, "causal": True}):
    for sq, heads in ((1, (32, 8)), (4, (32, 8)), (16, (8, 1)), (3, (8, 8))):
        for layout in ("contiguous", 64):
            MOD_CASES.append((mods, sq, heads, layout))


@requires_gpu
@pytest.mark.parametrize("splits", [1, 0, 3])
@pytest.mark.parametrize("mods, sq, heads, layout", MOD_CASES,
                         ids=[f"{'-'.join(f'{k}{v}' for k, v in c[0].items())}-sq{c[1]}-"
                              f"{c[2][0]}x{c[2][1]}-{c[3]}" for c in MOD_CASES])
def test_score_mods(mods, sq, heads, layout, splits):
    mods = dict(mods)
    torch.manual_seed(sq * 7 + heads[0])
    hq, hk = heads
    batch, d, capacity = 2, 128, 1024
    q = torch.randn(batch, sq, hq, d, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(batch, capacity, hk, d, dtype=torch.bfloat16, device="cuda")
    v = torch.randn(batch, capacity, hk, d, dtype=torch.bfloat16, device="cuda")
    lengths = [capacity, 333]
    seqlens = torch.tensor(lengths, dtype=torch.int32, device="cuda")
    kwargs = {"cache_seqlens": seqlens, "num_splits": splits, "return_softmax_lse": True}
    causal = mods.pop("causal", False)
    slopes = None
    if mods.pop("alibi", False):
        slopes = torch.rand(hq, device="cuda") * 0.3
        kwargs["alibi_slopes"] = slopes
    kwargs.update(mods, causal=causal)
    k_in, v_in = k, v
    if layout != "contiguous":
        k_in, v_in, table = _paged(k, v, layout, random.Random(sq))
        kwargs["block_table"] = table
    out, lse = fa4.flash_attn_with_kvcache(q, k_in, v_in, **kwargs)
    torch.cuda.synchronize()
    window = mods.get("window_size", (-1, -1))
    for b in range(batch):
        check(out[b:b + 1], lse[b:b + 1], q[b:b + 1], k[b:b + 1, :lengths[b]],
              v[b:b + 1, :lengths[b]], causal, window=window,
              softcap=mods.get("softcap", 0.0), alibi_slopes=slopes)


@requires_gpu
@pytest.mark.parametrize("d", [160, 224, 256])
@pytest.mark.parametrize("layout", ["contiguous", 16])
@pytest.mark.parametrize("mods", [{"window_size": (100, 2)}, {"alibi": True, "causal": True},
                                  {"softcap": 20.0}],
                         ids=["window", "causal-alibi", "softcap"])
def test_score_mods_wide_heads(d, layout, mods):
    """The wide head dims' KV-cache tiles (16-key tiles for paged windows
    and ALiBi above 192)."""
    mods = dict(mods)
    torch.manual_seed(d)
    batch, hq, hk, capacity = 2, 8, 2, 512
    q = torch.randn(batch, 4, hq, d, dtype=torch.float16, device="cuda")
    k = torch.randn(batch, capacity, hk, d, dtype=torch.float16, device="cuda")
    v = torch.randn_like(k)
    lengths = [capacity, 200]
    kwargs = {"cache_seqlens": torch.tensor(lengths, dtype=torch.int32, device="cuda"),
              "return_softmax_lse": True, "num_splits": 0}
    causal = mods.pop("causal", False)
    slopes = None
    if mods.pop("alibi", False):
        slopes = torch.rand(hq, device="cuda") * 0.3
        kwargs["alibi_slopes"] = slopes
    kwargs.update(mods, causal=causal)
    k_in, v_in = k, v
    if layout != "contiguous":
        k_in, v_in, table = _paged(k, v, layout, random.Random(d))
        kwargs["block_table"] = table
    out, lse = fa4.flash_attn_with_kvcache(q, k_in, v_in, **kwargs)
    torch.cuda.synchronize()
    for b in range(batch):
        check(out[b:b + 1], lse[b:b + 1], q[b:b + 1], k[b:b + 1, :lengths[b]],
              v[b:b + 1, :lengths[b]], causal, window=mods.get("window_size", (-1, -1)),
              softcap=mods.get("softcap", 0.0), alibi_slopes=slopes)
