"""fa4.flash_attn_with_kvcache: FlashAttention-2's signature and argument
errors (CPU), and on the GPU the decode matrix (Sq 1..128, mixed cache
lengths up to 128k, contiguous and paged caches, split counts 1, 0 and 3,
MHA, GQA and MQA, cache_batch_idx and cache_leftpad) against the reference
entry by entry with the SPEC's correctness rule, outputs poisoned, and a
decode step captured in a CUDA graph. Without a CUDA GPU the GPU tests
report SKIPPED with the reason."""

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
    ({"k": torch.zeros(1), "v": torch.zeros(1)}, NotImplementedError, "appending new k, v"),
    ({"rotary_cos": torch.zeros(1), "rotary_sin": torch.zeros(1)}, NotImplementedError,
     "rotary"),
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
    with pytest.raises(NotImplementedError, match="KV-cache kernel"):
        fa4.flash_attn_with_kvcache(q, k, k, softcap=5.0)


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
