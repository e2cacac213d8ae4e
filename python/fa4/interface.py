"""FlashAttention-2's Python entry points on the fa4 runtime.

Tensors are torch tensors laid out (batch, seqlen, nheads, head_dim), as in
FlashAttention. Kernels run on torch's current stream of the tensors' device;
the output is allocated by the call. Errors: TypeError for an argument of the
wrong type, ValueError for a bad value, NotImplementedError for a feature not
built yet (fa4._checks).
"""

from . import _checks
from . import block_sparse

from ._optional import missing_ops
from ._optional import ops as _ops  # torch.ops.fa4.*, when torch >= 2.4 imports
from . import _runtime as rt

_not_built = _checks.not_built


def _check_tensor(name, t, torch):
    _checks.check_tensor(name, t, torch)
    if not t.is_cuda:
        raise ValueError(f"{name} must be on a CUDA device, got {t.device}")
    if t.dim() != 4:
        raise ValueError(f"{name} must be (batch, seqlen, nheads, head_dim), got shape "
                         f"{tuple(t.shape)}")
    if t.dtype not in (torch.bfloat16, torch.float16):
        raise ValueError(f"{name} must be bfloat16 or float16, got {t.dtype}")
    if t.shape[-1] > 1 and t.stride(-1) != 1:
        raise ValueError(f"{name} must be contiguous in its last dimension "
                         f"(stride {t.stride(-1)})")


