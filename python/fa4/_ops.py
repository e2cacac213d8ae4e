"""fa4's kernels as PyTorch custom operators (torch.library, namespace fa4).

    fa4::fwd          dense forward          flash_attn_func and its packed forms
    fa4::varlen_fwd   varlen / paged forward flash_attn_varlen_func and packed forms
    fa4::kvcache_fwd  KV-cache forward       flash_attn_with_kvcache (mutates the caches)
    fa4::no_backward  a copy whose backward raises (gradient guard, see below)
    fa4::backward_error  every backward: raises when run, traces when compiled

Each operator has a fake (meta) implementation, so torch.compile traces the
public entry points with no graph break and FakeTensor / torch.export see
the right shapes. The real implementations launch on torch's current
stream and allocate only through torch's caching allocator, so calls
capture in CUDA graphs.

fa4 builds the forward pass only. fa4::fwd and fa4::varlen_fwd register an
autograd formula whose backward is fa4::backward_error: it raises
NotImplementedError when it runs, and traces (its fake implementation) when
torch.compile builds a backward graph, so a compiled forward with inputs
that require grad still compiles and runs. fa4::kvcache_fwd mutates its
caches, which torch.library allows no autograd formula for, so when a
gradient is wanted its outputs go through fa4::no_backward. A gradient never
silently stops at attention.

The entry points call the implementations (`*_direct`) without the
dispatcher when nothing in torch needs to see the operator: eager mode, no
gradient wanted, plain tensors, no dispatch mode active (host time per
call: bench/bench_host.py).
"""

from typing import List, Optional, Tuple

import torch
from torch import Tensor

if not hasattr(torch.library, "custom_op"):
    raise ImportError(f"torch {torch.__version__} has no torch.library.custom_op (2.4 or "
                      "later has)")

from . import _launch  # noqa: E402

_BACKWARD_MESSAGE = (
    "fa4 has no backward pass: {what} is forward-only (fa4 generates forward "
    "kernels). Compute the gradient with another attention implementation, or "
    "call fa4 under torch.no_grad() / torch.inference_mode()")


def _dense_outputs(q, v, return_lse):
    """out (batch, seqlen_q, nheads, v's head_dim) in q's dtype; lse (batch,
    nheads, seqlen_q) float32 when asked for, else None."""
    batch, seqlen_q, nheads, _ = q.shape
    out = q.new_empty((batch, seqlen_q, nheads, v.shape[-1]))
    lse = q.new_empty((batch, nheads, seqlen_q), dtype=torch.float32) if return_lse else None
    return out, lse


def _varlen_outputs(q, v, return_lse):
    """out (total_q, nheads, v's head_dim); lse (nheads, total_q) or None."""
    total_q, nheads, _ = q.shape
    out = q.new_empty((total_q, nheads, v.shape[-1]))
    lse = q.new_empty((nheads, total_q), dtype=torch.float32) if return_lse else None
    return out, lse


def _as_operator_outputs(q, outputs):
    """An operator returns tensors, never None: an LSE not asked for is an
    empty tensor."""
    out, lse = outputs
    return out, lse if lse is not None else q.new_empty((0,), dtype=torch.float32)


#===----------------------------------------------------------------------===#
# fa4::fwd
#===----------------------------------------------------------------------===#

def _dropout(dropout_p, q, streams):
    """(p, seed, offset, offset_tensor) drawn from torch's generator when p > 0,
    else None (fa4._launch.philox_state)."""
    if dropout_p <= 0:
        return None
    return (dropout_p, *_launch.philox_state(q.device, streams))


def _lists(mask_block_cnt, mask_block_idx, full_block_cnt, full_block_idx, block_m, block_n):
    """The block-sparse lists as fa4._launch takes them, None without."""
    if mask_block_cnt is None:
        return None
    return (mask_block_cnt, mask_block_idx, full_block_cnt, full_block_idx, block_m, block_n)


def fwd_direct(q, k, v, alibi_slopes, learnable_sink, softmax_scale, causal, window_left,
               window_right, softcap, return_lse, load_path, dropout_p=0.0,
               mask_block_cnt=None, mask_block_idx=None, full_block_cnt=None,
               full_block_idx=None, sparse_block_m=0, sparse_block_n=0):
    """Dense forward (fa4_fwd): (out, lse or None)."""
    out, lse = _dense_outputs(q, v, return_lse)
    dropout = _dropout(dropout_p, q, q.shape[0] * q.shape[2])
    _launch.forward(q, k, v, out, lse, softmax_scale, causal, load_path,
                    (window_left, window_right), softcap, alibi_slopes, learnable_sink,
                    dropout, block_sparse=_lists(mask_block_cnt, mask_block_idx,
                                                 full_block_cnt, full_block_idx,
                                                 sparse_block_m, sparse_block_n))
    return out, lse


