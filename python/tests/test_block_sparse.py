"""Block-sparse attention (fa4.BlockSparseTensors) on the GPU: random block
lists against a dense reference with the equivalent element mask, under the
SPEC's correctness rule. The element mask is rebuilt from the lists'
documented meaning, not from fa4's code: key j is visible to query i of
(batch b, head h) iff j < seqlen_k and its key block is in the mask list of
i's q-block (and the causal mask allows it) or in the full list. Without
torch or a CUDA GPU these tests report SKIPPED; the argument checks that
need no GPU run everywhere."""

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
from test_flash_attn import _inputs  # noqa: E402

HAS_GPU = torch.cuda.is_available()
requires_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

# Row kinds: both lists, only the mask list, only the full list, no block.
ROW_KINDS = ("mixed", "mask", "full", "empty")


def _cdiv(a, b):
    return -(-a // b)


def random_lists(rng, batch, heads, m_blocks, n_blocks, density, spare=2,
                 kinds=ROW_KINDS, device="cuda"):
    """Random lists: each row lists about density * n_blocks distinct key
    blocks in random order, split by its kind between the mask and the full
    list; slots past a count hold garbage the kernel must not read. Returns
    the four int32 tensors and the (batch, heads, m_blocks, n_blocks) bool
    maps of the mask and full blocks."""
    capacity = n_blocks + spare
    mask_cnt = torch.zeros(batch, heads, m_blocks, dtype=torch.int32)
    full_cnt = torch.zeros_like(mask_cnt)
    garbage = [-7, 1 << 20, n_blocks, 2**31 - 1]
    mask_idx = torch.tensor([rng.choice(garbage) for _ in range(batch * heads * m_blocks * capacity)],
                            dtype=torch.int32).view(batch, heads, m_blocks, capacity)
    full_idx = mask_idx.clone()
    in_mask = torch.zeros(batch, heads, m_blocks, n_blocks, dtype=torch.bool)
    in_full = torch.zeros_like(in_mask)
    for b in range(batch):
        for h in range(heads):
            for i in range(m_blocks):
                kind = rng.choice(kinds)
                count = 0 if kind == "empty" else max(1, round(density * n_blocks))
                blocks = rng.sample(range(n_blocks), min(count, n_blocks))
                if kind == "mask":
                    masked, full = blocks, []
                elif kind == "full":
                    masked, full = [], blocks
                else:
                    cut = rng.randint(0, len(blocks))
                    masked, full = blocks[:cut], blocks[cut:]
                mask_cnt[b, h, i], full_cnt[b, h, i] = len(masked), len(full)
                if masked:
                    mask_idx[b, h, i, :len(masked)] = torch.tensor(masked, dtype=torch.int32)
                    in_mask[b, h, i, masked] = True
                if full:
                    full_idx[b, h, i, :len(full)] = torch.tensor(full, dtype=torch.int32)
                    in_full[b, h, i, full] = True
    to = lambda t: t.to(device)  # noqa: E731
    return (to(mask_cnt), to(mask_idx), to(full_cnt), to(full_idx)), (to(in_mask), to(in_full))


def element_mask(in_mask, in_full, seqlen_q, seqlen_k, block_m, block_n, causal, nheads):
    """(batch, nheads, Sq, Sk) bool from the block maps: the mask list's
    blocks with the causal mask, the full list's without, keys < Sk."""
    def expand(blocks):
        rows = blocks.repeat_interleave(block_m, dim=2)[:, :, :seqlen_q]
        cols = rows.repeat_interleave(block_n, dim=3)
        if cols.shape[3] < seqlen_k:  # key blocks past the lists' n_blocks
            pad = seqlen_k - cols.shape[3]
            cols = torch.nn.functional.pad(cols, (0, pad))
        return cols[..., :seqlen_k]
    keep = visible_keys(seqlen_q, seqlen_k, causal, (-1, -1), in_mask.device)
    allowed = expand(in_mask)
    if keep is not None:
        allowed = allowed & keep
    allowed = allowed | expand(in_full)
    return allowed.expand(-1, nheads, -1, -1) if allowed.shape[1] == 1 else allowed


DENSE_CASES = [
    # (Sq, Sk, block_m, block_n)
    (300, 517, 128, 128),
    (128, 1024, 128, 128),
    (1, 77, 128, 128),
    (1000, 600, 256, 256),
    (513, 2048, 128, 256),
]


@requires_gpu
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("case", DENSE_CASES)
@pytest.mark.parametrize("density", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("heads", ["shared", "per_head"])
def test_random_lists(dtype, d, causal, case, density, heads):
    seqlen_q, seqlen_k, block_m, block_n = case
    rng = random.Random(zlib.crc32(repr((dtype, d, causal, case, density, heads)).encode()))
    batch, nheads, nheads_k = 2, 4, 2
    q, k, v = _inputs(batch, seqlen_q, seqlen_k, nheads, nheads_k, d, dtype, rng.randint(0, 999))
    pattern_heads = 1 if heads == "shared" else nheads
    m_blocks, n_blocks = _cdiv(seqlen_q, block_m), _cdiv(seqlen_k, block_n)
    lists, (in_mask, in_full) = random_lists(rng, batch, pattern_heads, m_blocks, n_blocks,
                                             density)
    bs = fa4.BlockSparseTensors(*lists, block_size=(block_m, block_n))
    out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True,
                                   block_sparse_tensors=bs)
    mask = element_mask(in_mask, in_full, seqlen_q, seqlen_k, block_m, block_n, causal, nheads)
    check(out, lse, q, k, v, causal=False, mask=mask)


@requires_gpu
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("d", [32, 96, 192, 256])
def test_other_head_dims(causal, d):
    rng = random.Random(d * 2 + causal)
    q, k, v = _inputs(2, 257, 700, 4, 4, d, "bfloat16", d)
    lists, (in_mask, in_full) = random_lists(rng, 2, 4, 3, 6, 0.5)
    bs = fa4.BlockSparseTensors(*lists)
    out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True,
                                   block_sparse_tensors=bs)
    check(out, lse, q, k, v, causal=False,
          mask=element_mask(in_mask, in_full, 257, 700, 128, 128, causal, 4))


