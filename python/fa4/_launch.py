"""Launches through the runtime's C ABI (ctypes): tensors in, a status-checked
call on torch's current stream out. The custom operators (fa4._ops) are the
callers; the entry points have checked every argument before. A failing
status raises (fa4._runtime.raise_for).
"""

import contextlib
import ctypes

import torch

from . import _runtime as rt


def _set_strides(array, t, dims):
    """array[:] = the last `dims` strides of t (one slice assignment; a
    per-element loop costs ~4 us per tensor in ctypes). A head dim of 1 has
    any stride; the runtime wants 1."""
    strides = t.stride()[-dims:]
    array[:] = strides if t.shape[-1] != 1 else strides[:-1] + (1,)


_SAME_DEVICE = contextlib.nullcontext()


def _on(device):
    """(guard, stream): a context making `device` current (the runtime
    launches in the current context), a no-op when it already is, and
    torch's current stream on it as a ctypes pointer."""
    current = torch.cuda.current_device()
    index = device.index if device.index is not None else current
    stream = ctypes.c_void_p(torch._C._cuda_getCurrentRawStream(index))
    return (_SAME_DEVICE if index == current else torch.cuda.device(index)), stream


def _set_common(p, q, lse, softmax_scale, causal, window_size, softcap, alibi_slopes,
                learnable_sink=None):
    """What every params struct takes alike: the LSE strides, dtype, scale,
    causal flag and score modifications."""
    if lse is not None:
        p.lse_strides[:] = lse.stride()
    p.dtype = rt.DTYPE_BF16 if q.dtype == torch.bfloat16 else rt.DTYPE_FP16
    p.softmax_scale = softmax_scale
    p.causal = int(bool(causal))
    rt.set_score_mods(p, window_size, softcap, alibi_slopes, learnable_sink)


