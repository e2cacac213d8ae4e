"""ctypes binding of the fa4 runtime's C ABI (include/fa4/Runtime/fa4.h).

The library is found, in order, at $FA4_LIBRARY, next to this package
(fa4/lib/libfa4_runtime.so, the installed layout), or in the source tree's
build/lib. Nothing here needs a GPU: errors come back as statuses.
"""

import ctypes
import os
from pathlib import Path

# fa4_status
SUCCESS = 0
NULL_POINTER = 1
INVALID_DTYPE = 2
INVALID_SHAPE = 3
UNSUPPORTED_HEAD_DIM = 4
INVALID_HEAD_RATIO = 5
INVALID_STRIDE = 6
MISALIGNED = 7
OVERFLOW = 8
INVALID_ARGUMENT = 9
UNSUPPORTED_FEATURE = 10
NO_KERNEL = 11
NO_CUDA_DRIVER = 12
NO_GPU = 13
UNSUPPORTED_GPU = 14
CUDA_ERROR = 15
INTERNAL = 16
INVALID_DEVICE_VALUE = 17

# fa4_dtype
DTYPE_BF16 = 0
DTYPE_FP16 = 1

# fa4_load_path
LOAD_PATH = {"auto": 0, "cp_async": 1, "tma": 2}


class BlockSparse(ctypes.Structure):
    """Mirror of fa4_block_sparse."""

    _fields_ = [
        ("mask_block_cnt", ctypes.c_void_p),
        ("mask_block_idx", ctypes.c_void_p),
        ("full_block_cnt", ctypes.c_void_p),
        ("full_block_idx", ctypes.c_void_p),
        ("heads", ctypes.c_int64),
        ("m_blocks", ctypes.c_int64),
        ("mask_capacity", ctypes.c_int64),
        ("full_capacity", ctypes.c_int64),
        ("block_m", ctypes.c_int64),
        ("block_n", ctypes.c_int64),
    ]


class FwdParams(ctypes.Structure):
    """Mirror of fa4_fwd_params."""

    _fields_ = [
        ("q", ctypes.c_void_p),
        ("k", ctypes.c_void_p),
        ("v", ctypes.c_void_p),
        ("out", ctypes.c_void_p),
        ("lse", ctypes.c_void_p),
        ("batch", ctypes.c_int64),
        ("seqlen_q", ctypes.c_int64),
        ("seqlen_k", ctypes.c_int64),
        ("nheads_q", ctypes.c_int64),
        ("nheads_kv", ctypes.c_int64),
        ("head_dim", ctypes.c_int64),
        ("head_dim_v", ctypes.c_int64),
        ("q_strides", ctypes.c_int64 * 4),
        ("k_strides", ctypes.c_int64 * 4),
        ("v_strides", ctypes.c_int64 * 4),
        ("out_strides", ctypes.c_int64 * 4),
        ("lse_strides", ctypes.c_int64 * 3),
        ("dtype", ctypes.c_int),
        ("softmax_scale", ctypes.c_float),
        ("causal", ctypes.c_int),
        ("load_path", ctypes.c_int),        ("local", ctypes.c_int),
        ("window_left", ctypes.c_int64),
        ("window_right", ctypes.c_int64),
        ("softcap", ctypes.c_float),
        ("alibi_slopes", ctypes.c_void_p),
        ("alibi_slopes_batch_stride", ctypes.c_int64),
        ("learnable_sink", ctypes.c_void_p),
        ("dropout_p", ctypes.c_float),
        ("dropout_seed", ctypes.c_uint64),
        ("dropout_offset", ctypes.c_uint64),
        ("dropout_offset_ptr", ctypes.c_void_p),
        ("s_dmask", ctypes.c_void_p),
        ("s_dmask_strides", ctypes.c_int64 * 3),
        ("block_sparse", BlockSparse),
    ]


