"""fa4.flash_attn_varlen_func on the GPU: packed sequences and the paged
cache, checked per sequence with the SPEC's correctness rule, outputs
poisoned; the checking mode; and the argument errors. Without torch or a
CUDA GPU the GPU tests report SKIPPED with the reason; the signature and
CPU-side checks run everywhere torch does."""

import inspect
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

from reference import check  # noqa: E402

HAS_GPU = torch.cuda.is_available()
requires_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

LENGTHS = [0, 1, 3, 113, 203, 1000, 4224]
HEADS = [(8, 8), (32, 8), (40, 8), (8, 1)]
DTYPES = ["bfloat16", "float16"]
HEAD_DIMS = [64, 96, 128]
PAGE_SIZES = [16, 48, 64, 256]


def _lengths(rng, batch):
    """Mixed query and key lengths; every batch has an empty and a long one."""
    lq = [rng.choice(LENGTHS) for _ in range(batch)]
    lk = [rng.choice(LENGTHS) for _ in range(batch)]
    lq[0], lk[1] = 0, 0
    lq[-1], lk[-1] = rng.choice([1000, 4224]), rng.choice([203, 4224])
    return lq, lk


def _cu(lengths):
    cu = [0]
    for n in lengths:
        cu.append(cu[-1] + n)
    return torch.tensor(cu, dtype=torch.int32, device="cuda")


def _packed(total, heads, d, dtype, gen):
    return torch.randn(total, heads, d, device="cuda", dtype=getattr(torch, dtype), generator=gen)


def _page(k, v, lk, page_size, rng, share=False):
    """Scatters packed K/V into a permuted paged cache; with `share`, the
    second sequence reuses the first one's pages (same keys)."""
    batch = len(lk)
    pages_per = [max(1, math.ceil(n / page_size)) for n in lk]
    max_pages = max(pages_per)
    num_pages = sum(pages_per) + 3  # some pages nobody uses
    order = list(range(num_pages))
    rng.shuffle(order)
    hk, d = k.shape[1], k.shape[2]
    kc = torch.randn(num_pages, page_size, hk, d, device="cuda", dtype=k.dtype)
    vc = torch.randn(num_pages, page_size, hk, v.shape[2], device="cuda", dtype=v.dtype)
    table = torch.full((batch, max_pages), -1, dtype=torch.int32)
    start, next_page = 0, 0
    for b, n in enumerate(lk):
        for j in range(pages_per[b]):
            if share and b == 1 and j < pages_per[0]:
                table[b, j] = table[0, j]
                continue
            page = order[next_page]
            next_page += 1
            table[b, j] = page
            rows = slice(j * page_size, min((j + 1) * page_size, n))
            count = rows.stop - rows.start
            if count > 0:
                kc[page, :count] = k[start + rows.start:start + rows.stop]
                vc[page, :count] = v[start + rows.start:start + rows.stop]
        start += n
    # Unused entries point at a valid page: the table is read only where
    # there are keys, but keep it well-formed for the checking mode.
    table[table < 0] = order[-1]
    return kc, vc, table.to("cuda")


def _check_per_sequence(out, lse, q, k, v, lq, lk, causal, where, **mods):
    """Applies the correctness rule to every sequence of the batch."""
    worst = 0.0
    sq = sk = 0
    for b, (nq, nk) in enumerate(zip(lq, lk)):
        if nq:
            qs = q[sq:sq + nq].unsqueeze(0)
            ks = k[sk:sk + nk].unsqueeze(0)
            vs = v[sk:sk + nk].unsqueeze(0)
            o = out[sq:sq + nq].unsqueeze(0)
            lse_b = lse[:, sq:sq + nq].unsqueeze(0) if lse is not None else None
            try:
                result = check(o, lse_b, qs, ks, vs, causal, **mods)
            except AssertionError as e:
                raise AssertionError(f"{where}, sequence {b} ({nq} x {nk}): {e}") from None
            worst = max(worst, result["err"])
        sq += nq
        sk += nk
    return worst