def philox_state(device, streams):
    """(seed, offset, offset_tensor) for a dropout call from torch's CUDA
    generator of `device`, whose offset is advanced as FlashAttention-2
    advances it: by 32 per (batch, head) stream (its counter reservation;
    fa4 uses one of the 32), so the next call draws fresh masks,
    torch.manual_seed reproduces a run, and the generator's state after a
    call is the one FA2 leaves for whatever draws next. offset_tensor is
    None then.

    Under CUDA graph capture the host cannot know a replay's generator
    offset, so offset_tensor is a one-element int64 device tensor that a
    captured torch draw (random_) fills on every replay, before the kernel
    reads it as its offset: each replay draws a fresh mask, and
    torch.manual_seed before a replay reproduces it. The seed is the
    generator's at capture time."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    gen = torch.cuda.default_generators[index]
    seed = gen.initial_seed() & 0xFFFFFFFFFFFFFFFF
    if torch.cuda.is_current_stream_capturing():
        held = torch.empty(1, dtype=torch.int64, device=device)
        held.random_()
        return seed, 0, held
    offset = gen.get_offset()
    gen.set_offset(offset + streams * 32)
    return seed, offset, None


def _fwd_params(q, k, v, out, lse, softmax_scale, causal, load_path, window_size,
                softcap, alibi_slopes, learnable_sink, dropout, s_dmask, block_sparse=None):
    """fa4_fwd_params from the tensors."""
    lib = rt.library()
    p = rt.FwdParams()
    lib.fa4_fwd_params_init(ctypes.byref(p))
    p.q, p.k, p.v, p.out = q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr()
    p.lse = lse.data_ptr() if lse is not None else None
    p.batch, p.seqlen_q, p.nheads_q, p.head_dim = q.shape
    p.seqlen_k, p.nheads_kv = k.shape[1], k.shape[2]
    p.head_dim_v = v.shape[3]
    _set_strides(p.q_strides, q, 4)
    _set_strides(p.k_strides, k, 4)
    _set_strides(p.v_strides, v, 4)
    _set_strides(p.out_strides, out, 4)
    _set_common(p, q, lse, softmax_scale, causal, window_size, softcap, alibi_slopes,
                learnable_sink)
    rt.set_dropout(p, dropout)
    rt.set_block_sparse(p, block_sparse)
    if s_dmask is not None:
        p.s_dmask = s_dmask.data_ptr()
        p.s_dmask_strides[:] = s_dmask.stride()[:3]
    p.load_path = rt.LOAD_PATH[load_path]
    return p


def forward(q, k, v, out, lse, softmax_scale, causal, load_path, window_size=(-1, -1),
            softcap=0.0, alibi_slopes=None, learnable_sink=None, dropout=None, s_dmask=None,
            block_sparse=None):
    """Fills fa4_fwd_params from the tensors and launches on torch's stream.
    s_dmask: FlashAttention-2's S_dmask to fill (with dropout). block_sparse:
    the lists as fa4._runtime.set_block_sparse takes them."""
    lib = rt.library()
    p = _fwd_params(q, k, v, out, lse, softmax_scale, causal, load_path, window_size,
                    softcap, alibi_slopes, learnable_sink, dropout, s_dmask, block_sparse)
    guard, stream = _on(q.device)
    with guard:
        status = lib.fa4_fwd(ctypes.byref(p), stream)
    if status != rt.SUCCESS:
        rt.raise_for(status)


def varlen_forward(q, k, v, out, lse, cu_seqlens_q, cu_seqlens_k, seqused_k, block_table,
                   max_seqlen_q, max_seqlen_k, softmax_scale, causal, window_size=(-1, -1),
                   softcap=0.0, alibi_slopes=None, learnable_sink=None, check_inputs=False,
                   dropout=None, block_sparse=None, s_dmask=None):
    """Fills fa4_varlen_fwd_params from the tensors and launches on torch's stream.
    s_dmask: FlashAttention-2's S_dmask to fill (with dropout)."""
    lib = rt.library()
    p = rt.VarlenFwdParams()
    lib.fa4_varlen_fwd_params_init(ctypes.byref(p))
    p.q, p.k, p.v, p.out = q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr()
    p.lse = lse.data_ptr() if lse is not None else None
    p.cu_seqlens_q = cu_seqlens_q.data_ptr()
    p.cu_seqlens_k = cu_seqlens_k.data_ptr()
    p.seqused_k = seqused_k.data_ptr() if seqused_k is not None else None
    p.batch = cu_seqlens_q.shape[0] - 1
    p.total_q, p.nheads_q, p.head_dim = q.shape
    p.nheads_kv = k.shape[-2]
    p.head_dim_v = v.shape[-1]
    p.max_seqlen_q, p.max_seqlen_k = max_seqlen_q, max_seqlen_k
    # The last three dims: (token or row in a page, head, dim).
    _set_strides(p.q_strides, q, 3)
    _set_strides(p.out_strides, out, 3)
    _set_strides(p.k_strides, k, 3)
    _set_strides(p.v_strides, v, 3)
    if block_table is not None:
        p.block_table = block_table.data_ptr()
        p.block_table_stride = block_table.stride(0)
        p.max_pages = block_table.shape[1]
        p.num_pages, p.page_size = k.shape[0], k.shape[1]
        p.k_page_stride, p.v_page_stride = k.stride(0), v.stride(0)
    else:
        p.total_k = k.shape[0]
    _set_common(p, q, lse, softmax_scale, causal, window_size, softcap, alibi_slopes,
                learnable_sink)
    rt.set_dropout(p, dropout)
    rt.set_block_sparse(p, block_sparse)
    if s_dmask is not None:
        p.s_dmask = s_dmask.data_ptr()
        p.s_dmask_strides[:] = s_dmask.stride()[:3]
    p.check_inputs = int(bool(check_inputs))
    guard, stream = _on(q.device)
    with guard:
        status = lib.fa4_varlen_fwd(ctypes.byref(p), stream)
    if status != rt.SUCCESS:
        rt.raise_for(status)