@requires_gpu
@pytest.mark.parametrize("causal", [False, True])
def test_every_block_listed_is_dense(causal):
    """Every key block in the mask list is the dense kernel's computation;
    every block in the full list is non-causal attention."""
    q, k, v = _inputs(2, 700, 900, 8, 2, 128, "bfloat16", 3)
    m_blocks, n_blocks = _cdiv(700, 128), _cdiv(900, 128)
    order = torch.arange(n_blocks - 1, -1, -1, dtype=torch.int32, device="cuda")
    idx = order.expand(2, 1, m_blocks, n_blocks).contiguous()
    cnt = torch.full((2, 1, m_blocks), n_blocks, dtype=torch.int32, device="cuda")
    none = torch.zeros_like(cnt)
    as_mask = fa4.BlockSparseTensors(cnt, idx, none, idx.clone())
    out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True,
                                   block_sparse_tensors=as_mask)
    check(out, lse, q, k, v, causal=causal)
    as_full = fa4.BlockSparseTensors(none, idx.clone(), cnt, idx)
    out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True,
                                   block_sparse_tensors=as_full)
    check(out, lse, q, k, v, causal=False)
    # Without full lists at all (the C ABI's NULL pair).
    out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True,
                                   block_sparse_tensors=fa4.BlockSparseTensors(cnt, idx))
    check(out, lse, q, k, v, causal=causal)


@requires_gpu
def test_every_element_written():
    """Poisoned outputs: rows whose q-block lists nothing come back 0 with
    lse -inf, the rest finite; nothing is left unwritten."""
    rng = random.Random(11)
    q, k, v = _inputs(2, 450, 333, 4, 4, 64, "float16", 5)
    lists, (in_mask, in_full) = random_lists(rng, 2, 4, 4, 3, 0.6,
                                             kinds=("mixed", "empty"))
    bs = fa4.BlockSparseTensors(*lists)
    out = torch.full((2, 450, 4, 64), float("nan"), device="cuda", dtype=q.dtype)
    lse = torch.full((2, 4, 450), float("nan"), device="cuda")
    _launch.forward(q, k, v, out, lse, 0.125, True, "auto",
                    block_sparse=(*bs, 128, 128))
    assert not torch.isnan(out).any() and not torch.isnan(lse).any()
    mask = element_mask(in_mask, in_full, 450, 333, 128, 128, True, 4)
    empty_rows = ~mask.any(dim=-1)                               # (B, H, Sq)
    assert torch.isneginf(lse[empty_rows]).all()
    assert (out.permute(0, 2, 1, 3)[empty_rows] == 0).all()
    check(out, lse, q, k, v, causal=False, softmax_scale=0.125, mask=mask)


