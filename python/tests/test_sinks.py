"""Learnable attention sinks (gpt-oss) on the GPU: one fp32 logit per head
that joins every row's softmax denominator and adds no value row; the LSE
includes it. Dense, varlen and paged, causal, windowed or neither, with GQA;
checked with the SPEC's correctness rule against reference.attention_ref,
which appends the sink as an extra score column. Without torch or a CUDA GPU
these tests report SKIPPED."""

import os
import random
import sys
import zlib

import pytest

sys.path.insert(0, os.path.dirname(__file__))

torch = pytest.importorskip("torch", reason="torch is not installed")
import fa4  # noqa: E402

from reference import check  # noqa: E402
from test_masks import _inputs  # noqa: E402
from test_varlen import _check_per_sequence, _cu, _lengths, _packed, _page  # noqa: E402

HAS_GPU = torch.cuda.is_available()
pytestmark = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

HEADS = [(8, 8), (32, 8), (40, 8), (8, 1)]
SEQLENS = [(1, 1), (3, 3), (64, 32), (113, 203), (239, 1), (1000, 1000), (4224, 4224)]
MASKS = ["none", "causal", "window"]


def _sinks(heads, seed):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    return torch.randn(heads, device="cuda", generator=gen) * 2


def _mask_args(mask, rng, seqlen_k):
    if mask == "causal":
        return {"causal": True}
    if mask == "window":
        return {"window_size": (rng.randint(0, seqlen_k + 32), rng.randint(0, seqlen_k + 32))}
    return {}


def _check_args(args):
    return {"window": args.get("window_size", (-1, -1))}


@pytest.mark.parametrize("seqlens", SEQLENS, ids=lambda s: f"sq{s[0]}-sk{s[1]}")
@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("d", [64, 128], ids=lambda d: f"d{d}")
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_dense(dtype, d, mask, seqlens):
    key = repr(("sink", dtype, d, mask, seqlens))
    seed = zlib.crc32(key.encode())
    rng = random.Random(seed)
    heads = HEADS[seed % len(HEADS)]
    q, k, v = _inputs(1 if seqlens[0] >= 1000 else 3, *seqlens, heads, d, dtype, seed)
    sinks = _sinks(heads[0], seed)
    args = _mask_args(mask, rng, seqlens[1])
    out, lse = fa4.flash_attn_func(q, k, v, return_lse=True, learnable_sink=sinks, **args)
    torch.cuda.synchronize()
    try:
        check(out, lse, q, k, v, mask == "causal", sinks=sinks, **_check_args(args))
    except AssertionError as e:
        raise AssertionError(f"{key}: {e}") from None


def test_rows_without_keys_get_the_sink():
    """A window that leaves a row no key: O = 0 and the LSE is the sink."""
    q, k, v = _inputs(1, 64, 16, (4, 4), 64, "bfloat16", 5)
    sinks = torch.tensor([0.5, -1.0, 2.0, 0.0], device="cuda")
    # Bottom-right aligned: row i's diagonal is key i - 48; rows 0..47 see none.
    out, lse = fa4.flash_attn_func(q, k, v, window_size=(0, 0), return_lse=True,
                                   learnable_sink=sinks)
    torch.cuda.synchronize()
    assert torch.equal(out[0, :48], torch.zeros_like(out[0, :48]))
    assert torch.allclose(lse[0, :, :48], sinks[:, None].expand(4, 48))
    check(out, lse, q, k, v, False, window=(0, 0), sinks=sinks)


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("heads", HEADS, ids=lambda h: f"h{h[0]}-{h[1]}")
@pytest.mark.parametrize("layout", ["packed", "paged16", "paged256"])
@pytest.mark.parametrize("d", [64, 128], ids=lambda d: f"d{d}")
def test_varlen(d, layout, heads, mask):
    key = repr(("sink-varlen", d, layout, heads, mask))
    rng = random.Random(zlib.crc32(key.encode()))
    gen = torch.Generator(device="cuda").manual_seed(zlib.crc32(key.encode()))
    lq, lk = _lengths(rng, 4)
    q = _packed(sum(lq), heads[0], d, "float16", gen)
    k = _packed(sum(lk), heads[1], d, "float16", gen)
    v = _packed(sum(lk), heads[1], d, "float16", gen)
    sinks = _sinks(heads[0], zlib.crc32(key.encode()))
    args = _mask_args(mask, rng, 300)
    kv, extra = (k, v), {}
    if layout != "packed":
        kc, vc, table = _page(k, v, lk, int(layout[5:]), rng)
        kv, extra = (kc, vc), {"block_table": table}
    out, lse = fa4.flash_attn_varlen_func(q, *kv, _cu(lq), _cu(lk), max(lq), max(lk),
                                          return_lse=True, learnable_sink=sinks, **args, **extra)
    torch.cuda.synchronize()
    _check_per_sequence(out, lse, q, k, v, lq, lk, mask == "causal", key, sinks=sinks,
                        **_check_args(args))


def test_bad_sinks():
    q, k, v = _inputs(1, 16, 16, (4, 4), 64, "bfloat16", 1)
    for sinks, match in [(torch.zeros(4, device="cuda", dtype=torch.float16), "float32"),
                         (torch.zeros(3, device="cuda"), "learnable_sink must be \\(nheads=4,\\)"),
                         (torch.zeros(8, device="cuda")[::2], "contiguous")]:
        with pytest.raises(ValueError, match=match):
            fa4.flash_attn_func(q, k, v, learnable_sink=sinks)
    with pytest.raises(TypeError, match="learnable_sink"):
        fa4.flash_attn_func(q, k, v, learnable_sink=[0.0] * 4)
    # Sinks are built with causal masks and windows; with a softcap there is
    # no kernel, refused by name.
    with pytest.raises(NotImplementedError, match="softcap sink"):
        fa4.flash_attn_func(q, k, v, softcap=5.0, learnable_sink=torch.zeros(4, device="cuda"))
