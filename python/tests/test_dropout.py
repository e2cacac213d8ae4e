"""Dropout: the kernel's Philox 4x32-10 mask against a torch
re-implementation of its keying (docs/DESIGN.md), the output against
reference.attention_ref with that mask (the SPEC's correctness rule), the
dropped fraction, and reproducibility from torch's generator. The Philox
known-answer tests need only torch; the rest report SKIPPED without a CUDA
GPU."""

import math
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

torch = pytest.importorskip("torch", reason="torch is not installed")
import fa4  # noqa: E402

from reference import check, visible_keys  # noqa: E402

HAS_GPU = torch.cuda.is_available()
requires_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_U32 = 0xFFFFFFFF


def _mulhilo(a, m):
    """(low, high) 32-bit halves of a * m for int64 tensors holding u32
    values a and a u32 constant m, without overflowing int64."""
    x = a * (m & 0xFFFF)
    y = a * (m >> 16)
    z = x + ((y & 0xFFFF) << 16)
    return z & _U32, ((y >> 16) + (z >> 32)) & _U32


def philox(c, key):
    """Philox 4x32-10 of counters c (four int64 tensors of u32 values) and
    key (two ints or tensors): the four output words."""
    c0, c1, c2, c3 = c
    k0, k1 = key
    for _ in range(10):
        lo0, hi0 = _mulhilo(c0, _M0)
        lo1, hi1 = _mulhilo(c2, _M1)
        c0, c1, c2, c3 = (hi1 ^ c1 ^ k0) & _U32, lo1, (hi0 ^ c3 ^ k1) & _U32, lo0
        k0, k1 = (k0 + _W0) & _U32, (k1 + _W1) & _U32
    return c0, c1, c2, c3


