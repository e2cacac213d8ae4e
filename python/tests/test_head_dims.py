"""Every head dim FlashAttention-2 accepts, and head_dim_v != head_dim, on the
GPU: the built classes (32, 64, ..., 256) through the kernels directly into
NaN-poisoned outputs, the others (40, 59, 80, 111, ...) through the public
entry points, which pad them to the next class. Dense, varlen and paged, with
GQA, causal or not, and the score modifications at the new sizes; checked
with the SPEC's correctness rule against reference.attention_ref. Without
torch or a CUDA GPU these tests report SKIPPED."""

import math
import os
import random
import sys
import zlib

import pytest

sys.path.insert(0, os.path.dirname(__file__))

torch = pytest.importorskip("torch", reason="torch is not installed")
import fa4  # noqa: E402
from fa4 import _checks  # noqa: E402

from reference import check  # noqa: E402
from test_masks import _dense, _inputs  # noqa: E402
from test_varlen import _check_per_sequence, _cu, _lengths, _packed, _page  # noqa: E402

HAS_GPU = torch.cuda.is_available()
pytestmark = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

BUILT = [32, 160, 192, 224, 256]           # the classes new in this file
PADDED = [8, 40, 59, 72, 80, 111, 136, 200, 232, 255]
DV_PAIRS = [(192, 128)]
HEADS = [(8, 8), (32, 8), (40, 8), (8, 1)]
SEQLENS = [(1, 1), (3, 3), (64, 32), (113, 203), (239, 1), (1000, 1000), (4224, 4224)]
MODS = ["none", "window", "softcap", "alibi"]


def _mods(mod, rng, seqlen_k, heads, batch):
    """The keyword arguments of one score modification."""
    if mod == "window":
        return {"window_size": (rng.randint(0, seqlen_k + 64), rng.randint(0, seqlen_k + 64))}
    if mod == "softcap":
        return {"softcap": rng.choice([2.0, 10.0])}
    if mod == "alibi":
        gen = torch.Generator(device="cuda").manual_seed(rng.randint(0, 2**31))
        return {"alibi_slopes": torch.rand(heads, device="cuda", generator=gen) * 0.3}
    return {}


def _check_mods(mods):
    """reference.check's names for the entry point's keyword arguments."""
    return {"window": mods.get("window_size", (-1, -1)), "softcap": mods.get("softcap", 0.0),
            "alibi_slopes": mods.get("alibi_slopes")}


@pytest.mark.parametrize("seqlens", SEQLENS, ids=lambda s: f"sq{s[0]}-sk{s[1]}")
@pytest.mark.parametrize("mod", MODS)
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("dims", [(d, d) for d in BUILT] + DV_PAIRS,
                         ids=lambda p: f"d{p[0]}" if p[0] == p[1] else f"d{p[0]}-dv{p[1]}")
def test_dense_built(dims, dtype, causal, mod, seqlens):
    """The kernels themselves, into poisoned outputs: every element written."""
    if mod == "window" and causal:
        pytest.skip("causal + window is a window kernel (covered by mod=window)")
    d, dv = dims
    key = repr(("dense", dims, dtype, causal, mod, seqlens))
    seed = zlib.crc32(key.encode())
    rng = random.Random(seed)
    heads = HEADS[seed % len(HEADS)]
    batch = 1 if seqlens[0] >= 1000 else 3
    q, k, v = _inputs(batch, *seqlens, heads, d, dtype, seed)
    if dv != d:
        v = torch.randn(batch, seqlens[1], heads[1], dv, device="cuda",
                        generator=torch.Generator(device="cuda").manual_seed(seed + 1)).to(q.dtype)
    mods = _mods(mod, rng, seqlens[1], heads[0], batch)
    if mod == "softcap":
        q = q * 4  # scores large enough that the cap bites
    if "alibi_slopes" in mods:
        b, sq, h, _ = q.shape
        out = torch.full((b, sq, h, dv), float("nan"), dtype=q.dtype, device="cuda")
        lse = torch.full((b, h, sq), float("nan"), dtype=torch.float32, device="cuda")
        fa4._launch.forward(q, k, v, out, lse, 1.0 / math.sqrt(d), causal, "auto", (-1, -1),
                            0.0, mods["alibi_slopes"])
        torch.cuda.synchronize()
    else:
        out, lse = _dense(q, k, v, causal, mods.get("window_size", (-1, -1)),
                          mods.get("softcap", 0.0), "auto")
    try:
        check(out, lse, q, k, v, causal, **_check_mods(mods))
    except AssertionError as e:
        raise AssertionError(f"{key}: {e}") from None


