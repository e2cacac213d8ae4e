"""FlashAttention-2's packed entry points: Q, K and V stacked in one tensor
(qkvpacked) or K and V in one (kvpacked), dense and varlen. Each is a view
into the packed tensor handed to the unpacked entry point: the kernels take
strides, so no copy is made. Same names, argument order, defaults and
return values as FlashAttention-2; fa4's extras are keyword-only."""

from . import _checks
from .interface import flash_attn_func
from .varlen import flash_attn_varlen_func


def _unstack(name, packed, count, axis, dims):
    """Views packed[..., i, ...] along `axis` for i < count."""
    import torch

    _checks.check_tensor(name, packed, torch)
    if packed.dim() != dims or packed.shape[axis] != count:
        layout = {("qkv", 5): "(batch, seqlen, 3, nheads, headdim)",
                  ("kv", 5): "(batch, seqlen_k, 2, nheads_k, headdim)",
                  ("qkv", 4): "(total, 3, nheads, headdim)",
                  ("kv", 4): "(total_k, 2, nheads_k, headdim)"}[(name, dims)]
        raise ValueError(f"{name} must be {layout}, got shape {tuple(packed.shape)}")
    return packed.unbind(axis)


def flash_attn_qkvpacked_func(qkv, dropout_p=0.0, softmax_scale=None, causal=False,
                              window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                              deterministic=False, return_attn_probs=False, *,
                              return_lse=False, load_path="auto"):
    """flash_attn_func on qkv (batch, seqlen, 3, nheads, headdim). Returns out
    (batch, seqlen, nheads, headdim), or flash_attn_func's tuples."""
    _checks.check_common(dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes,
                         deterministic, return_attn_probs, return_lse)
    q, k, v = _unstack("qkv", qkv, 3, 2, 5)
    return flash_attn_func(q, k, v, dropout_p, softmax_scale, causal, window_size, softcap,
                           alibi_slopes, deterministic, return_attn_probs,
                           return_lse=return_lse, load_path=load_path)


def flash_attn_kvpacked_func(q, kv, dropout_p=0.0, softmax_scale=None, causal=False,
                             window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                             deterministic=False, return_attn_probs=False, *,
                             return_lse=False, load_path="auto"):
    """flash_attn_func on q (batch, seqlen_q, nheads, headdim) and kv
    (batch, seqlen_k, 2, nheads_k, headdim), nheads a multiple of nheads_k."""
    _checks.check_common(dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes,
                         deterministic, return_attn_probs, return_lse)
    k, v = _unstack("kv", kv, 2, 2, 5)
    return flash_attn_func(q, k, v, dropout_p, softmax_scale, causal, window_size, softcap,
                           alibi_slopes, deterministic, return_attn_probs,
                           return_lse=return_lse, load_path=load_path)


def flash_attn_varlen_qkvpacked_func(qkv, cu_seqlens, max_seqlen, dropout_p=0.0,
                                     softmax_scale=None, causal=False, window_size=(-1, -1),
                                     softcap=0.0, alibi_slopes=None, deterministic=False,
                                     return_attn_probs=False, *, return_lse=False):
    """flash_attn_varlen_func on qkv (total, 3, nheads, headdim), the same
    cu_seqlens and max_seqlen for queries and keys."""
    _checks.check_common(dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes,
                         deterministic, return_attn_probs, return_lse)
    q, k, v = _unstack("qkv", qkv, 3, 1, 4)
    return flash_attn_varlen_func(q, k, v, cu_seqlens, cu_seqlens, max_seqlen, max_seqlen,
                                  dropout_p, softmax_scale, causal, window_size, softcap,
                                  alibi_slopes, deterministic, return_attn_probs,
                                  return_lse=return_lse)


def flash_attn_varlen_kvpacked_func(q, kv, cu_seqlens_q, cu_seqlens_k, max_seqlen_q,
                                    max_seqlen_k, dropout_p=0.0, softmax_scale=None,
                                    causal=False, window_size=(-1, -1), softcap=0.0,
                                    alibi_slopes=None, deterministic=False,
                                    return_attn_probs=False, *, return_lse=False):
    """flash_attn_varlen_func on q (total_q, nheads, headdim) and kv
    (total_k, 2, nheads_k, headdim)."""
    _checks.check_common(dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes,
                         deterministic, return_attn_probs, return_lse)
    k, v = _unstack("kv", kv, 2, 1, 4)
    return flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q,
                                  max_seqlen_k, dropout_p, softmax_scale, causal, window_size,
                                  softcap, alibi_slopes, deterministic, return_attn_probs,
                                  return_lse=return_lse)
