"""FlashAttention-2's KV-cache entry point (decode) on the fa4 runtime.

Queries (batch, seqlen_q, nheads, head_dim) attend to the first
cache_seqlens[b] keys of a contiguous cache (batch_cache, seqlen_cache,
nheads_k, head_dim) or of a paged one (num_pages, page_size, nheads_k,
head_dim) named by block_table. Split-KV spreads the keys over num_splits
CTAs; their fp32 partials live in a workspace taken from torch's caching
allocator, so a call can be captured in a CUDA graph.
"""

import numbers

from . import _checks

from ._optional import missing_ops
from ._optional import ops as _ops  # torch.ops.fa4.*, when torch >= 2.4 imports


def _check_cache(name, t, torch, device):
    _checks.check_tensor(name, t, torch)
    if t.device != device:
        raise ValueError(f"{name} must be on {device} (with q), got {t.device}")
    if t.dim() != 4:
        raise ValueError(f"{name} must be (batch_cache, seqlen_cache, nheads_k, head_dim) or "
                         f"paged (num_pages, page_size, nheads_k, head_dim), got shape "
                         f"{tuple(t.shape)}")
    if t.shape[-1] > 1 and t.stride(-1) != 1:
        raise ValueError(f"{name} must be contiguous in its last dimension "
                         f"(stride {t.stride(-1)})")


def _check_index(name, t, torch, device, batch):
    _checks.check_tensor(name, t, torch)
    if t.dtype != torch.int32:
        raise ValueError(f"{name} must be int32, got {t.dtype}")
    if t.device != device:
        raise ValueError(f"{name} must be on {device} (with q), got {t.device}")
    if t.dim() != 1 or t.shape[0] != batch:
        raise ValueError(f"{name} must be ({batch},) (one entry per batch entry), got shape "
                         f"{tuple(t.shape)}")
    if batch and t.stride(0) != 1:
        raise ValueError(f"{name} must be contiguous")


