"""FlashAttention-2's varlen entry point on the fa4 runtime.

Sequences of different lengths are packed along one token dimension:
sequence b's queries are rows cu_seqlens_q[b]:cu_seqlens_q[b + 1] of q
(total_q, nheads, head_dim), its keys rows cu_seqlens_k[b]:cu_seqlens_k[b + 1]
of k and v (total_k, nheads_k, head_dim), or, with block_table, the keys live
in a paged cache (num_pages, page_size, nheads_k, head_dim).
"""

from . import _checks
from . import block_sparse

from ._optional import missing_ops
from ._optional import ops as _ops  # torch.ops.fa4.*, when torch >= 2.4 imports


def _check_index(name, t, torch, device, dims, length=None):
    _checks.check_tensor(name, t, torch)
    if t.dtype != torch.int32:
        raise ValueError(f"{name} must be int32, got {t.dtype}")
    if t.device != device:
        raise ValueError(f"{name} must be on {device} (with q), got {t.device}")
    if t.dim() != dims:
        raise ValueError(f"{name} must have {dims} dimension(s), got shape {tuple(t.shape)}")
    if length is not None and t.shape[0] != length:
        raise ValueError(f"{name} must have {length} entries, got {t.shape[0]}")
    if t.numel() and t.stride(-1) != 1:
        raise ValueError(f"{name} must be contiguous in its last dimension")


def _check_tensor(name, t, torch, dims, device=None):
    _checks.check_tensor(name, t, torch)
    if not t.is_cuda:
        raise ValueError(f"{name} must be on a CUDA device, got {t.device}")
    if device is not None and t.device != device:
        raise ValueError(f"{name} must be on {device} (with q), got {t.device}")
    if t.dim() != dims:
        layout = {3: "(total, nheads, head_dim)",
                  4: "(num_pages, page_size, nheads_k, head_dim)"}[dims]
        raise ValueError(f"{name} must be {layout}, got shape {tuple(t.shape)}")
    if t.dtype not in (torch.bfloat16, torch.float16):
        raise ValueError(f"{name} must be bfloat16 or float16, got {t.dtype}")
    if t.shape[-1] > 1 and t.stride(-1) != 1:
        raise ValueError(f"{name} must be contiguous in its last dimension "
                         f"(stride {t.stride(-1)})")


def flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k,
                           dropout_p=0.0, softmax_scale=None, causal=False,
                           window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                           deterministic=False, return_attn_probs=False, block_table=None, *,
                           seqused_k=None, return_lse=False, learnable_sink=None,
                           block_sparse_tensors=None):
    """softmax(softmax_scale * q k^T) v over packed sequences, FlashAttention-2 style.

    q: (total_q, nheads, head_dim); k, v: (total_k, nheads_k, head_dim), or with
    block_table (batch, max_pages) int32, the paged cache (num_pages, page_size,
    nheads_k, head_dim) with page_size a multiple of 16. cu_seqlens_q/k: int32
    (batch + 1) offsets. Causal masks and windows (window_size, as in
    flash_attn_func) are bottom-right aligned per sequence; softcap > 0 caps the
    scores at softcap * tanh(scores / softcap); alibi_slopes (nheads) or (batch, nheads)
    fp32 adds -slope * |i + seqlen_k - seqlen_q - j| per sequence.
    seqused_k (fa4 extra): int32 (batch), the keys of each sequence actually used.
    learnable_sink (fa4 extra): fp32 (nheads) sink logits, as in flash_attn_func.
    block_sparse_tensors (fa4 extra): a fa4.BlockSparseTensors with batch entry b
    the sequence b, its q-blocks counted from the sequence's first query (at least
    cdiv(max_seqlen_q, block_m) of them); unpaged K/V only.
    Head dims without a kernel are padded as in flash_attn_func (for a paged
    cache, the whole cache is copied).
    max_seqlen_q sizes the grid: rows of a longer sequence come back NaN.
    FA4_CHECK_INPUTS=1 checks cu_seqlens, seqused_k, max_seqlen_* and block_table
    on the host (one synchronization) and raises ValueError naming the bad entry.
    Returns out (total_q, nheads, head_dim); with return_attn_probs,
    (out, softmax_lse, S_dmask) as FlashAttention-2 (S_dmask is None: no dropout;
    with dropout (batch, nheads, max_seqlen_q and max_seqlen_k rounded up to 128),
    sequence b's query i and key j at [b, :, i, j]; not with block_table);
    with return_lse (fa4 extra), (out, softmax_lse). softmax_lse is (nheads, total_q)
    float32. `deterministic` is accepted: the forward pass is deterministic.
    Errors: TypeError for an argument of the wrong type (a flag that is not a
    bool, a tensor that is not a torch.Tensor), ValueError for a bad value,
    NotImplementedError for a feature not built yet. Empty inputs (no
    sequences, no query rows, no heads) return empty outputs.
    """
    softmax_scale, causal, window_size, softcap, return_attn_probs, return_lse = \
        _checks.check_common(dropout_p, softmax_scale, causal, window_size, softcap,
                             alibi_slopes, deterministic, return_attn_probs, return_lse)
    if return_attn_probs and float(dropout_p) > 0:
        if block_table is not None:
            _checks.not_built("return_attn_probs with dropout (S_dmask) with a paged K/V cache "
                              "(block_table)")
        if learnable_sink is not None:
            _checks.not_built("return_attn_probs with dropout (S_dmask) with learnable_sink")
    max_seqlen_q = _checks.check_int("max_seqlen_q", max_seqlen_q)
    max_seqlen_k = _checks.check_int("max_seqlen_k", max_seqlen_k)
    import torch
    if _ops is None:
        missing_ops()

    _check_tensor("q", q, torch, 3)
    device = q.device
    paged = block_table is not None
    kv_dims = 4 if paged else 3
    _check_tensor("k", k, torch, kv_dims, device)
    _check_tensor("v", v, torch, kv_dims, device)
    if not (q.dtype == k.dtype == v.dtype):
        raise ValueError(f"q, k, v must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    total_q, nheads, head_dim = q.shape
    nheads_k = k.shape[-2]
    if k.shape[-1] != head_dim:
        raise ValueError(f"k must have head_dim {head_dim}, got shape {tuple(k.shape)}")
    if v.shape[:-1] != k.shape[:-1]:
        what = ("(num_pages, page_size, nheads_k)" if paged else "(total_k, nheads_k)")
        raise ValueError(f"v must match k in {what}: {tuple(v.shape)} vs {tuple(k.shape)}")
    if (nheads_k == 0 and nheads != 0) or (nheads_k and nheads % nheads_k != 0):
        raise ValueError(f"nheads ({nheads}) must be a multiple of nheads_k ({nheads_k})")
    _check_index("cu_seqlens_q", cu_seqlens_q, torch, device, 1)
    batch = cu_seqlens_q.shape[0] - 1
    if batch < 0:
        raise ValueError("cu_seqlens_q must have batch + 1 >= 1 entries")
    _check_index("cu_seqlens_k", cu_seqlens_k, torch, device, 1, batch + 1)
    if seqused_k is not None:
        _check_index("seqused_k", seqused_k, torch, device, 1, batch)
    if paged:
        _check_index("block_table", block_table, torch, device, 2)
        if block_table.shape[0] != batch:
            raise ValueError(f"block_table must be (batch={batch}, max_pages), got shape "
                             f"{tuple(block_table.shape)}")
        if k.shape[1] % 16 != 0 or k.shape[1] == 0:
            raise ValueError(f"the page size (k.shape[1] = {k.shape[1]}) must be a positive "
                             "multiple of 16")
    head_dim_v = v.shape[-1]
    alibi_slopes = _checks.check_alibi_slopes(alibi_slopes, torch, batch, nheads, device)
    learnable_sink = _checks.check_learnable_sink(learnable_sink, torch, nheads, device)
    if softmax_scale is None:
        softmax_scale = _checks.default_softmax_scale(head_dim)

    if block_sparse_tensors is not None and paged:
        _checks.not_built("block_sparse_tensors with a paged K/V cache (block_table)")
    lists = block_sparse.operator_args(
        block_sparse_tensors, device, batch, nheads, max_seqlen_q, dropout_p=dropout_p,
        window_size=window_size, softcap=softcap, alibi_slopes=alibi_slopes,
        learnable_sink=learnable_sink)

    want_lse = return_lse or return_attn_probs
    q, k, v, head_dim_v = _checks.pad_head_dims(q, k, v)
    if return_attn_probs and float(dropout_p) > 0:
        out, lse, s_dmask = _ops.varlen_fwd_with_probs(
            q, k, v, cu_seqlens_q, cu_seqlens_k, seqused_k, max_seqlen_q, max_seqlen_k,
            softmax_scale, causal, float(dropout_p), window_size, softcap, alibi_slopes)
        return out[..., :head_dim_v], lse, s_dmask
    varlen_fwd = (_ops.varlen_fwd_direct
                  if _ops.direct(q, k, v, cu_seqlens_q, cu_seqlens_k, seqused_k, block_table,
                                 alibi_slopes, learnable_sink, *lists[:4])
                  else torch.ops.fa4.varlen_fwd)
    out, lse = varlen_fwd(q, k, v, cu_seqlens_q, cu_seqlens_k, seqused_k, block_table,
                          alibi_slopes, learnable_sink, max_seqlen_q, max_seqlen_k,
                          softmax_scale, causal, window_size[0], window_size[1], softcap,
                          want_lse, float(dropout_p), *lists)
    if out.shape[-1] != head_dim_v:  # drop the padding columns (a view)
        out = out[..., :head_dim_v]
    if return_attn_probs:
        return out, lse, None
    return (out, lse) if return_lse else out