def _s_dmask_zeros(q, batch, nheads, rows, cols):
    """FlashAttention-2's S_dmask, zeroed: (batch, nheads, rows and cols
    rounded up to 128) in q's dtype (the runtime's probsExtent)."""
    rounded = lambda n: (n + 127) // 128 * 128  # noqa: E731
    return q.new_zeros((batch, nheads, rounded(rows), rounded(cols)))


def fwd_with_probs(q, k, v, softmax_scale, causal, load_path, dropout_p, window_size=(-1, -1),
                   softcap=0.0, alibi_slopes=None):
    """Dense forward with FlashAttention-2's S_dmask (return_attn_probs with
    dropout), a testing aid run eagerly: (out, lse, S_dmask), S_dmask
    (batch, nheads, seqlen_q and seqlen_k rounded up to 128) in q's dtype,
    zero where the kernel visits no key block. A backward through out raises
    (none is built)."""
    out, lse = _dense_outputs(q, v, True)
    batch, seqlen_q, nheads, _ = q.shape
    s_dmask = _s_dmask_zeros(q, batch, nheads, seqlen_q, k.shape[1])
    dropout = _dropout(dropout_p, q, batch * nheads)
    _launch.forward(q, k, v, out, lse, softmax_scale, causal, load_path, window_size, softcap,
                    alibi_slopes, dropout=dropout, s_dmask=s_dmask)
    wanted = requiring_grad(q, k, v)
    if wanted:
        out = torch.ops.fa4.no_backward(out, wanted, _WHAT_FWD)
    return out, lse, s_dmask


@torch.library.custom_op("fa4::fwd", mutates_args=(), device_types="cuda")
def fwd(q: Tensor, k: Tensor, v: Tensor, alibi_slopes: Optional[Tensor],
        learnable_sink: Optional[Tensor], softmax_scale: float, causal: bool,
        window_left: int, window_right: int, softcap: float, return_lse: bool,
        load_path: str, dropout_p: float = 0.0, mask_block_cnt: Optional[Tensor] = None,
        mask_block_idx: Optional[Tensor] = None, full_block_cnt: Optional[Tensor] = None,
        full_block_idx: Optional[Tensor] = None, sparse_block_m: int = 0,
        sparse_block_n: int = 0) -> Tuple[Tensor, Tensor]:
    return _as_operator_outputs(q, fwd_direct(
        q, k, v, alibi_slopes, learnable_sink, softmax_scale, causal, window_left,
        window_right, softcap, return_lse, load_path, dropout_p, mask_block_cnt,
        mask_block_idx, full_block_cnt, full_block_idx, sparse_block_m, sparse_block_n))


@fwd.register_fake
def _(q, k, v, alibi_slopes, learnable_sink, softmax_scale, causal, window_left,
      window_right, softcap, return_lse, load_path, dropout_p=0.0, mask_block_cnt=None,
      mask_block_idx=None, full_block_cnt=None, full_block_idx=None, sparse_block_m=0,
      sparse_block_n=0):
    return _as_operator_outputs(q, _dense_outputs(q, v, return_lse))


#===----------------------------------------------------------------------===#
# fa4::varlen_fwd
#===----------------------------------------------------------------------===#

def varlen_fwd_direct(q, k, v, cu_seqlens_q, cu_seqlens_k, seqused_k, block_table,
                      alibi_slopes, learnable_sink, max_seqlen_q, max_seqlen_k, softmax_scale,
                      causal, window_left, window_right, softcap, return_lse, dropout_p=0.0,
                      mask_block_cnt=None, mask_block_idx=None, full_block_cnt=None,
                      full_block_idx=None, sparse_block_m=0, sparse_block_n=0):
    """Varlen and paged forward (fa4_varlen_fwd): (out, lse or None)."""
    out, lse = _varlen_outputs(q, v, return_lse)
    dropout = _dropout(dropout_p, q, (cu_seqlens_q.shape[0] - 1) * q.shape[1])
    _launch.varlen_forward(q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k, seqused_k,
                           block_table, max_seqlen_q, max_seqlen_k, softmax_scale, causal,
                           (window_left, window_right), softcap, alibi_slopes, learnable_sink,
                           dropout=dropout,
                           block_sparse=_lists(mask_block_cnt, mask_block_idx, full_block_cnt,
                                               full_block_idx, sparse_block_m, sparse_block_n))
    return out, lse