@requires_gpu
@pytest.mark.parametrize("causal", [False, True])
def test_varlen(causal):
    rng = random.Random(21 + causal)
    lq, lk = [0, 300, 129, 700], [200, 0, 517, 700]
    block = 128
    gen = torch.Generator(device="cuda").manual_seed(4)
    nheads, nheads_k, d = 4, 2, 128
    q = torch.randn(sum(lq), nheads, d, device="cuda", dtype=torch.bfloat16, generator=gen)
    k = torch.randn(sum(lk), nheads_k, d, device="cuda", dtype=torch.bfloat16, generator=gen)
    v = torch.randn_like(k)
    cu = lambda ls: torch.tensor([sum(ls[:i]) for i in range(len(ls) + 1)],  # noqa: E731
                                 dtype=torch.int32, device="cuda")
    m_blocks, n_blocks = _cdiv(max(lq), block), _cdiv(max(lk), block)
    lists, (in_mask, in_full) = random_lists(rng, len(lq), nheads, m_blocks, n_blocks, 0.5)
    bs = fa4.BlockSparseTensors(*lists)
    out, lse = fa4.flash_attn_varlen_func(q, k, v, cu(lq), cu(lk), max(lq), max(lk),
                                          causal=causal, return_lse=True,
                                          block_sparse_tensors=bs)
    sq = sk = 0
    for b, (nq, nk) in enumerate(zip(lq, lk)):
        if nq:
            mask = element_mask(in_mask[b:b + 1], in_full[b:b + 1], nq, nk, block, block,
                                causal, nheads)
            check(out[sq:sq + nq].unsqueeze(0), lse[:, sq:sq + nq].unsqueeze(0),
                  q[sq:sq + nq].unsqueeze(0), k[sk:sk + nk].unsqueeze(0),
                  v[sk:sk + nk].unsqueeze(0), causal=False, mask=mask)
        sq, sk = sq + nq, sk + nk


@requires_gpu
@pytest.mark.parametrize("causal", [False, True])
def test_from_masks(causal):
    """Lists built from boolean block maps mean what the maps say; a block
    in both maps is a mask block."""
    rng = random.Random(31 + causal)
    q, k, v = _inputs(2, 600, 700, 4, 2, 64, "bfloat16", 8)
    m_blocks, n_blocks = _cdiv(600, 128), _cdiv(700, 128)
    gen = torch.Generator(device="cuda").manual_seed(rng.randint(0, 99))
    shape = (2, 4, m_blocks, n_blocks)
    in_mask = torch.rand(shape, device="cuda", generator=gen) < 0.4
    in_full = torch.rand(shape, device="cuda", generator=gen) < 0.4
    bs = fa4.BlockSparseTensors.from_masks(in_mask, in_full)
    bs._check_values(torch)  # valid by construction
    assert torch.equal(bs.mask_block_cnt, in_mask.sum(-1).int())
    out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True,
                                   block_sparse_tensors=bs)
    mask = element_mask(in_mask, in_full & ~in_mask, 600, 700, 128, 128, causal, 4)
    check(out, lse, q, k, v, causal=False, mask=mask)


@requires_gpu
def test_torch_compile_traces():
    rng = random.Random(5)
    q, k, v = _inputs(1, 256, 256, 2, 2, 64, "bfloat16", 9)
    lists, (in_mask, in_full) = random_lists(rng, 1, 2, 2, 2, 0.5)
    bs = fa4.BlockSparseTensors(*lists)
    compiled = torch.compile(
        lambda q, k, v: fa4.flash_attn_func(q, k, v, block_sparse_tensors=bs), fullgraph=True)
    out = compiled(q, k, v)
    eager = fa4.flash_attn_func(q, k, v, block_sparse_tensors=bs)
    assert torch.equal(out, eager)


# ---- Bad input: named errors ----