def flash_attn_func(q, k, v, dropout_p=0.0, softmax_scale=None, causal=False,
                    window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                    deterministic=False, return_attn_probs=False, *, return_lse=False,
                    load_path="auto", learnable_sink=None, block_sparse_tensors=None):
    """softmax(softmax_scale * q k^T) v, FlashAttention-2 style.

    q: (batch, seqlen_q, nheads, head_dim); k, v: (batch, seqlen_k, nheads_k, head_dim)
    with nheads a multiple of nheads_k (GQA/MQA). causal masks are aligned to the
    bottom-right corner. window_size (left, right): query i sees keys
    [i + seqlen_k - seqlen_q - left, i + seqlen_k - seqlen_q + right], -1 unbounded
    (causal makes right 0). softcap > 0: scores become softcap * tanh(scores / softcap).
    alibi_slopes: fp32 (nheads) or (batch, nheads); -slope * |i + seqlen_k - seqlen_q - j|
    is added to the score of query i and key j. Any combination of these, and of each
    with dropout_p, runs (a combination without a kernel of its own runs on the
    switchable kernel, cp.async). Returns out (batch, seqlen_q, nheads, head_dim); with
    return_attn_probs, (out, softmax_lse, S_dmask) as FlashAttention-2: S_dmask is
    None without dropout; with dropout it is FA2's testing aid, (batch, nheads,
    seqlen_q and seqlen_k rounded up to 128) in q's dtype, each key block's
    probabilities as the kernel computed them (relative to the running max at that
    block, before normalization; attn_probs_block_n gives the block size), negated
    where dropped, 0 where no block was visited. With return_lse (fa4 extra),
    (out, softmax_lse). softmax_lse
    is (batch, nheads, seqlen_q) float32. `deterministic` is accepted: the forward
    pass is deterministic. load_path (fa4 extra): "auto", "tma" or "cp_async".
    learnable_sink (fa4 extra): fp32 (nheads) logits, one per head, that join every
    row's softmax denominator and add no value row (gpt-oss's sinks); softmax_lse
    includes them. block_sparse_tensors (fa4 extra): a fa4.BlockSparseTensors; each
    (batch, head, q-block) visits only the key blocks its lists name (the mask list
    with the causal mask, the full list without), FlashAttention-4's block sparsity;
    plain or causal only. Head dims up to 256; one without a kernel (built: 32, 64, 96,
    128, 160, 192, 224, 256) runs on the next one up, q, k and v padded with zero
    columns (a copy). An empty q (a zero batch, seqlen_q or nheads) returns empty
    outputs.
    """
    softmax_scale, causal, window_size, softcap, return_attn_probs, return_lse = \
        _checks.check_common(dropout_p, softmax_scale, causal, window_size, softcap,
                             alibi_slopes, deterministic, return_attn_probs, return_lse)
    if not isinstance(load_path, str):
        raise TypeError(f"load_path must be a str, got {type(load_path).__name__}")
    if load_path not in rt.LOAD_PATH:
        raise ValueError(f"load_path must be one of {sorted(rt.LOAD_PATH)}, got {load_path!r}")
    import torch
    if _ops is None:
        missing_ops()

    for name, t in (("q", q), ("k", k), ("v", v)):
        _check_tensor(name, t, torch)
    if not (q.dtype == k.dtype == v.dtype):
        raise ValueError(f"q, k, v must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if not (q.device == k.device == v.device):
        raise ValueError(f"q, k, v must be on one device, got {q.device}, {k.device}, {v.device}")
    batch, seqlen_q, nheads, head_dim = q.shape
    _, seqlen_k, nheads_k, _ = k.shape
    if k.shape[0] != batch or k.shape[3] != head_dim:
        raise ValueError(f"k must be ({batch}, seqlen_k, nheads_k, {head_dim}), got "
                         f"{tuple(k.shape)}")
    if v.shape[:3] != k.shape[:3]:
        raise ValueError(f"v must match k in (batch, seqlen_k, nheads_k): {tuple(v.shape)} vs "
                         f"{tuple(k.shape)}")
    if (nheads_k == 0 and nheads != 0) or (nheads_k and nheads % nheads_k != 0):
        raise ValueError(f"nheads ({nheads}) must be a multiple of nheads_k ({nheads_k})")
    head_dim_v = v.shape[3]
    alibi_slopes = _checks.check_alibi_slopes(alibi_slopes, torch, batch, nheads, q.device)
    learnable_sink = _checks.check_learnable_sink(learnable_sink, torch, nheads, q.device)
    if softmax_scale is None:
        softmax_scale = _checks.default_softmax_scale(head_dim)

    lists = block_sparse.operator_args(
        block_sparse_tensors, q.device, batch, nheads, seqlen_q, dropout_p=dropout_p,
        window_size=window_size, softcap=softcap, alibi_slopes=alibi_slopes,
        learnable_sink=learnable_sink, load_path=load_path)

    want_lse = return_lse or return_attn_probs
    q, k, v, head_dim_v = _checks.pad_head_dims(q, k, v)
    if return_attn_probs and float(dropout_p) > 0:
        if learnable_sink is not None:
            _checks.not_built("return_attn_probs with dropout (S_dmask) with learnable_sink")
        out, lse, s_dmask = _ops.fwd_with_probs(q, k, v, softmax_scale, causal, load_path,
                                                float(dropout_p), window_size, softcap,
                                                alibi_slopes)
        return out[..., :head_dim_v], lse, s_dmask
    fwd = (_ops.fwd_direct if _ops.direct(q, k, v, alibi_slopes, learnable_sink, *lists[:4])
           else torch.ops.fa4.fwd)
    out, lse = fwd(q, k, v, alibi_slopes, learnable_sink, softmax_scale, causal,
                   window_size[0], window_size[1], softcap, want_lse, load_path,
                   float(dropout_p), *lists)
    if out.shape[-1] != head_dim_v:  # drop the padding columns (a view)
        out = out[..., :head_dim_v]
    if return_attn_probs:
        return out, lse, None
    return (out, lse) if return_lse else out


def attn_probs_block_n(q, k, v, dropout_p, causal=False, softmax_scale=None,
                       window_size=(-1, -1), softcap=0.0, alibi_slopes=None):
    """The key-block size of the kernel that fills S_dmask for these tensors
    and this call's causal, window_size, softcap and alibi_slopes
    (FlashAttention-2's _get_block_size_n, for its normalize_flash_attn_S):
    S_dmask's entries of a block are relative to the running row max after
    that block, blocks visited from the last to the first. Rows and columns
    of S_dmask are rounded up to 128. flash_attn_varlen_func's kernels have
    the same tiles: pass one sequence's q, k, v in the dense layout, k with
    the sequence's real length (a window reaching past every key is no
    window). With a softcap, cap the scores before normalizing: FA2 refuses
    softcap with dropout, and its helper takes none."""
    softmax_scale, causal, window_size, softcap, _, _ = _checks.check_common(
        dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes, False, False,
        False)
    if softmax_scale is None:
        softmax_scale = _checks.default_softmax_scale(q.shape[-1])
    q, k, v, _ = _checks.pad_head_dims(q, k, v)
    from . import _launch
    return _launch.probs_block_n(q, k, v, softmax_scale, causal, float(dropout_p),
                                 window_size, softcap, alibi_slopes)