def varlen_fwd_with_probs(q, k, v, cu_seqlens_q, cu_seqlens_k, seqused_k, max_seqlen_q,
                          max_seqlen_k, softmax_scale, causal, dropout_p, window_size=(-1, -1),
                          softcap=0.0, alibi_slopes=None):
    """Varlen forward with FlashAttention-2's S_dmask (return_attn_probs with
    dropout), a testing aid run eagerly: (out, lse, S_dmask), S_dmask (batch,
    nheads, max_seqlen_q and max_seqlen_k rounded up to 128) in q's dtype,
    sequence b's query i and key j at [b, :, i, j], zero where the kernel
    visits no key block. A backward through out raises (none is built)."""
    out, lse = _varlen_outputs(q, v, True)
    batch, nheads = cu_seqlens_q.shape[0] - 1, q.shape[1]
    s_dmask = _s_dmask_zeros(q, batch, nheads, max_seqlen_q, max_seqlen_k)
    dropout = _dropout(dropout_p, q, batch * nheads)
    _launch.varlen_forward(q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k, seqused_k, None,
                           max_seqlen_q, max_seqlen_k, softmax_scale, causal, window_size,
                           softcap, alibi_slopes, dropout=dropout, s_dmask=s_dmask)
    wanted = requiring_grad(q, k, v)
    if wanted:
        out = torch.ops.fa4.no_backward(out, wanted, _WHAT_VARLEN)
    return out, lse, s_dmask


@torch.library.custom_op("fa4::varlen_fwd", mutates_args=(), device_types="cuda")
def varlen_fwd(q: Tensor, k: Tensor, v: Tensor, cu_seqlens_q: Tensor, cu_seqlens_k: Tensor,
               seqused_k: Optional[Tensor], block_table: Optional[Tensor],
               alibi_slopes: Optional[Tensor], learnable_sink: Optional[Tensor],
               max_seqlen_q: int, max_seqlen_k: int, softmax_scale: float, causal: bool,
               window_left: int, window_right: int, softcap: float,
               return_lse: bool, dropout_p: float = 0.0,
               mask_block_cnt: Optional[Tensor] = None,
               mask_block_idx: Optional[Tensor] = None,
               full_block_cnt: Optional[Tensor] = None,
               full_block_idx: Optional[Tensor] = None, sparse_block_m: int = 0,
               sparse_block_n: int = 0) -> Tuple[Tensor, Tensor]:
    return _as_operator_outputs(q, varlen_fwd_direct(
        q, k, v, cu_seqlens_q, cu_seqlens_k, seqused_k, block_table, alibi_slopes,
        learnable_sink, max_seqlen_q, max_seqlen_k, softmax_scale, causal, window_left,
        window_right, softcap, return_lse, dropout_p, mask_block_cnt, mask_block_idx,
        full_block_cnt, full_block_idx, sparse_block_m, sparse_block_n))


@varlen_fwd.register_fake
def _(q, k, v, cu_seqlens_q, cu_seqlens_k, seqused_k, block_table, alibi_slopes,
      learnable_sink, max_seqlen_q, max_seqlen_k, softmax_scale, causal, window_left,
      window_right, softcap, return_lse, dropout_p=0.0, mask_block_cnt=None,
      mask_block_idx=None, full_block_cnt=None, full_block_idx=None, sparse_block_m=0,
      sparse_block_n=0):
    return _as_operator_outputs(q, _varlen_outputs(q, v, return_lse))


#===----------------------------------------------------------------------===#
# fa4::kvcache_fwd
#===----------------------------------------------------------------------===#

def kvcache_fwd_direct(q, k_cache, v_cache, k, v, rotary_cos, rotary_sin, cache_seqlens,
                       cache_seqlen, cache_batch_idx, cache_leftpad, block_table, alibi_slopes,
                       softmax_scale, causal, window_left, window_right, softcap,
                       rotary_interleaved, num_splits, return_lse):
    """KV-cache forward (fa4_kvcache_fwd): k, v (new tokens) are written into
    k_cache, v_cache in place, then attended to; cache_seqlen is every
    entry's length when cache_seqlens is None. (out, lse or None)."""
    out, lse = _dense_outputs(q, v_cache, return_lse)
    _launch.kvcache_forward(q, k_cache, v_cache, out, lse, k, v, rotary_cos, rotary_sin,
                            cache_seqlens, cache_seqlen, cache_batch_idx, cache_leftpad,
                            block_table, alibi_slopes, softmax_scale, causal,
                            (window_left, window_right), softcap, rotary_interleaved,
                            num_splits)
    return out, lse


@torch.library.custom_op("fa4::kvcache_fwd", mutates_args=("k_cache", "v_cache"),
                         device_types="cuda")