def flash_attn_with_kvcache(q, k_cache, v_cache, k=None, v=None, rotary_cos=None,
                            rotary_sin=None, cache_seqlens=None, cache_batch_idx=None,
                            cache_leftpad=None, block_table=None, softmax_scale=None,
                            causal=False, window_size=(-1, -1), softcap=0.0,
                            rotary_interleaved=True, alibi_slopes=None, num_splits=0,
                            return_softmax_lse=False):
    """Attention of q against a KV cache, FlashAttention-2's signature and semantics.

    q: (batch, seqlen_q, nheads, head_dim). k_cache, v_cache: (batch_cache,
    seqlen_cache, nheads_k, head_dim), or with block_table (batch, max_pages)
    int32 the paged cache (num_pages, page_size, nheads_k, head_dim), page_size
    a multiple of 16. cache_seqlens: an int or int32 (batch,): the keys of each
    entry (None: the whole cache). cache_batch_idx: int32 (batch,), the cache
    entry of each batch entry (contiguous cache). cache_leftpad: int32 (batch,),
    the first key row of each entry (contiguous cache). causal is bottom-right
    aligned; with seqlen_q == 1 it changes nothing. num_splits: 0 chooses, 1
    writes the output directly, up to 128. Returns out (batch, seqlen_q, nheads,
    head_dim), and with return_softmax_lse (out, softmax_lse (batch, nheads,
    seqlen_q) float32).

    k, v: (batch, seqlen_new, nheads_k, head_dim) new tokens, written in place to
    cache rows cache_seqlens[b] .. cache_seqlens[b] + seqlen_new - 1 before attention
    (which then sees them). rotary_cos, rotary_sin: (seqlen_ro, rotary_dim / 2) in q's
    dtype; the new keys are rotated at their positions, q at cache_seqlens[b] + s
    (causal or local) or cache_seqlens[b]; pairs (2i, 2i + 1) when
    rotary_interleaved, else (i, i + rotary_dim / 2). cache_seqlens itself is not
    advanced (as in FlashAttention-2).

    window_size, softcap and alibi_slopes as in flash_attn_func, alone or combined (a
    combination runs on the switchable kernel).
    """
    softmax_scale, causal, window_size, softcap, _, return_softmax_lse = \
        _checks.check_common(0.0, softmax_scale, causal, window_size, softcap, alibi_slopes,
                             False, False, return_softmax_lse)
    if isinstance(num_splits, bool) or not isinstance(num_splits, numbers.Integral):
        raise TypeError(f"num_splits must be an int, got {type(num_splits).__name__}")
    if not 0 <= num_splits <= 128:
        raise ValueError(f"num_splits must be 0 (choose) or 1..128, got {num_splits}")
    _checks.check_flag("rotary_interleaved", rotary_interleaved)
    if cache_seqlens is not None and not hasattr(cache_seqlens, "data_ptr") and (
            isinstance(cache_seqlens, bool) or not isinstance(cache_seqlens, numbers.Integral)):
        raise TypeError(f"cache_seqlens must be an int or a torch.Tensor, got "
                        f"{type(cache_seqlens).__name__}")
    if (k is None) != (v is None):
        raise ValueError("k and v come together: pass both new keys and new values, or neither")
    if (rotary_cos is None) != (rotary_sin is None):
        raise ValueError("rotary_cos and rotary_sin come together: pass both or neither")
    if rotary_cos is not None and k is None:
        raise ValueError("rotary_cos / rotary_sin need new keys to rotate (k, v)")
    import torch
    if _ops is None:
        missing_ops()

    _checks.check_tensor("q", q, torch)
    if not q.is_cuda:
        raise ValueError(f"q must be on a CUDA device, got {q.device}")
    if q.dim() != 4:
        raise ValueError(f"q must be (batch, seqlen_q, nheads, head_dim), got shape "
                         f"{tuple(q.shape)}")
    if q.dtype not in (torch.bfloat16, torch.float16):
        raise ValueError(f"q must be bfloat16 or float16, got {q.dtype}")
    if q.shape[-1] > 1 and q.stride(-1) != 1:
        raise ValueError(f"q must be contiguous in its last dimension (stride {q.stride(-1)})")
    device = q.device
    _check_cache("k_cache", k_cache, torch, device)
    _check_cache("v_cache", v_cache, torch, device)
    if not (q.dtype == k_cache.dtype == v_cache.dtype):
        raise ValueError(f"q, k_cache, v_cache must share a dtype, got {q.dtype}, "
                         f"{k_cache.dtype}, {v_cache.dtype}")
    batch, seqlen_q, nheads, head_dim = q.shape
    if k_cache.shape[3] != head_dim:
        raise ValueError(f"k_cache's head_dim ({k_cache.shape[3]}) must be q's ({head_dim})")
    if v_cache.shape[:3] != k_cache.shape[:3]:
        raise ValueError(f"v_cache must match k_cache in its first three dims: "
                         f"{tuple(v_cache.shape)} vs {tuple(k_cache.shape)}")
    nheads_k = k_cache.shape[2]
    if nheads_k == 0 or nheads % nheads_k != 0:
        raise ValueError(f"nheads ({nheads}) must be a multiple of nheads_k ({nheads_k})")
    alibi_slopes = _checks.check_alibi_slopes(alibi_slopes, torch, batch, nheads, device)
    if block_table is not None:
        _checks.check_tensor("block_table", block_table, torch)
        if block_table.dtype != torch.int32:
            raise ValueError(f"block_table must be int32, got {block_table.dtype}")
        if block_table.device != device:
            raise ValueError(f"block_table must be on {device} (with q), got "
                             f"{block_table.device}")
        if block_table.dim() != 2 or block_table.shape[0] != batch:
            raise ValueError(f"block_table must be ({batch}, max_pages), got shape "
                             f"{tuple(block_table.shape)}")
        if block_table.numel() and block_table.stride(1) != 1:
            raise ValueError("block_table must be contiguous in its last dimension")
    for name, t in (("cache_batch_idx", cache_batch_idx), ("cache_leftpad", cache_leftpad)):
        if t is not None:
            _check_index(name, t, torch, device, batch)
    capacity = (block_table.shape[1] * k_cache.shape[1] if block_table is not None
                else k_cache.shape[1])
    seqlen_default = capacity
    if cache_seqlens is not None and not hasattr(cache_seqlens, "data_ptr"):
        if not 0 <= cache_seqlens <= capacity:
            raise ValueError(f"cache_seqlens ({cache_seqlens}) must be in [0, {capacity}] "
                             "(the cache's rows)")
        if k is not None and cache_seqlens + k.shape[1] > capacity:
            raise ValueError(f"appending {k.shape[1]} tokens after cache_seqlens "
                             f"({cache_seqlens}) overflows the cache's {capacity} rows")
        seqlen_default = int(cache_seqlens)
        cache_seqlens = None
    elif cache_seqlens is not None:
        _check_index("cache_seqlens", cache_seqlens, torch, device, batch)
    head_dim_v = v_cache.shape[3]
    if k is not None:
        for name, t, dim in (("k", k, head_dim), ("v", v, head_dim_v)):
            _checks.check_tensor(name, t, torch)
            if t.device != device:
                raise ValueError(f"{name} must be on {device} (with q), got {t.device}")
            if t.dtype != q.dtype:
                raise ValueError(f"{name} must be {q.dtype} (q's dtype), got {t.dtype}")
            if t.dim() != 4 or t.shape[0] != batch or t.shape[2] != nheads_k or t.shape[3] != dim:
                raise ValueError(f"{name} must be ({batch}, seqlen_new, {nheads_k}, {dim}), got "
                                 f"shape {tuple(t.shape)}")
            if t.shape[-1] > 1 and t.stride(-1) != 1:
                raise ValueError(f"{name} must be contiguous in its last dimension")
        if v.shape[1] != k.shape[1]:
            raise ValueError(f"k and v must have the same seqlen_new, got {k.shape[1]} and "
                             f"{v.shape[1]}")
        if cache_seqlens is None:
            raise ValueError("appending k, v needs cache_seqlens (where the new tokens go)")
    rotary_dim = 0
    if rotary_cos is not None:
        for name, t in (("rotary_cos", rotary_cos), ("rotary_sin", rotary_sin)):
            _checks.check_tensor(name, t, torch)
            if t.device != device:
                raise ValueError(f"{name} must be on {device} (with q), got {t.device}")
            if t.dtype != q.dtype:
                raise ValueError(f"{name} must be {q.dtype} (q's dtype), got {t.dtype}")
            if t.dim() != 2:
                raise ValueError(f"{name} must be (seqlen_ro, rotary_dim / 2), got shape "
                                 f"{tuple(t.shape)}")
            if not t.is_contiguous():
                raise ValueError(f"{name} must be contiguous")
        if rotary_sin.shape != rotary_cos.shape:
            raise ValueError(f"rotary_sin must match rotary_cos's shape "
                             f"{tuple(rotary_cos.shape)}, got {tuple(rotary_sin.shape)}")
        rotary_dim = 2 * rotary_cos.shape[1]
        if not 0 < rotary_dim <= head_dim:
            raise ValueError(f"rotary_dim (2 * rotary_cos.shape[1] = {rotary_dim}) must be in "
                             f"(0, {head_dim}] (head_dim)")
    if softmax_scale is None:
        softmax_scale = _checks.default_softmax_scale(head_dim)

    tensors = (q, k_cache, v_cache, k, v, rotary_cos, rotary_sin, cache_seqlens,
               cache_batch_idx, cache_leftpad, block_table, alibi_slopes)
    direct = _ops.direct(*tensors)
    wanting = [] if direct else _ops.requiring_grad(*tensors)
    if wanting:
        # The caches are mutated, so the operator carries no autograd
        # formula: it runs on detached inputs (no copy), and fa4::no_backward
        # attaches its outputs to the inputs again with a backward that
        # raises by name, in eager mode and under torch.compile alike.
        (q, k_cache, v_cache, k, v, rotary_cos, rotary_sin, cache_seqlens, cache_batch_idx,
         cache_leftpad, block_table, alibi_slopes) = (
            t.detach() if t is not None and t.requires_grad else t for t in tensors)
    kvcache_fwd = _ops.kvcache_fwd_direct if direct else torch.ops.fa4.kvcache_fwd
    out, lse = kvcache_fwd(q, k_cache, v_cache, k, v, rotary_cos, rotary_sin, cache_seqlens,
                           seqlen_default, cache_batch_idx, cache_leftpad, block_table,
                           alibi_slopes, softmax_scale, causal, window_size[0], window_size[1],
                           softcap, rotary_interleaved, num_splits, return_softmax_lse)
    if wanting:
        what = "fa4::kvcache_fwd (flash_attn_with_kvcache)"
        out = torch.ops.fa4.no_backward(out, wanting, what)
        if return_softmax_lse:
            lse = torch.ops.fa4.no_backward(lse, wanting, what)
    return (out, lse) if return_softmax_lse else out