def kvcache_forward(q, k_cache, v_cache, out, lse, k, v, rotary_cos, rotary_sin, cache_seqlens,
                    cache_seqlen, cache_batch_idx, cache_leftpad, block_table, alibi_slopes,
                    softmax_scale, causal, window_size, softcap, rotary_interleaved, num_splits):
    """Fills fa4_kvcache_params from the tensors, takes the split-KV
    workspace from torch's allocator and launches on torch's stream."""
    batch, seqlen_q, nheads, head_dim = q.shape
    nheads_k, head_dim_v = k_cache.shape[2], v_cache.shape[3]
    device = q.device
    lib = rt.library()
    p = rt.KVCacheParams()
    lib.fa4_kvcache_params_init(ctypes.byref(p))
    p.q, p.k_cache, p.v_cache, p.out = (q.data_ptr(), k_cache.data_ptr(), v_cache.data_ptr(),
                                        out.data_ptr())
    p.lse = lse.data_ptr() if lse is not None else None
    p.cache_seqlens = cache_seqlens.data_ptr() if cache_seqlens is not None else None
    p.cache_batch_idx = cache_batch_idx.data_ptr() if cache_batch_idx is not None else None
    p.cache_leftpad = cache_leftpad.data_ptr() if cache_leftpad is not None else None
    p.batch, p.seqlen_q, p.nheads_q, p.head_dim = batch, seqlen_q, nheads, head_dim
    p.nheads_kv, p.head_dim_v = nheads_k, head_dim_v
    p.cache_seqlen = cache_seqlen
    if block_table is not None:
        p.block_table = block_table.data_ptr()
        p.block_table_stride = block_table.stride(0)
        p.max_pages = block_table.shape[1]
        p.num_pages, p.page_size = k_cache.shape[0], k_cache.shape[1]
    else:
        p.batch_cache, p.seqlen_cache = k_cache.shape[0], k_cache.shape[1]
    _set_strides(p.q_strides, q, 4)
    _set_strides(p.k_cache_strides, k_cache, 4)
    _set_strides(p.v_cache_strides, v_cache, 4)
    _set_strides(p.out_strides, out, 4)
    _set_common(p, q, lse, softmax_scale, causal, window_size, softcap, alibi_slopes)
    p.num_splits = num_splits
    if k is not None:
        p.k_new, p.v_new, p.seqlen_new = k.data_ptr(), v.data_ptr(), k.shape[1]
        _set_strides(p.k_new_strides, k, 4)
        _set_strides(p.v_new_strides, v, 4)
    if rotary_cos is not None:
        p.rotary_cos, p.rotary_sin = rotary_cos.data_ptr(), rotary_sin.data_ptr()
        p.rotary_dim, p.seqlen_ro = 2 * rotary_cos.shape[1], rotary_cos.shape[0]
        p.rotary_interleaved = int(bool(rotary_interleaved))
    guard, stream = _on(device)
    with guard:
        size = ctypes.c_uint64(0)
        status = lib.fa4_kvcache_workspace_size(ctypes.byref(p), ctypes.byref(size))
        if status != rt.SUCCESS:
            rt.raise_for(status)
        # The workspace comes from torch's caching allocator (and from a CUDA
        # graph's pool under capture), on the stream the kernels run on, so
        # its release after the call is ordered after them.
        workspace = (torch.empty(size.value, dtype=torch.uint8, device=device)
                     if size.value else None)
        status = lib.fa4_kvcache_fwd(ctypes.byref(p),
                                     workspace.data_ptr() if workspace is not None else None,
                                     size.value, stream)
    if status != rt.SUCCESS:
        rt.raise_for(status)


def probs_block_n(q, k, v, softmax_scale, causal, dropout_p, window_size=(-1, -1),
                  softcap=0.0, alibi_slopes=None):
    """The key-block size of the S_dmask kernel for these tensors and
    modifications (fa4_fwd_probs_block_n)."""
    lib = rt.library()
    p = _fwd_params(q, k, v, q, None, softmax_scale, causal, "cp_async", window_size, softcap,
                    alibi_slopes, None, (dropout_p, 0, 0, None), None)
    block_n = ctypes.c_int64(0)
    guard, _ = _on(q.device)
    with guard:
        status = lib.fa4_fwd_probs_block_n(ctypes.byref(p), ctypes.byref(block_n))
    if status != rt.SUCCESS:
        rt.raise_for(status)
    return block_n.value