def _run(q, k, v, lq, lk, causal, block_table=None, seqused_k=None):
    total_q, h, _ = q.shape
    out = torch.full((total_q, h, v.shape[-1]), float("nan"), dtype=q.dtype, device="cuda")
    lse = torch.full((h, total_q), float("nan"), dtype=torch.float32, device="cuda")
    _launch.varlen_forward(q, k, v, out, lse, _cu(lq), _cu(lk), seqused_k, block_table,
                           max(lq), max(lk), 1.0 / math.sqrt(q.shape[-1]), causal)
    torch.cuda.synchronize()
    return out, lse


# ---- The validation matrix ----------------------------------------------------


@requires_gpu
@pytest.mark.parametrize("d", HEAD_DIMS, ids=lambda d: f"d{d}")
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("heads", HEADS, ids=lambda h: f"h{h[0]}-{h[1]}")
@pytest.mark.parametrize("layout", ["packed"] + [f"paged{p}" for p in PAGE_SIZES])
def test_varlen_matrix(layout, heads, dtype, causal, d):
    key = repr((layout, heads, dtype, causal, d))
    rng = random.Random(zlib.crc32(key.encode()))
    gen = torch.Generator(device="cuda").manual_seed(zlib.crc32(key.encode()))
    lq, lk = _lengths(rng, 5)
    q = _packed(sum(lq), heads[0], d, dtype, gen)
    k = _packed(sum(lk), heads[1], d, dtype, gen)
    v = _packed(sum(lk), heads[1], d, dtype, gen)
    if layout == "packed":
        out, lse = _run(q, k, v, lq, lk, causal)
    else:
        kc, vc, table = _page(k, v, lk, int(layout[5:]), rng)
        out, lse = _run(q, kc, vc, lq, lk, causal, block_table=table)
    _check_per_sequence(out, lse, q, k, v, lq, lk, causal, key)


@requires_gpu
@pytest.mark.parametrize("page_size", PAGE_SIZES)
def test_paged_shared_pages(page_size):
    """Two sequences whose tables name the same pages see the same keys."""
    rng = random.Random(page_size)
    gen = torch.Generator(device="cuda").manual_seed(page_size)
    lq, lk = [300, 300, 50], [500, 500, 77]
    q = _packed(sum(lq), 8, 128, "bfloat16", gen)
    k = _packed(sum(lk), 2, 128, "bfloat16", gen)
    v = _packed(sum(lk), 2, 128, "bfloat16", gen)
    k[500:1000], v[500:1000] = k[:500], v[:500]  # sequence 1's keys are sequence 0's
    kc, vc, table = _page(k, v, lk, page_size, rng, share=True)
    assert torch.equal(table[0, :2], table[1, :2])
    out, lse = _run(q, kc, vc, lq, lk, True, block_table=table)
    _check_per_sequence(out, lse, q, k, v, lq, lk, True, f"shared pages {page_size}")


@requires_gpu
@pytest.mark.parametrize("paged", [False, True], ids=["packed", "paged"])
def test_seqused_k(paged):
    """seqused_k[b] keys of each sequence are used, the rest ignored."""
    rng = random.Random(11)
    gen = torch.Generator(device="cuda").manual_seed(11)
    lq, lk, used = [100, 64, 1], [400, 300, 129], [250, 0, 129]
    q = _packed(sum(lq), 4, 64, "float16", gen)
    k = _packed(sum(lk), 4, 64, "float16", gen)
    v = _packed(sum(lk), 4, 64, "float16", gen)
    seqused = torch.tensor(used, dtype=torch.int32, device="cuda")
    if paged:
        kc, vc, table = _page(k, v, lk, 64, rng)
        out, lse = _run(q, kc, vc, lq, lk, False, block_table=table, seqused_k=seqused)
    else:
        out, lse = _run(q, k, v, lq, lk, False, seqused_k=seqused)
    # The reference: the first `used` keys of each sequence.
    starts = [0, 400, 700]
    kr = torch.cat([k[s:s + u] for s, u in zip(starts, used)])
    vr = torch.cat([v[s:s + u] for s, u in zip(starts, used)])
    _check_per_sequence(out, lse, q, kr, vr, lq, used, False, "seqused_k")