def keep_mask(seed, offset, first_stream, heads, seqlen_q, seqlen_k, p, device, batch=1):
    """(batch, heads, Sq, Sk) bool: the kernel's keep decisions for batch
    entries first_stream / heads ... of a call with (seed, offset).
    Element (r, c) of stream s = offset + b * heads + h: 16 x 32 block
    (r / 16, c / 32), lane l = (r % 8) * 4 + (c % 8) / 2, counter
    (32 (c / 32) + l, r / 16, s low, s high), key (seed low, seed high);
    draw = byte 2 ((r % 16) / 8) + c % 2 of word (c % 32) / 8, kept iff
    below max(1, round((1 - p) * 256)) (rounded half away from zero, as the
    C runtime's lround)."""
    keep = max(1, math.floor((1.0 - p) * 256 + 0.5))
    streams = torch.arange(batch * heads, device=device, dtype=torch.int64) + offset + first_stream
    streams = streams.view(batch, heads, 1, 1)
    r = torch.arange(seqlen_q, device=device, dtype=torch.int64).view(1, 1, -1, 1)
    c = torch.arange(seqlen_k, device=device, dtype=torch.int64).view(1, 1, 1, -1)
    lane = (r % 8) * 4 + (c % 8) // 2
    counter = (32 * (c // 32) + lane, r // 16, streams & _U32, streams >> 32)
    counter = torch.broadcast_tensors(*counter)
    words = philox(counter, (seed & _U32, seed >> 32))
    index = (c % 32) // 8
    word = torch.zeros_like(counter[0])
    for i in range(4):
        word = torch.where(index == i, words[i], word)
    byte = 2 * ((r % 16) // 8) + c % 2
    draw = (word >> (8 * byte)) & 0xFF
    return draw < keep


def test_philox_known_answers():
    # Random123's kat_vectors for philox4x32_10.
    cases = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((_U32,) * 4, (_U32, _U32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for counter, key, expected in cases:
        words = philox(tuple(torch.tensor([x], dtype=torch.int64) for x in counter), key)
        assert tuple(int(w.item()) for w in words) == expected


def _inputs(batch, sq, sk, hq, hk, d, dtype, seed=0):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    make = lambda s, h: torch.randn(batch, s, h, d, device="cuda",  # noqa: E731
                                    dtype=getattr(torch, dtype), generator=gen)
    return make(sq, hq), make(sk, hk), make(sk, hk)


@requires_gpu
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("heads", [(4, 4), (8, 2)], ids=lambda h: f"h{h[0]}-{h[1]}")
@pytest.mark.parametrize("d", [64, 128, 256])
@pytest.mark.parametrize("sq, sk", [(128, 128), (113, 203), (1, 77), (300, 64)])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dense_matches_reference_with_the_same_mask(sq, sk, d, heads, causal, dtype, p):
    hq, hk = heads
    q, k, v = _inputs(2, sq, sk, hq, hk, d, dtype)
    torch.manual_seed(1234)
    out, lse = fa4.flash_attn_func(q, k, v, dropout_p=p, causal=causal, return_lse=True)
    mask = keep_mask(1234, 0, 0, hq, sq, sk, p, "cuda", batch=2)
    # The LSE is that before dropout.
    check(out, lse, q, k, v, causal, dropout=(mask, p))


def _packed(lq, lk, heads, heads_k, d, seed):
    """Packed varlen bf16 inputs for sequence lengths lq, lk: q (total_q,
    heads, d), k and v (total_k, heads_k, d), drawn in that order from a CUDA
    generator seeded `seed`, which is returned too (for further draws), and
    cu_seqlens_q, cu_seqlens_k."""
    from test_varlen import _cu  # noqa: E402
    g = torch.Generator(device="cuda").manual_seed(seed)
    draw = lambda total, h: torch.randn(total, h, d, device="cuda",  # noqa: E731
                                        dtype=torch.bfloat16, generator=g)
    return draw(sum(lq), heads), draw(sum(lk), heads_k), draw(sum(lk), heads_k), g, \
        _cu(lq), _cu(lk)


@requires_gpu
@pytest.mark.parametrize("paged", [False, True], ids=["varlen", "paged"])
@pytest.mark.parametrize("causal", [False, True])
def test_varlen_and_paged_match_reference(paged, causal):
    from test_varlen import _page  # noqa: E402
    rng = random.Random(7)
    lq, lk = [37, 0, 128, 201], [64, 5, 300, 201]
    hq, hk, d, p = 8, 2, 128, 0.3
    q, k, v, _, cu_q, cu_k = _packed(lq, lk, hq, hk, d, seed=3)
    kwargs = {}
    kk, vv = k, v
    if paged:
        kk, vv, table = _page(k, v, lk, 64, rng)
        kwargs["block_table"] = table
    torch.manual_seed(99)
    out, lse = fa4.flash_attn_varlen_func(q, kk, vv, cu_q, cu_k, max(lq), max(lk),
                                          dropout_p=p, causal=causal, return_lse=True,
                                          **kwargs)
    sq = sk = 0
    for b, (nq, nk) in enumerate(zip(lq, lk)):
        if nq:
            mask = keep_mask(99, 0, b * hq, hq, nq, nk, p, "cuda")
            check(out[sq:sq + nq].unsqueeze(0), lse[:, sq:sq + nq].unsqueeze(0),
                  q[sq:sq + nq].unsqueeze(0), k[sk:sk + nk].unsqueeze(0),
                  v[sk:sk + nk].unsqueeze(0), causal, dropout=(mask, p))
        sq += nq
        sk += nk


@requires_gpu
@pytest.mark.parametrize("p", [0.1, 0.3, 0.75])
def test_dropped_fraction_is_p(p):
    # Equal scores and v = 1: each output is the kept fraction of its row
    # over 1 - p.
    batch, s, h, d = 4, 1024, 8, 64
    q = torch.zeros(batch, s, h, d, device="cuda", dtype=torch.float16)
    v = torch.ones(batch, s, h, d, device="cuda", dtype=torch.float16)
    out = fa4.flash_attn_func(q, q, v, dropout_p=p)
    kept = (out[..., 0].float() * (1 - p)).mean().item()
    assert abs((1 - kept) - p) < 0.01, f"dropped {1 - kept:.4f}, p = {p}"


@requires_gpu
@pytest.mark.parametrize("p, kept", [(0.001, 1.0), (0.999, 1.0 / 256)])
def test_the_8_bit_draws_ends(p, kept):
    # keep = max(1, round((1 - p) * 256)): 256 keeps every value (the
    # kernel's threshold wraps to 0xffffffff), 1 keeps 1/256 of them.
    batch, s, h, d = 4, 1024, 8, 64
    q = torch.zeros(batch, s, h, d, device="cuda", dtype=torch.float16)
    v = torch.ones(batch, s, h, d, device="cuda", dtype=torch.float16)
    out = fa4.flash_attn_func(q, q, v, dropout_p=p)[..., 0].float() * (1 - p)
    if kept == 1.0:
        assert (out - 1).abs().max().item() < 1e-3, "a value was dropped at p = 0.001"
    else:
        assert abs(out.mean().item() - kept) < 2e-4, f"kept {out.mean().item():.5f}, expected 1/256"


@requires_gpu
def test_same_seed_same_output_and_fresh_masks_per_call():
    q, k, v = _inputs(2, 256, 256, 8, 8, 64, "bfloat16")
    torch.manual_seed(5)
    first = fa4.flash_attn_func(q, k, v, dropout_p=0.2)
    second = fa4.flash_attn_func(q, k, v, dropout_p=0.2)
    torch.manual_seed(5)
    again = fa4.flash_attn_func(q, k, v, dropout_p=0.2)
    torch.manual_seed(6)
    other = fa4.flash_attn_func(q, k, v, dropout_p=0.2)
    assert torch.equal(first, again), "torch.manual_seed does not reproduce the output"
    assert not torch.equal(first, second), "two calls drew the same mask"
    assert not torch.equal(first, other), "two seeds drew the same mask"
    # The offset advanced by 32 * batch * nheads per call, as FA2's does.
    torch.manual_seed(5)
    fa4.flash_attn_func(q, k, v, dropout_p=0.2)
    assert torch.cuda.default_generators[0].get_offset() == 2 * 8 * 32


@requires_gpu
def test_dropout_zero_is_the_plain_kernel():
    q, k, v = _inputs(1, 200, 200, 4, 4, 128, "bfloat16")
    assert torch.equal(fa4.flash_attn_func(q, k, v, dropout_p=0.0),
                       fa4.flash_attn_func(q, k, v))


@requires_gpu
def test_unbuilt_dropout_combinations_are_named():
    q, k, v = _inputs(1, 64, 64, 4, 4, 64, "bfloat16")
    with pytest.raises(NotImplementedError, match="sink dropout"):
        fa4.flash_attn_func(q, k, v, dropout_p=0.1, softcap=5.0,
                            learnable_sink=torch.zeros(4, device="cuda"))
    with pytest.raises(NotImplementedError, match="dropout"):
        fa4.flash_attn_func(q, k, v, dropout_p=0.1, load_path="tma")


def _capture(fn):
    """fn captured in a CUDA graph (after a warm-up on a side stream, as
    torch recommends); returns (graph, fn's outputs in the graph's pool)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        outputs = fn()
    return graph, outputs


def _replay(graph, outputs, seed=None):
    """One replay (after torch.manual_seed(seed) when given), the outputs
    copied out."""
    if seed is not None:
        torch.manual_seed(seed)
    graph.replay()
    torch.cuda.synchronize()
    return [t.clone() for t in outputs]


@requires_gpu
@pytest.mark.parametrize("causal", [False, True])
def test_dropout_under_cuda_graph_capture(causal):
    """Captured, each replay draws a fresh mask (the kernel reads its seed
    and offset from a captured torch draw); torch.manual_seed before a
    replay reproduces it; and each replay's output is the reference with
    the mask its S_dmask reports."""
    q, k, v = _inputs(2, 113, 203, 4, 2, 64, "bfloat16")
    p = 0.3
    graph, outputs = _capture(lambda: fa4.flash_attn_func(
        q, k, v, dropout_p=p, causal=causal, return_attn_probs=True))
    first = _replay(graph, outputs, seed=5)
    again = _replay(graph, outputs, seed=5)
    fresh = _replay(graph, outputs)
    assert torch.equal(first[0], again[0]) and torch.equal(first[2], again[2]), \
        "the same seed does not reproduce a replay"
    assert not torch.equal(first[2] > 0, fresh[2] > 0), "consecutive replays drew one mask"
    out, _, s_dmask = first
    block_n = fa4.attn_probs_block_n(q, k, v, p, causal=causal)
    attn, ref = _normalize_s_dmask(s_dmask, q, k, causal, block_n)
    assert (attn - ref).abs().max().item() < 1e-2
    visible = s_dmask[:, :, :113, :203]
    kept = attn * (visible > 0) / (1 - p)
    out_ref = torch.einsum("bhqk,bkhd->bqhd", kept, v.repeat_interleave(2, dim=2).float())
    assert (out.float() - out_ref).abs().max().item() < 0.05
    # The captured output is the eager kernel's with that mask: the same
    # S_dmask signs where the probabilities are not zero.
    nonzero = visible != 0
    dropped = (visible < 0)[nonzero].float().mean().item()
    assert abs(dropped - p) < 0.02, f"dropped fraction {dropped:.3f} for p = {p}"


@requires_gpu
def test_varlen_dropout_under_cuda_graph_capture():
    """The varlen entry point captured: replays reproduce under one seed and
    differ from each other, and p = 0 captures the plain kernel."""
    q, k, v = _inputs(1, 300, 300, 4, 4, 64, "float16")
    q, k, v = (t.squeeze(0) for t in (q, k, v))
    cu = torch.tensor([0, 100, 300], dtype=torch.int32, device="cuda")
    graph, outputs = _capture(lambda: (fa4.flash_attn_varlen_func(
        q, k, v, cu, cu, 200, 200, dropout_p=0.2, causal=True),))
    first = _replay(graph, outputs, seed=9)
    again = _replay(graph, outputs, seed=9)
    fresh = _replay(graph, outputs)
    assert torch.equal(first[0], again[0])
    assert not torch.equal(first[0], fresh[0])


def _normalize_s_dmask(s_dmask, q, k, causal, block_n, window=(-1, -1), softcap=0.0,
                       alibi_slopes=None):
    """FlashAttention-2's normalize_flash_attn_S, written from its
    description: S_dmask's block j holds exp(s - m_j) (m_j the running max
    after blocks visited from the last down to j) with the dropped entries
    negated; softmax = |S_dmask| * exp(m_j - lse). The scores s are FA2's:
    scaled, softcapped, masked (causal or window, bottom-right aligned),
    then the ALiBi bias -slope * |i + Sk - Sq - j|."""
    batch, seqlen_q, nheads, d = q.shape
    seqlen_k = k.shape[1]
    kk = k.repeat_interleave(nheads // k.shape[2], dim=2)
    scores = torch.einsum("bqhd,bkhd->bhqk", q.float(), kk.float()) / math.sqrt(d)
    if softcap > 0:
        scores = torch.tanh(scores / softcap) * softcap
    keep = visible_keys(seqlen_q, seqlen_k, causal, window, q.device)
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    if alibi_slopes is not None:
        i = torch.arange(seqlen_q, device=q.device).view(-1, 1)
        j = torch.arange(seqlen_k, device=q.device).view(1, -1)
        distance = (i + seqlen_k - seqlen_q - j).abs().float()
        scores = scores - alibi_slopes.float().view(1, nheads, 1, 1) * distance
    lse = torch.logsumexp(scores, dim=-1, keepdim=True)
    blocks = scores.split(block_n, dim=-1)
    maxes = torch.stack([b.amax(dim=-1) for b in blocks], dim=-1)
    running = torch.cummax(maxes.flip(-1), dim=-1).values.flip(-1)
    probs = s_dmask[:, :, :seqlen_q, :seqlen_k].float().abs()
    parts = [p * torch.exp(running[..., j:j + 1] - lse).nan_to_num(0.0)
             for j, p in enumerate(probs.split(block_n, dim=-1))]
    return torch.cat(parts, dim=-1), torch.softmax(scores, dim=-1).nan_to_num(0.0)


@requires_gpu
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("d", [64, 128, 256])
def test_s_dmask_is_fa2s_testing_aid(d, causal):
    q, k, v = _inputs(2, 113, 203, 4, 2, d, "bfloat16")
    torch.manual_seed(21)
    out, lse, s_dmask = fa4.flash_attn_func(q, k, v, dropout_p=0.3, causal=causal,
                                            return_attn_probs=True)
    assert s_dmask.shape == (2, 4, 128, 256) and s_dmask.dtype == q.dtype
    torch.manual_seed(21)
    plain = fa4.flash_attn_func(q, k, v, dropout_p=0.3, causal=causal)
    assert torch.equal(out, plain), "the S_dmask kernel's output differs"
    block_n = fa4.attn_probs_block_n(q, k, v, 0.3, causal=causal)
    assert block_n in (32, 64, 128)
    # The signs are the mask where a probability is nonzero.
    mask = keep_mask(21, 0, 0, 4, 113, 203, 0.3, "cuda", batch=2)
    visible = s_dmask[:, :, :113, :203]
    nonzero = visible != 0
    assert torch.equal((visible > 0)[nonzero], mask[nonzero])
    assert not s_dmask[:, :, 113:].any() and not s_dmask[..., 203:].any()
    # Normalized FA2's way, the magnitudes are the softmax.
    attn, ref = _normalize_s_dmask(s_dmask, q, k, causal, block_n)
    assert (attn - ref).abs().max().item() < 1e-2
    # And they reproduce the output: dropped entries zeroed, kept ones over 1 - p.
    kv_heads = v.repeat_interleave(2, dim=2).float()
    kept = attn * (visible > 0) / 0.7
    out_ref = torch.einsum("bhqk,bkhd->bqhd", kept, kv_heads)
    assert (out.float() - out_ref).abs().max().item() < 0.05


@requires_gpu
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("d", [64, 128, 256])
def test_varlen_s_dmask_is_fa2s_testing_aid(d, causal):
    """Varlen S_dmask: (batch, nheads, max_seqlen_q and max_seqlen_k rounded
    up to 128), sequence b's query i and key j at [b, :, i, j]. Per sequence
    the same checks as the dense test: the output is the plain kernel's, the
    signs are the keep mask (keyed by sequence, head, local row and column),
    the magnitudes normalize to the softmax, and they reproduce the output;
    nothing is written outside a sequence's rows and key blocks."""
    lq, lk = [113, 0, 64, 200], [203, 5, 64, 150]
    heads, heads_k, p = 4, 2, 0.3
    q, k, v, _, cu_q, cu_k = _packed(lq, lk, heads, heads_k, d, seed=d)
    args = (q, k, v, cu_q, cu_k, max(lq), max(lk))
    torch.manual_seed(21)
    out, lse, s_dmask = fa4.flash_attn_varlen_func(*args, dropout_p=p, causal=causal,
                                                   return_attn_probs=True)
    assert s_dmask.shape == (4, heads, 256, 256) and s_dmask.dtype == q.dtype
    torch.manual_seed(21)
    plain = fa4.flash_attn_varlen_func(*args, dropout_p=p, causal=causal)
    assert torch.equal(out, plain), "the S_dmask kernel's output differs"
    mask = keep_mask(21, 0, 0, heads, 256, 256, p, "cuda", batch=4)
    block_n = fa4.attn_probs_block_n(q[None, :1], k[None, :1], v[None, :1], p, causal=causal)
    dropped = total = 0
    for b, (sq, sk) in enumerate(zip(lq, lk)):
        visible = s_dmask[b, :, :sq, :sk]
        assert not s_dmask[b, :, sq:].any(), f"sequence {b}: rows past its length written"
        columns = -(-sk // block_n) * block_n  # the visited blocks' columns
        assert not s_dmask[b, :, :, columns:].any(), f"sequence {b}: unvisited blocks written"
        if sq == 0 or sk == 0:
            continue
        nonzero = visible != 0
        assert torch.equal((visible > 0)[nonzero], mask[b, :, :sq, :sk][nonzero])
        dropped += (visible < 0)[nonzero].sum().item()
        total += nonzero.sum().item()
        qs = q[sum(lq[:b]):sum(lq[:b + 1])][None]
        ks = k[sum(lk[:b]):sum(lk[:b + 1])][None]
        vs = v[sum(lk[:b]):sum(lk[:b + 1])][None]
        attn, ref = _normalize_s_dmask(s_dmask[b:b + 1], qs, ks, causal, block_n)
        assert (attn - ref).abs().max().item() < 1e-2, f"sequence {b}"
        kept = attn * (visible[None] > 0) / (1 - p)
        out_ref = torch.einsum("bhqk,bkhd->bqhd", kept,
                               vs.repeat_interleave(heads // heads_k, dim=2).float())
        assert (out[sum(lq[:b]):sum(lq[:b + 1])].float() - out_ref[0]).abs().max().item() < 0.05
    assert abs(dropped / total - p) < 0.03, f"dropped fraction {dropped / total:.3f}"


# (causal, window, softcap, ALiBi): the switchable S_dmask kernels. The
# windows have both edges inside the keys and unmasked blocks between them,
# so a visit order other than FlashAttention-2's (the left edge before the
# unmasked blocks) changes the running max that S_dmask's entries are
# relative to, and the normalization below fails.
_MODS = {
    "window": (False, (300, 200), 0.0, False),
    "window_alibi": (False, (300, 200), 0.0, True),
    "window_left_only": (False, (250, -1), 0.0, False),
    "causal_alibi": (True, (-1, -1), 0.0, True),
    "softcap_alibi": (False, (-1, -1), 8.0, True),
    "causal_window_softcap": (True, (300, -1), 8.0, False),
}


def _check_s_dmask_with_mods(out, plain, s_dmask, q, k, v, p, seed, causal, window, softcap,
                             slopes, block_n, batch_index=0):
    """The S_dmask checks for one (batch entry or sequence) q, k, v: the
    signs are the keep mask, the magnitudes normalize to the softmax, and
    they reproduce the output (dropped entries zeroed, kept ones over 1 - p);
    out agrees with the kernel without S_dmask to rounding (the S_dmask
    kernel keeps FA2's visit order, the other visits a window's edges
    first)."""
    seqlen_q, heads, seqlen_k = q.shape[1], q.shape[2], k.shape[1]
    assert (out.float() - plain.float()).abs().max().item() < 2e-2
    visible = s_dmask[:, :, :seqlen_q, :seqlen_k]
    nonzero = visible != 0
    assert nonzero.any()
    rows = s_dmask.shape[2]
    mask = keep_mask(seed, 0, batch_index * heads, heads, rows, s_dmask.shape[3], p, "cuda")
    mask = mask[:, :, :seqlen_q, :seqlen_k]
    assert torch.equal((visible > 0)[nonzero], mask.expand_as(visible)[nonzero])
    attn, ref = _normalize_s_dmask(s_dmask, q, k, causal, block_n, window, softcap, slopes)
    assert (attn - ref).abs().max().item() < 1e-2
    kept = attn * (visible > 0) / (1 - p)
    out_ref = torch.einsum("bhqk,bkhd->bqhd", kept,
                           v.repeat_interleave(heads // v.shape[2], dim=2).float())
    assert (out.float() - out_ref).abs().max().item() < 0.05


@requires_gpu
@pytest.mark.parametrize("mods", list(_MODS))
@pytest.mark.parametrize("d", [64, 128, 256])
def test_s_dmask_with_window_softcap_alibi(d, mods):
    """S_dmask with a window, softcap or ALiBi (the switchable S_dmask
    kernels), dense: FA2's normalize_flash_attn_S recovers the softmax with
    the block size attn_probs_block_n gives for the same modifications."""
    causal, window, softcap, alibi = _MODS[mods]
    q, k, v = _inputs(2, 700, 1000, 4, 2, d, "bfloat16")
    slopes = (torch.rand(4, device="cuda", generator=torch.Generator(device="cuda")
                         .manual_seed(d)) * 0.05 if alibi else None)
    kwargs = dict(dropout_p=0.2, causal=causal, window_size=window, softcap=softcap,
                  alibi_slopes=slopes)
    torch.manual_seed(5)
    out, lse, s_dmask = fa4.flash_attn_func(q, k, v, return_attn_probs=True, **kwargs)
    assert s_dmask.shape == (2, 4, 768, 1024)
    torch.manual_seed(5)
    plain = fa4.flash_attn_func(q, k, v, **kwargs)
    block_n = fa4.attn_probs_block_n(q, k, v, 0.2, causal=causal, window_size=window,
                                     softcap=softcap, alibi_slopes=slopes)
    assert block_n in (32, 64, 128)
    for b in range(2):
        _check_s_dmask_with_mods(out[b:b + 1], plain[b:b + 1], s_dmask[b:b + 1], q[b:b + 1],
                                 k[b:b + 1], v[b:b + 1], 0.2, 5, causal, window, softcap,
                                 slopes, block_n, batch_index=b)
    assert not s_dmask[:, :, 700:].any() and not s_dmask[..., 1000:].any()


@requires_gpu
@pytest.mark.parametrize("mods", ["window", "window_alibi", "softcap_alibi"])
@pytest.mark.parametrize("d", [64, 128])
def test_varlen_s_dmask_with_window_softcap_alibi(d, mods):
    """Varlen S_dmask on the switchable S_dmask kernels, per sequence."""
    causal, window, softcap, alibi = _MODS[mods]
    lq, lk = [700, 0, 129, 333], [1000, 7, 640, 333]
    heads, heads_k, p = 4, 2, 0.2
    q, k, v, g, cu_q, cu_k = _packed(lq, lk, heads, heads_k, d, seed=d + 1)
    slopes = torch.rand(heads, device="cuda", generator=g) * 0.05 if alibi else None
    args = (q, k, v, cu_q, cu_k, max(lq), max(lk))
    kwargs = dict(dropout_p=p, causal=causal, window_size=window, softcap=softcap,
                  alibi_slopes=slopes)
    torch.manual_seed(9)
    out, lse, s_dmask = fa4.flash_attn_varlen_func(*args, return_attn_probs=True, **kwargs)
    assert s_dmask.shape == (4, heads, 768, 1024)
    torch.manual_seed(9)
    plain = fa4.flash_attn_varlen_func(*args, **kwargs)
    block_n = fa4.attn_probs_block_n(q[None, :lq[0]], k[None, :lk[0]], v[None, :lk[0]], p,
                                     causal=causal, window_size=window, softcap=softcap,
                                     alibi_slopes=slopes)
    for b, (sq, sk) in enumerate(zip(lq, lk)):
        assert not s_dmask[b, :, sq:].any(), f"sequence {b}: rows past its length written"
        columns = -(-sk // block_n) * block_n
        assert not s_dmask[b, :, :, columns:].any(), f"sequence {b}: unvisited blocks written"
        if sq == 0 or sk == 0:
            continue
        qs = slice(sum(lq[:b]), sum(lq[:b + 1]))
        ks = slice(sum(lk[:b]), sum(lk[:b + 1]))
        _check_s_dmask_with_mods(out[qs][None], plain[qs][None], s_dmask[b:b + 1], q[qs][None],
                                 k[ks][None], v[ks][None], p, 9, causal, window, softcap,
                                 slopes, block_n, batch_index=b)


@requires_gpu
@pytest.mark.parametrize("window", [(-1, -1), (60, 20)])
@pytest.mark.parametrize("causal", [False, True])
def test_varlen_s_dmask_with_underestimated_maxima(causal, window):
    """max_seqlen_q / max_seqlen_k below a sequence's length (no kernel can
    see it without a sync): S_dmask, sized from the given maxima, holds what
    the honest call's S_dmask holds in those rows and columns, so no row or
    key block of one (sequence, head) spills into another's matrix, which
    memcheck could not see inside one allocation."""
    lq, lk = [300, 90, 0, 200], [410, 60, 9, 333]
    heads, heads_k, p, d = 4, 2, 0.2, 64
    q, k, v, _, cu_q, cu_k = _packed(lq, lk, heads, heads_k, d, seed=3)
    kwargs = dict(dropout_p=p, causal=causal, window_size=window)
    torch.manual_seed(17)
    _, _, honest = fa4.flash_attn_varlen_func(q, k, v, cu_q, cu_k, max(lq), max(lk),
                                              return_attn_probs=True, **kwargs)
    assert honest.shape == (4, heads, 384, 512)
    # Maxima 100 and 120: S_dmask (4, heads, 128, 128); the grid's m-blocks
    # cover its 128 rows (cdiv(100, tile_m) * tile_m >= 128 for tile_m 64 or
    # 128), and the visited key blocks are the sequences' own.
    torch.manual_seed(17)
    _, _, small = fa4.flash_attn_varlen_func(q, k, v, cu_q, cu_k, 100, 120,
                                             return_attn_probs=True, **kwargs)
    assert small.shape == (4, heads, 128, 128)
    assert torch.equal(small, honest[:, :, :128, :128])