class VarlenFwdParams(ctypes.Structure):
    """Mirror of fa4_varlen_fwd_params."""

    _fields_ = [
        ("q", ctypes.c_void_p),
        ("k", ctypes.c_void_p),
        ("v", ctypes.c_void_p),
        ("out", ctypes.c_void_p),
        ("lse", ctypes.c_void_p),
        ("cu_seqlens_q", ctypes.c_void_p),
        ("cu_seqlens_k", ctypes.c_void_p),
        ("seqused_k", ctypes.c_void_p),
        ("batch", ctypes.c_int64),
        ("total_q", ctypes.c_int64),
        ("total_k", ctypes.c_int64),
        ("max_seqlen_q", ctypes.c_int64),
        ("max_seqlen_k", ctypes.c_int64),
        ("nheads_q", ctypes.c_int64),
        ("nheads_kv", ctypes.c_int64),
        ("head_dim", ctypes.c_int64),
        ("head_dim_v", ctypes.c_int64),
        ("q_strides", ctypes.c_int64 * 3),
        ("k_strides", ctypes.c_int64 * 3),
        ("v_strides", ctypes.c_int64 * 3),
        ("out_strides", ctypes.c_int64 * 3),
        ("lse_strides", ctypes.c_int64 * 2),
        ("block_table", ctypes.c_void_p),
        ("block_table_stride", ctypes.c_int64),
        ("max_pages", ctypes.c_int64),
        ("num_pages", ctypes.c_int64),
        ("page_size", ctypes.c_int64),
        ("k_page_stride", ctypes.c_int64),
        ("v_page_stride", ctypes.c_int64),
        ("dtype", ctypes.c_int),
        ("softmax_scale", ctypes.c_float),
        ("causal", ctypes.c_int),
        ("check_inputs", ctypes.c_int),        ("local", ctypes.c_int),
        ("window_left", ctypes.c_int64),
        ("window_right", ctypes.c_int64),
        ("softcap", ctypes.c_float),
        ("alibi_slopes", ctypes.c_void_p),
        ("alibi_slopes_batch_stride", ctypes.c_int64),
        ("learnable_sink", ctypes.c_void_p),
        ("dropout_p", ctypes.c_float),
        ("dropout_seed", ctypes.c_uint64),
        ("dropout_offset", ctypes.c_uint64),
        ("dropout_offset_ptr", ctypes.c_void_p),
        ("block_sparse", BlockSparse),
        ("s_dmask", ctypes.c_void_p),
        ("s_dmask_strides", ctypes.c_int64 * 3),
    ]


class KVCacheParams(ctypes.Structure):
    """Mirror of fa4_kvcache_params."""

    _fields_ = [
        ("q", ctypes.c_void_p),
        ("k_cache", ctypes.c_void_p),
        ("v_cache", ctypes.c_void_p),
        ("out", ctypes.c_void_p),
        ("lse", ctypes.c_void_p),
        ("cache_seqlens", ctypes.c_void_p),
        ("cache_batch_idx", ctypes.c_void_p),
        ("cache_leftpad", ctypes.c_void_p),
        ("batch", ctypes.c_int64),
        ("seqlen_q", ctypes.c_int64),
        ("cache_seqlen", ctypes.c_int64),
        ("batch_cache", ctypes.c_int64),
        ("seqlen_cache", ctypes.c_int64),
        ("nheads_q", ctypes.c_int64),
        ("nheads_kv", ctypes.c_int64),
        ("head_dim", ctypes.c_int64),
        ("head_dim_v", ctypes.c_int64),
        ("q_strides", ctypes.c_int64 * 4),
        ("k_cache_strides", ctypes.c_int64 * 4),
        ("v_cache_strides", ctypes.c_int64 * 4),
        ("out_strides", ctypes.c_int64 * 4),
        ("lse_strides", ctypes.c_int64 * 3),
        ("block_table", ctypes.c_void_p),
        ("block_table_stride", ctypes.c_int64),
        ("max_pages", ctypes.c_int64),
        ("num_pages", ctypes.c_int64),
        ("page_size", ctypes.c_int64),
        ("dtype", ctypes.c_int),
        ("softmax_scale", ctypes.c_float),
        ("causal", ctypes.c_int),
        ("local", ctypes.c_int),
        ("window_left", ctypes.c_int64),
        ("window_right", ctypes.c_int64),
        ("softcap", ctypes.c_float),
        ("alibi_slopes", ctypes.c_void_p),
        ("alibi_slopes_batch_stride", ctypes.c_int64),
        ("num_splits", ctypes.c_int),
        ("k_new", ctypes.c_void_p),
        ("v_new", ctypes.c_void_p),
        ("seqlen_new", ctypes.c_int64),
        ("k_new_strides", ctypes.c_int64 * 4),
        ("v_new_strides", ctypes.c_int64 * 4),
        ("rotary_cos", ctypes.c_void_p),
        ("rotary_sin", ctypes.c_void_p),
        ("rotary_dim", ctypes.c_int64),
        ("seqlen_ro", ctypes.c_int64),
        ("rotary_interleaved", ctypes.c_int),
    ]