@pytest.mark.parametrize("d", PADDED, ids=lambda d: f"d{d}")
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_dense_padded(d, dtype, causal):
    """Head dims without a kernel run on the next class, padded by the entry
    point: the output has the caller's head dim and passes the rule."""
    key = repr(("padded", d, dtype, causal))
    seed = zlib.crc32(key.encode())
    heads = HEADS[seed % len(HEADS)]
    for seqlens in [(113, 203), (1000, 1000)]:
        q, k, v = _inputs(2, *seqlens, heads, d, dtype, seed)
        out, lse = fa4.flash_attn_func(q, k, v, causal=causal, return_lse=True)
        assert out.shape == q.shape[:3] + (d,)
        try:
            check(out, lse, q, k, v, causal)
        except AssertionError as e:
            raise AssertionError(f"{key} {seqlens}: {e}") from None


def test_padding_rule():
    """The class a head dim runs on, and the refusal past 256."""
    assert [_checks.head_dim_class("d", d) for d in (8, 32, 33, 64, 80, 129, 224, 256)] == \
        [32, 32, 64, 64, 96, 160, 224, 256]
    with pytest.raises(ValueError, match="head_dim must be at most 256"):
        _checks.head_dim_class("head_dim", 264)


@pytest.mark.parametrize("mod", MODS)
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("heads", HEADS, ids=lambda h: f"h{h[0]}-{h[1]}")
@pytest.mark.parametrize("layout", ["packed", "paged16", "paged256"])
@pytest.mark.parametrize("dims", [(d, d) for d in BUILT + [80]] + DV_PAIRS,
                         ids=lambda p: f"d{p[0]}" if p[0] == p[1] else f"d{p[0]}-dv{p[1]}")
def test_varlen(dims, layout, heads, causal, mod):
    """Varlen and paged at the new sizes (d = 80 through the padding)."""
    if mod == "window" and causal:
        pytest.skip("causal + window is a window kernel (covered by mod=window)")
    d, dv = dims
    dtype = "bfloat16"
    key = repr(("varlen", dims, layout, heads, causal, mod))
    rng = random.Random(zlib.crc32(key.encode()))
    gen = torch.Generator(device="cuda").manual_seed(zlib.crc32(key.encode()))
    lq, lk = _lengths(rng, 4)
    q = _packed(sum(lq), heads[0], d, dtype, gen)
    k = _packed(sum(lk), heads[1], d, dtype, gen)
    v = _packed(sum(lk), heads[1], dv, dtype, gen)
    mods = _mods(mod, rng, max(lk), heads[0], len(lq))
    if mod == "window":
        mods["window_size"] = (rng.randint(0, 300), rng.randint(0, 300))
    kv, extra = (k, v), {}
    if layout != "packed":
        kc, vc, table = _page(k, v, lk, int(layout[5:]), rng)
        kv, extra = (kc, vc), {"block_table": table}
    out, lse = fa4.flash_attn_varlen_func(q, *kv, _cu(lq), _cu(lk), max(lq), max(lk),
                                          causal=causal, return_lse=True, **mods, **extra)
    torch.cuda.synchronize()
    assert out.shape == (sum(lq), heads[0], dv)
    _check_per_sequence(out, lse, q, k, v, lq, lk, causal, key, **_check_mods(mods))