def kvcache_fwd(q: Tensor, k_cache: Tensor, v_cache: Tensor, k: Optional[Tensor],
                v: Optional[Tensor], rotary_cos: Optional[Tensor], rotary_sin: Optional[Tensor],
                cache_seqlens: Optional[Tensor], cache_seqlen: int,
                cache_batch_idx: Optional[Tensor], cache_leftpad: Optional[Tensor],
                block_table: Optional[Tensor], alibi_slopes: Optional[Tensor],
                softmax_scale: float, causal: bool, window_left: int, window_right: int,
                softcap: float, rotary_interleaved: bool, num_splits: int,
                return_lse: bool) -> Tuple[Tensor, Tensor]:
    return _as_operator_outputs(q, kvcache_fwd_direct(
        q, k_cache, v_cache, k, v, rotary_cos, rotary_sin, cache_seqlens, cache_seqlen,
        cache_batch_idx, cache_leftpad, block_table, alibi_slopes, softmax_scale, causal,
        window_left, window_right, softcap, rotary_interleaved, num_splits, return_lse))


@kvcache_fwd.register_fake
def _(q, k_cache, v_cache, k, v, rotary_cos, rotary_sin, cache_seqlens, cache_seqlen,
      cache_batch_idx, cache_leftpad, block_table, alibi_slopes, softmax_scale, causal,
      window_left, window_right, softcap, rotary_interleaved, num_splits, return_lse):
    return _as_operator_outputs(q, _dense_outputs(q, v_cache, return_lse))


#===----------------------------------------------------------------------===#
# Gradients: none, loudly
#===----------------------------------------------------------------------===#

@torch.library.custom_op("fa4::backward_error", mutates_args=())
def backward_error(grad: Tensor, like: List[Tensor], what: str) -> List[Tensor]:
    """The backward of every fa4 operator. Running it raises
    NotImplementedError naming `what`; its fake implementation returns
    gradients shaped like `like`, so the backward traces: AOTAutograd traces
    one whenever an input requires grad, and a compiled forward must then
    still compile and run (evaluation without torch.no_grad())."""
    raise NotImplementedError(_BACKWARD_MESSAGE.format(what=what))


@backward_error.register_fake
def _(grad, like, what):
    return [torch.empty_like(t) for t in like]


@torch.library.custom_op("fa4::no_backward", mutates_args=())
def no_backward(out: Tensor, inputs: List[Tensor], what: str) -> Tensor:
    """A copy of `out` that records `inputs` (the floating tensors that
    require grad) as its autograd inputs, so that a backward through it
    raises (fa4::kvcache_fwd mutates its caches and cannot carry a formula
    itself). Used only when a gradient is wanted."""
    return out.clone()


@no_backward.register_fake
def _(out, inputs, what):
    return torch.empty_like(out)


_WHAT_FWD = ("fa4::fwd (flash_attn_func, flash_attn_qkvpacked_func, "
             "flash_attn_kvpacked_func)")
_WHAT_VARLEN = ("fa4::varlen_fwd (flash_attn_varlen_func, flash_attn_varlen_qkvpacked_func, "
                "flash_attn_varlen_kvpacked_func)")


def _save_qkv(ctx, inputs, output):
    ctx.save_for_backward(*inputs[:3])


def _save_inputs(ctx, inputs, output):
    ctx.save_for_backward(*inputs[1])
    ctx.what = inputs[2]


def _fwd_backward(ctx, grad_out, grad_lse):
    # 19 inputs: gradients for q, k, v (raising when run), none for the rest.
    grads = torch.ops.fa4.backward_error(grad_out, list(ctx.saved_tensors), _WHAT_FWD)
    return (*grads, *([None] * 16))


def _varlen_backward(ctx, grad_out, grad_lse):
    # 24 inputs: q, k, v, then cu_seqlens, tables, block lists and scalars.
    grads = torch.ops.fa4.backward_error(grad_out, list(ctx.saved_tensors), _WHAT_VARLEN)
    return (*grads, *([None] * 21))


def _no_backward_backward(ctx, grad_out):
    grads = torch.ops.fa4.backward_error(grad_out, list(ctx.saved_tensors), ctx.what)
    return None, list(grads), None


fwd.register_autograd(_fwd_backward, setup_context=_save_qkv)
varlen_fwd.register_autograd(_varlen_backward, setup_context=_save_qkv)
no_backward.register_autograd(_no_backward_backward, setup_context=_save_inputs)


def requiring_grad(*tensors):
    """The tensors autograd would record a call on (None entries skipped):
    empty unless grad mode is on."""
    if not torch.is_grad_enabled():
        return []
    return [t for t in tensors if t is not None and t.requires_grad]


def direct(*tensors):
    """Whether an entry point may call an implementation directly: eager
    mode, no gradient wanted, only plain tensors, no torch dispatch mode (a
    FakeTensorMode, a FlopCounterMode, ...) active. Otherwise it goes through
    torch.ops.fa4 so that torch sees the operator."""
    if torch.compiler.is_compiling():
        return False
    if torch._C._len_torch_dispatch_stack() or torch._C._is_torch_function_mode_enabled():
        return False
    grad = torch.is_grad_enabled()
    for t in tensors:
        if t is not None and (type(t) is not Tensor or (grad and t.requires_grad)):
            return False
    return True
