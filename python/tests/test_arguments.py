"""The argument rule of fa4's Python entry points, with no GPU and no torch:
TypeError for the wrong type, ValueError for a bad value, NotImplementedError
for a feature not built yet. Scalar arguments are checked before any tensor,
so these run with q = k = v = None."""

import inspect

import pytest

import fa4
from fa4 import _checks

DENSE = fa4.flash_attn_func


def VARLEN(**kwargs):
    return fa4.flash_attn_varlen_func(None, None, None, None, None, 1, 1, **kwargs)


def test_dense_signature_is_flash_attention_2s():
    params = list(inspect.signature(DENSE).parameters.values())
    positional = [(p.name, p.default) for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert positional == [
        ("q", inspect.Parameter.empty), ("k", inspect.Parameter.empty),
        ("v", inspect.Parameter.empty), ("dropout_p", 0.0), ("softmax_scale", None),
        ("causal", False), ("window_size", (-1, -1)), ("softcap", 0.0),
        ("alibi_slopes", None), ("deterministic", False), ("return_attn_probs", False)]
    keyword_only = {p.name: p.default for p in params if p.kind == p.KEYWORD_ONLY}
    assert keyword_only == {"return_lse": False, "load_path": "auto", "learnable_sink": None,
                            "block_sparse_tensors": None}


@pytest.mark.parametrize("call", [
    lambda **kw: DENSE(None, None, None, **kw), VARLEN], ids=["dense", "varlen"])
@pytest.mark.parametrize("kwargs, error, match", [
    ({"causal": 1}, TypeError, "causal must be a bool, got int"),
    ({"causal": "yes"}, TypeError, "causal must be a bool, got str"),
    ({"deterministic": None}, TypeError, "deterministic must be a bool"),
    ({"return_attn_probs": 0}, TypeError, "return_attn_probs must be a bool"),
    ({"return_lse": 1.0}, TypeError, "return_lse must be a bool"),
    ({"softmax_scale": "0.1"}, TypeError, "softmax_scale must be a number"),
    ({"softmax_scale": True}, TypeError, "softmax_scale must be a number"),
    ({"softmax_scale": -0.5}, ValueError, "softmax_scale must be positive and finite"),
    ({"softmax_scale": float("nan")}, ValueError, "softmax_scale must be positive"),
    # float32 rounds these to infinity / to 0: an error, never the default.
    ({"softmax_scale": 1e39}, ValueError, "not a finite normal number"),
    ({"softmax_scale": 1e-50}, ValueError, "not a finite normal number"),
    ({"dropout_p": "0"}, TypeError, "dropout_p must be a number"),
    ({"dropout_p": 1.0}, ValueError, "dropout_p must be in \\[0, 1\\), got 1.0"),
    ({"dropout_p": -0.1}, ValueError, "dropout_p must be in \\[0, 1\\)"),
    ({"dropout_p": float("nan")}, ValueError, "dropout_p must be in \\[0, 1\\)"),
    ({"window_size": 5}, TypeError, "window_size must be a pair of ints"),
    ({"window_size": (1.5, 0)}, TypeError, "window_size\\[0\\] must be an int"),
    ({"window_size": (1, 2, 3)}, TypeError, "window_size must be a pair of ints"),
    ({"window_size": (-2, 0)}, ValueError, "window_size\\[0\\] must be >= -1, got -2"),
    ({"window_size": (0, -5)}, ValueError, "window_size\\[1\\] must be >= -1, got -5"),
    ({"window_size": (2 ** 31, 0)}, ValueError, "window_size\\[0\\] must be < 2\\^31"),
    ({"softcap": None}, TypeError, "softcap must be a number"),
    ({"softcap": -1.0}, ValueError, "softcap must be 0 \\(off\\) or positive and finite"),
    ({"softcap": float("nan")}, ValueError, "softcap must be 0"),
    ({"softcap": float("inf")}, ValueError, "softcap must be 0"),
    ({"alibi_slopes": object()}, TypeError, "alibi_slopes must be a torch.Tensor"),
    ({"alibi_slopes": [0.5]}, TypeError, "alibi_slopes must be a torch.Tensor, got list"),
])
def test_scalar_arguments(call, kwargs, error, match):
    with pytest.raises(error, match=match):
        call(**kwargs)


@pytest.mark.parametrize("value, error, match", [
    (-1, ValueError, "max_seqlen_q must be >= 0, got -1"),
    (2.0, TypeError, "max_seqlen_q must be an int, got float"),
    (True, TypeError, "max_seqlen_q must be an int, got bool"),
    ("8", TypeError, "max_seqlen_q must be an int, got str"),
])
def test_varlen_max_seqlen(value, error, match):
    with pytest.raises(error, match=match):
        fa4.flash_attn_varlen_func(None, None, None, None, None, value, 1)


def test_load_path():
    with pytest.raises(TypeError, match="load_path must be a str"):
        DENSE(None, None, None, load_path=1)
    with pytest.raises(ValueError, match="load_path must be one of"):
        DENSE(None, None, None, load_path="dma")


def test_valid_windows_and_softcaps_pass():
    assert _checks.check_window_size((-1, -1)) == (-1, -1)
    assert _checks.check_window_size([128, 0]) == (128, 0)
    assert _checks.check_softcap(0) == 0.0
    assert _checks.check_softcap(30) == 30.0


def test_valid_scales_pass():
    assert _checks.check_softmax_scale(None) is None
    assert _checks.check_softmax_scale(0.125) == 0.125
    assert _checks.check_softmax_scale(3) == 3.0
    assert _checks.default_softmax_scale(64) == 0.125


FA2_SCALARS = [("dropout_p", 0.0), ("softmax_scale", None), ("causal", False),
               ("window_size", (-1, -1)), ("softcap", 0.0), ("alibi_slopes", None),
               ("deterministic", False), ("return_attn_probs", False)]
E = inspect.Parameter.empty


@pytest.mark.parametrize("name, leading, extras", [
    ("flash_attn_qkvpacked_func", [("qkv", E)], {"return_lse": False, "load_path": "auto"}),
    ("flash_attn_kvpacked_func", [("q", E), ("kv", E)],
     {"return_lse": False, "load_path": "auto"}),
    ("flash_attn_varlen_qkvpacked_func",
     [("qkv", E), ("cu_seqlens", E), ("max_seqlen", E)], {"return_lse": False}),
    ("flash_attn_varlen_kvpacked_func",
     [("q", E), ("kv", E), ("cu_seqlens_q", E), ("cu_seqlens_k", E), ("max_seqlen_q", E),
      ("max_seqlen_k", E)], {"return_lse": False}),
])
def test_packed_signatures_are_flash_attention_2s(name, leading, extras):
    params = list(inspect.signature(getattr(fa4, name)).parameters.values())
    positional = [(p.name, p.default) for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert positional == leading + FA2_SCALARS
    assert {p.name: p.default for p in params if p.kind == p.KEYWORD_ONLY} == extras


@pytest.mark.parametrize("call", [
    lambda **kw: fa4.flash_attn_qkvpacked_func(None, **kw),
    lambda **kw: fa4.flash_attn_kvpacked_func(None, None, **kw),
    lambda **kw: fa4.flash_attn_varlen_qkvpacked_func(None, None, 1, **kw),
    lambda **kw: fa4.flash_attn_varlen_kvpacked_func(None, None, None, None, 1, 1, **kw),
], ids=["qkvpacked", "kvpacked", "varlen_qkvpacked", "varlen_kvpacked"])
@pytest.mark.parametrize("kwargs, error, match", [
    ({"causal": 1}, TypeError, "causal must be a bool"),
    ({"dropout_p": 1.5}, ValueError, "dropout_p must be in"),
    ({"window_size": (-3, 0)}, ValueError, "window_size\\[0\\] must be >= -1"),
    ({"softcap": -2.0}, ValueError, "softcap must be 0"),
])
def test_packed_forms_check_scalars_first(call, kwargs, error, match):
    with pytest.raises(error, match=match):
        call(**kwargs)


@pytest.mark.parametrize("kwargs, what", [
    ({"block_table": object()}, "with a paged K/V cache"),
    ({"learnable_sink": object()}, "with learnable_sink"),
])
def test_s_dmask_for_varlen_is_refused_by_name_where_not_built(kwargs, what):
    """Varlen S_dmask is built for unpaged K/V, with or without a window,
    softcap and ALiBi; the rest is refused before any tensor is looked at."""
    with pytest.raises(NotImplementedError, match=f"S_dmask\\) {what}"):
        VARLEN(dropout_p=0.1, return_attn_probs=True, **kwargs)