class DeviceInfo(ctypes.Structure):
    """Mirror of fa4_device_info."""

    _fields_ = [
        ("driver_version", ctypes.c_int),
        ("device_count", ctypes.c_int),
        ("compute_capability_major", ctypes.c_int),
        ("compute_capability_minor", ctypes.c_int),
        ("multiprocessors", ctypes.c_int),
        ("shared_memory_per_block_optin", ctypes.c_int),
        ("name", ctypes.c_char * 256),
        ("target", ctypes.c_char_p),
    ]


def set_dropout(p, dropout):
    """dropout: None, or (p, seed, offset, offset_tensor) into FwdParams /
    VarlenFwdParams; offset_tensor is None or a device int64 tensor whose
    element the kernel reads as the offset (CUDA graph capture)."""
    if dropout is not None:
        p.dropout_p, p.dropout_seed, p.dropout_offset, held = dropout
        p.dropout_offset_ptr = held.data_ptr() if held is not None else None


def set_block_sparse(p, lists):
    """lists: None, or (mask_block_cnt, mask_block_idx, full_block_cnt,
    full_block_idx, block_m, block_n) (contiguous int32 tensors, the full
    pair optional) into FwdParams / VarlenFwdParams."""
    if lists is None:
        return
    mask_cnt, mask_idx, full_cnt, full_idx, block_m, block_n = lists
    bs = p.block_sparse
    bs.mask_block_cnt, bs.mask_block_idx = mask_cnt.data_ptr(), mask_idx.data_ptr()
    if full_cnt is not None:
        bs.full_block_cnt, bs.full_block_idx = full_cnt.data_ptr(), full_idx.data_ptr()
        bs.full_capacity = full_idx.shape[3]
    bs.heads, bs.m_blocks = mask_cnt.shape[1], mask_cnt.shape[2]
    bs.mask_capacity = mask_idx.shape[3]
    bs.block_m, bs.block_n = block_m, block_n


def set_score_mods(p, window_size, softcap, alibi_slopes=None, learnable_sink=None):
    """A checked window_size, softcap, alibi_slopes and learnable_sink into
    FwdParams / VarlenFwdParams."""
    p.local = int(window_size != (-1, -1))
    p.window_left, p.window_right = window_size
    p.softcap = softcap
    if alibi_slopes is not None:
        p.alibi_slopes = alibi_slopes.data_ptr()
        p.alibi_slopes_batch_stride = alibi_slopes.stride(0) if alibi_slopes.dim() == 2 else 0
    if learnable_sink is not None:
        p.learnable_sink = learnable_sink.data_ptr()


def _candidates():
    env = os.environ.get("FA4_LIBRARY")
    if env:
        # An explicit choice is never passed over for another library.
        if not Path(env).is_file():
            raise OSError(f"FA4_LIBRARY={env} is not a file (unset it to use the library "
                          "installed with the package)")
        yield Path(env)
        return
    here = Path(__file__).resolve().parent
    yield here / "lib" / "libfa4_runtime.so"
    yield here.parent.parent / "build" / "lib" / "libfa4_runtime.so"


_lib = None