@requires_gpu
def test_public_api_returns_and_strides():
    gen = torch.Generator(device="cuda").manual_seed(5)
    lq, lk = [130, 0, 77], [200, 10, 77]
    base = torch.randn(sum(lq), 8, 192, device="cuda", dtype=torch.bfloat16, generator=gen)
    q = base[..., :128]  # a padded (strided) q
    k = _packed(sum(lk), 4, 128, "bfloat16", gen)
    v = _packed(sum(lk), 4, 128, "bfloat16", gen)
    cu_q, cu_k = _cu(lq), _cu(lk)
    out = fa4.flash_attn_varlen_func(q, k, v, cu_q, cu_k, 130, 200, causal=True)
    out2, lse, s_dmask = fa4.flash_attn_varlen_func(q, k, v, cu_q, cu_k, 130, 200, causal=True,
                                                    return_attn_probs=True)
    out3, lse3 = fa4.flash_attn_varlen_func(q, k, v, cu_q, cu_k, 130, 200, causal=True,
                                            deterministic=True, return_lse=True)
    torch.cuda.synchronize()
    assert out.shape == (sum(lq), 8, 128) and lse.shape == (8, sum(lq)) and s_dmask is None
    assert torch.equal(out, out2) and torch.equal(out, out3) and torch.equal(lse, lse3)
    _check_per_sequence(out2, lse, q.contiguous(), k, v, lq, lk, True, "public api")


# ---- Checking mode: values only the device holds ------------------------------


def _small_problem(paged=False):
    gen = torch.Generator(device="cuda").manual_seed(3)
    lq, lk = [40, 60], [50, 70]
    q = _packed(100, 4, 64, "bfloat16", gen)
    k = _packed(120, 4, 64, "bfloat16", gen)
    v = _packed(120, 4, 64, "bfloat16", gen)
    table = None
    if paged:
        k, v, table = _page(k, v, lk, 16, random.Random(3))
    return q, k, v, lq, lk, table


@requires_gpu
@pytest.mark.parametrize("case, match", [
    ("decreasing", "cu_seqlens_q decreases at batch entry 1"),
    ("past_total", "cu_seqlens_k\\[2\\] = 500, but the tensors have 120 rows"),
    ("max_seqlen_q", "max_seqlen_q \\(10\\) is below the query length of batch entry 0 \\(40\\)"),
    ("seqused", "seqused_k\\[1\\] = 99 is outside \\[0, 70\\]"),
    ("bad_page", "block_table\\[1\\]\\[0\\] = 9999 is not a page"),
    ("capacity", "more than its"),
])
def test_checking_mode_names_the_entry(case, match):
    q, k, v, lq, lk, table = _small_problem(paged=case in ("bad_page", "capacity"))
    cu_q, cu_k = _cu(lq), _cu(lk)
    seqused, max_q = None, 60
    if case == "decreasing":
        cu_q = torch.tensor([0, 60, 40], dtype=torch.int32, device="cuda")
    elif case == "past_total":
        cu_k = torch.tensor([0, 50, 500], dtype=torch.int32, device="cuda")
    elif case == "max_seqlen_q":
        max_q = 10
    elif case == "seqused":
        seqused = torch.tensor([50, 99], dtype=torch.int32, device="cuda")
    elif case == "bad_page":
        table[1, 0] = 9999
    elif case == "capacity":
        cu_k = torch.tensor([0, 50, 50 + 16 * table.shape[1] + 1], dtype=torch.int32,
                            device="cuda")
    out = torch.empty(100, 4, 64, dtype=q.dtype, device="cuda")
    with pytest.raises(ValueError, match=match):
        _launch.varlen_forward(q, k, v, out, None, cu_q, cu_k, seqused, table, max_q, 1 << 20,
                               0.125, False, check_inputs=True)


@requires_gpu
def test_checking_mode_passes_valid_input_and_env_enables_it(monkeypatch):
    q, k, v, lq, lk, table = _small_problem(paged=True)
    out, lse = torch.empty(100, 4, 64, dtype=q.dtype, device="cuda"), None
    _launch.varlen_forward(q, k, v, out, lse, _cu(lq), _cu(lk), None, table, 60, 70, 0.125,
                           False, check_inputs=True)
    monkeypatch.setenv("FA4_CHECK_INPUTS", "1")
    bad = table.clone()
    bad[0, 0] = -1
    with pytest.raises(ValueError, match="block_table\\[0\\]\\[0\\] = -1"):
        _launch.varlen_forward(q, k, v, out, lse, _cu(lq), _cu(lk), None, bad, 60, 70, 0.125,
                               False)