def test_container_checks_types_without_gpu():
    with pytest.raises(ValueError, match="mask_block_cnt must be int32"):
        fa4.BlockSparseTensors(torch.zeros(1, 1, 1, dtype=torch.int64),
                               torch.zeros(1, 1, 1, 1, dtype=torch.int32))
    with pytest.raises(TypeError, match="mask_block_idx must be a torch.Tensor"):
        fa4.BlockSparseTensors(torch.zeros(1, 1, 1, dtype=torch.int32), [[[[0]]]])
    with pytest.raises(ValueError, match="must be on a CUDA device"):
        fa4.BlockSparseTensors(torch.zeros(1, 1, 1, dtype=torch.int32),
                               torch.zeros(1, 1, 1, 1, dtype=torch.int32))
    with pytest.raises(ValueError, match="both be given or both be None"):
        fa4.BlockSparseTensors(None, None, torch.zeros(1, 1, 1, dtype=torch.int32))
    with pytest.raises(TypeError, match="block_size must be a pair of ints"):
        fa4.BlockSparseTensors(None, None, block_size=(128, 1.5))
    with pytest.raises(ValueError, match="mask_blocks must be a bool tensor"):
        fa4.BlockSparseTensors.from_masks(torch.zeros(1, 1, 2, 2, dtype=torch.int32))
    with pytest.raises(ValueError, match="must be on a CUDA device"):
        fa4.BlockSparseTensors.from_masks(torch.ones(1, 1, 2, 2, dtype=torch.bool))


@requires_gpu
def test_container_checks_shapes_and_values():
    i32 = dict(dtype=torch.int32, device="cuda")
    cnt, idx = torch.ones(1, 2, 3, **i32), torch.zeros(1, 2, 3, 4, **i32)
    with pytest.raises(ValueError, match=r"mask_block_idx must be \(1, 2, 3\) \+ \(capacity"):
        fa4.BlockSparseTensors(cnt, torch.zeros(1, 2, 4, 4, **i32))
    with pytest.raises(ValueError, match="must have one shape"):
        fa4.BlockSparseTensors(cnt, idx, torch.ones(1, 1, 3, **i32), torch.zeros(1, 1, 3, 4, **i32))
    with pytest.raises(ValueError, match="count outside"):
        fa4.BlockSparseTensors(cnt * 5, idx)
    bad = idx.clone()
    bad[0, 1, 2, 0] = -1
    with pytest.raises(ValueError, match="negative key block"):
        fa4.BlockSparseTensors(cnt, bad)
    with pytest.raises(ValueError, match="listed twice"):
        fa4.BlockSparseTensors(cnt, idx, cnt, idx.clone())
    fa4.BlockSparseTensors(cnt * 5, idx, check=False)  # the kernel clamps


@requires_gpu
def test_call_checks():
    q, k, v = _inputs(2, 300, 300, 4, 4, 64, "bfloat16", 1)
    i32 = dict(dtype=torch.int32, device="cuda")
    cnt = torch.ones(2, 4, 3, **i32)
    idx = torch.zeros(2, 4, 3, 2, **i32)
    bs = fa4.BlockSparseTensors(cnt, idx)
    with pytest.raises(TypeError, match="must be a fa4.BlockSparseTensors"):
        fa4.flash_attn_func(q, k, v, block_sparse_tensors=(cnt, idx))
    with pytest.raises(ValueError, match="have batch 2, the call 1"):
        fa4.flash_attn_func(q[:1], k[:1], v[:1], block_sparse_tensors=bs)
    with pytest.raises(ValueError, match="3 q-blocks; 400 query rows"):
        q2 = torch.randn(2, 400, 4, 64, device="cuda", dtype=torch.bfloat16)
        fa4.flash_attn_func(q2, k, v, block_sparse_tensors=bs)
    with pytest.raises(ValueError, match="1 or nheads"):
        q8 = torch.randn(2, 300, 8, 64, device="cuda", dtype=torch.bfloat16)
        fa4.flash_attn_func(q8, k, v, block_sparse_tensors=bs)
    for kwargs, name in ((dict(dropout_p=0.1), "dropout"), (dict(window_size=(8, 8)), "window"),
                         (dict(softcap=5.0), "softcap"), (dict(load_path="tma"), "tma")):
        with pytest.raises(NotImplementedError, match=name):
            fa4.flash_attn_func(q, k, v, block_sparse_tensors=bs, **kwargs)
    # A tile that does not divide the block size: the runtime names both.
    small = fa4.BlockSparseTensors(torch.ones(2, 4, 10, **i32), torch.zeros(2, 4, 10, 2, **i32),
                                   block_size=(32, 128))
    with pytest.raises(ValueError, match="must be multiples of the kernel's tile"):
        fa4.flash_attn_func(q, k, v, block_sparse_tensors=small)