def library():
    """The loaded runtime (loaded once); raises OSError if none is found."""
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        tried.append(str(path))
        if path.is_file():
            lib = ctypes.CDLL(str(path))
            break
    else:
        raise OSError("fa4 runtime library not found; tried: " + ", ".join(tried) +
                      " (set FA4_LIBRARY)")
    lib.fa4_fwd.argtypes = [ctypes.POINTER(FwdParams), ctypes.c_void_p]
    lib.fa4_fwd.restype = ctypes.c_int
    lib.fa4_fwd_params_init.argtypes = [ctypes.POINTER(FwdParams)]
    lib.fa4_fwd_params_init.restype = None
    lib.fa4_last_error.restype = ctypes.c_char_p
    lib.fa4_status_string.argtypes = [ctypes.c_int]
    lib.fa4_status_string.restype = ctypes.c_char_p
    lib.fa4_version.restype = ctypes.c_char_p
    lib.fa4_fwd_params_size.restype = ctypes.c_uint64
    lib.fa4_fwd_probs_block_n.argtypes = [ctypes.POINTER(FwdParams),
                                          ctypes.POINTER(ctypes.c_int64)]
    lib.fa4_fwd_probs_block_n.restype = ctypes.c_int
    lib.fa4_varlen_fwd.argtypes = [ctypes.POINTER(VarlenFwdParams), ctypes.c_void_p]
    lib.fa4_varlen_fwd.restype = ctypes.c_int
    lib.fa4_varlen_fwd_params_init.argtypes = [ctypes.POINTER(VarlenFwdParams)]
    lib.fa4_varlen_fwd_params_init.restype = None
    lib.fa4_varlen_fwd_params_size.restype = ctypes.c_uint64
    lib.fa4_kvcache_params_init.argtypes = [ctypes.POINTER(KVCacheParams)]
    lib.fa4_kvcache_params_init.restype = None
    lib.fa4_kvcache_params_size.restype = ctypes.c_uint64
    lib.fa4_kvcache_workspace_size.argtypes = [ctypes.POINTER(KVCacheParams),
                                               ctypes.POINTER(ctypes.c_uint64)]
    lib.fa4_kvcache_workspace_size.restype = ctypes.c_int
    lib.fa4_kvcache_fwd.argtypes = [ctypes.POINTER(KVCacheParams), ctypes.c_void_p,
                                    ctypes.c_uint64, ctypes.c_void_p]
    lib.fa4_kvcache_fwd.restype = ctypes.c_int
    lib.fa4_module_count.restype = ctypes.c_uint64
    for name in ("fa4_module_name", "fa4_module_target"):
        getattr(lib, name).argtypes = [ctypes.c_uint64]
        getattr(lib, name).restype = ctypes.c_char_p
    lib.fa4_get_device_info.argtypes = [ctypes.c_int, ctypes.POINTER(DeviceInfo)]
    lib.fa4_get_device_info.restype = ctypes.c_int
    lib.fa4_device_info_size.restype = ctypes.c_uint64
    for name, mirror in (("fa4_fwd_params", FwdParams), ("fa4_varlen_fwd_params", VarlenFwdParams),
                         ("fa4_kvcache_params", KVCacheParams), ("fa4_device_info", DeviceInfo)):
        size = getattr(lib, name + "_size")()
        if size != ctypes.sizeof(mirror):
            raise OSError(f"fa4 runtime at {path} has sizeof({name}) = {size}, "
                          f"this binding expects {ctypes.sizeof(mirror)}")
    lib.fa4_path = str(path)
    _lib = lib
    return lib


def last_error():
    return library().fa4_last_error().decode()


def modules():
    """The embedded modules as (name, target) pairs."""
    lib = library()
    return [(lib.fa4_module_name(i).decode(), lib.fa4_module_target(i).decode())
            for i in range(lib.fa4_module_count())]


def device_info(ordinal=0):
    """(status, DeviceInfo, message) for device `ordinal`: the message is
    the runtime's reason when status is not SUCCESS."""
    lib = library()
    info = DeviceInfo()
    status = lib.fa4_get_device_info(ordinal, ctypes.byref(info))
    return status, info, (last_error() if status != SUCCESS else "")


_VALUE_ERRORS = {NULL_POINTER, INVALID_DTYPE, INVALID_SHAPE, INVALID_HEAD_RATIO,
                 INVALID_STRIDE, MISALIGNED, OVERFLOW, INVALID_ARGUMENT,
                 INVALID_DEVICE_VALUE}
_NOT_IMPLEMENTED = {UNSUPPORTED_HEAD_DIM, UNSUPPORTED_FEATURE, NO_KERNEL}


def raise_for(status):
    """Raises the exception for a failing status, with the runtime's message:
    ValueError for a bad value, NotImplementedError for a kernel or feature
    not built, RuntimeError for the rest (no driver, no GPU, CUDA errors)."""
    message = last_error() or library().fa4_status_string(status).decode()
    if status in _VALUE_ERRORS:
        raise ValueError(message)
    if status in _NOT_IMPLEMENTED:
        raise NotImplementedError(message)
    raise RuntimeError(f"fa4: {message}")