@requires_gpu
@pytest.mark.parametrize("causal", [False, True])
def test_underestimated_max_seqlen_is_loud_without_checking(causal):
    """max_seqlen_q below the real maximum cannot be seen without a sync; the
    rows no CTA covers come out NaN (never stale), the others are right
    (causal too: its CTAs count longest-first over the covered m-blocks)."""
    q, k, v, lq, lk, _ = _small_problem()
    lq, lk = [300, 20], [300, 20]
    gen = torch.Generator(device="cuda").manual_seed(4)
    q = _packed(320, 4, 64, "bfloat16", gen)
    k = _packed(320, 4, 64, "bfloat16", gen)
    v = _packed(320, 4, 64, "bfloat16", gen)
    out = torch.zeros(320, 4, 64, dtype=q.dtype, device="cuda")
    lse = torch.zeros(4, 320, dtype=torch.float32, device="cuda")
    _launch.varlen_forward(q, k, v, out, lse, _cu(lq), _cu(lk), None, None, 100, 300, 0.125,
                           causal)
    torch.cuda.synchronize()
    assert torch.isnan(out[128:300]).all() and torch.isnan(lse[:, 128:300]).all()
    assert not torch.isnan(out[:128]).any() and not torch.isnan(out[300:]).any()
    # The covered rows of the long sequence are its first 128, computed.
    scores = torch.einsum("qhd,khd->hqk", q[:128].float(), k[:300].float()) * 0.125
    if causal:
        keys = torch.arange(300, device="cuda").view(1, -1)
        scores = scores.masked_fill(keys > torch.arange(128, device="cuda").view(-1, 1),
                                    float("-inf"))
    ref = torch.einsum("hqk,khd->qhd", torch.softmax(scores, dim=-1), v[:300].float())
    assert (out[:128].float() - ref).abs().max().item() < 2e-2


# ---- Arguments -----------------------------------------------------------------


def test_signature_is_flash_attention_2s():
    params = inspect.signature(fa4.flash_attn_varlen_func).parameters
    positional = [(n, p.default) for n, p in params.items()
                  if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert positional == [
        ("q", inspect.Parameter.empty), ("k", inspect.Parameter.empty),
        ("v", inspect.Parameter.empty), ("cu_seqlens_q", inspect.Parameter.empty),
        ("cu_seqlens_k", inspect.Parameter.empty), ("max_seqlen_q", inspect.Parameter.empty),
        ("max_seqlen_k", inspect.Parameter.empty), ("dropout_p", 0.0), ("softmax_scale", None),
        ("causal", False), ("window_size", (-1, -1)), ("softcap", 0.0), ("alibi_slopes", None),
        ("deterministic", False), ("return_attn_probs", False), ("block_table", None)]
    keyword_only = {n: p.default for n, p in params.items()
                    if p.kind == inspect.Parameter.KEYWORD_ONLY}
    assert keyword_only == {"seqused_k": None, "return_lse": False, "learnable_sink": None,
                            "block_sparse_tensors": None}


def test_non_tensor_is_type_error():
    q = torch.zeros(4, 1, 64, dtype=torch.bfloat16)
    with pytest.raises(TypeError, match="q must be a torch.Tensor, got tuple"):
        fa4.flash_attn_varlen_func((1,), q, q, q, q, 4, 4)


@requires_gpu
@pytest.mark.parametrize("lengths", [[], [0, 0], [0, 3]])
def test_empty_inputs_return_empty_outputs(lengths):
    # No sequences, or sequences with no queries (total_q = 0): empty outputs.
    total_q = 0
    cu_q = torch.zeros(len(lengths) + 1, dtype=torch.int32, device="cuda")
    cu_k = _cu(lengths) if lengths else torch.zeros(1, dtype=torch.int32, device="cuda")
    q = torch.empty(total_q, 4, 64, device="cuda", dtype=torch.bfloat16)
    kv = torch.empty(max(sum(lengths), 0), 4, 64, device="cuda", dtype=torch.bfloat16)
    out, lse = fa4.flash_attn_varlen_func(q, kv, kv, cu_q, cu_k, 0, max(lengths, default=0),
                                          return_lse=True)
    assert out.shape == (0, 4, 64) and lse.shape == (4, 0)


@pytest.mark.parametrize("kwargs, feature", [
    ({"dropout_p": 0.1, "return_attn_probs": True, "block_table": object()}, "S_dmask"),
])
def test_unbuilt_features_raise(kwargs, feature):
    with pytest.raises(NotImplementedError, match=feature):
        fa4.flash_attn_varlen_func(None, None, None, None, None, 1, 1, **kwargs)


@requires_gpu
@pytest.mark.parametrize("case, match", [
    ("cu_dtype", "cu_seqlens_q must be int32"),
    ("cu_device", "cu_seqlens_q must be on cuda"),
    ("cu_length", "cu_seqlens_k must have 3 entries"),
    ("cu_2d", "cu_seqlens_q must have 1 dimension"),
    ("q_4d", "q must be \\(total, nheads, head_dim\\)"),
    ("kv_mismatch", "v must match k"),
    ("max_seqlen", "max_seqlen_q must be >= 0"),
    ("table_dtype", "block_table must be int32"),
    ("table_shape", "block_table must be \\(batch=2, max_pages\\)"),
    ("page_size", "the page size \\(k.shape\\[1\\] = 24\\) must be a positive multiple of 16"),
    ("paged_kv_mismatch", "v must match k in \\(num_pages, page_size, nheads_k\\)"),
    ("paged_3d", "k must be \\(num_pages, page_size, nheads_k, head_dim\\)"),
    ("seqused_length", "seqused_k must have 2 entries"),
    ("head_dim", "head_dim must be at most 256"),
])
def test_bad_arguments(case, match):
    mk = lambda *s, dt=torch.bfloat16: torch.randn(*s, device="cuda", dtype=dt)  # noqa: E731
    q, k, v = mk(10, 4, 64), mk(12, 4, 64), mk(12, 4, 64)
    cu_q = torch.tensor([0, 4, 10], dtype=torch.int32, device="cuda")
    cu_k = torch.tensor([0, 5, 12], dtype=torch.int32, device="cuda")
    kw = {}
    table = torch.zeros(2, 2, dtype=torch.int32, device="cuda")
    kc, vc = mk(4, 16, 4, 64), mk(4, 16, 4, 64)
    error = ValueError
    args = [q, k, v, cu_q, cu_k, 10, 12]
    if case == "cu_dtype":
        args[3] = cu_q.long()
    elif case == "cu_device":
        args[3] = cu_q.cpu()
    elif case == "cu_length":
        args[4] = cu_k[:2]
    elif case == "cu_2d":
        args[3] = cu_q.view(1, 3)
    elif case == "q_4d":
        args[0] = q.view(1, 10, 4, 64)
    elif case == "kv_mismatch":
        args[2] = mk(12, 2, 64)
    elif case == "max_seqlen":
        args[5] = -1
    elif case == "table_dtype":
        args[1:3] = [kc, vc]
        kw["block_table"] = table.long()
    elif case == "table_shape":
        args[1:3] = [kc, vc]
        kw["block_table"] = table[:1]
    elif case == "page_size":
        args[1:3] = [mk(4, 24, 4, 64), mk(4, 24, 4, 64)]
        kw["block_table"] = table
    elif case == "paged_kv_mismatch":
        args[1:3] = [kc, mk(5, 16, 4, 64)]
        kw["block_table"] = table
    elif case == "paged_3d":
        kw["block_table"] = table
    elif case == "seqused_length":
        kw["seqused_k"] = torch.zeros(3, dtype=torch.int32, device="cuda")
    elif case == "head_dim":
        args[0:3] = [mk(10, 4, 264), mk(12, 4, 264), mk(12, 4, 264)]
    with pytest.raises(error, match=match):
        fa4.flash_attn_varlen_func(*args, **kw)
