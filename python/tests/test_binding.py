"""The ctypes binding against the runtime library, with no GPU and no torch:
struct layout, statuses and their mapping to Python exceptions."""

import ctypes

import pytest

import fa4
from fa4 import _runtime as rt
from fa4 import interface


def test_library_loads_and_layout_matches():
    lib = rt.library()
    assert lib.fa4_fwd_params_size() == ctypes.sizeof(rt.FwdParams)
    assert lib.fa4_version().decode() == fa4.__version__


def _params(**fields):
    p = rt.FwdParams()
    rt.library().fa4_fwd_params_init(ctypes.byref(p))
    p.q, p.k, p.v, p.out = 0x10000, 0x20000, 0x30000, 0x40000
    p.batch, p.seqlen_q, p.seqlen_k, p.nheads_q, p.nheads_kv = 1, 64, 64, 4, 4
    p.head_dim = p.head_dim_v = 64
    for name, value in fields.items():
        setattr(p, name, value)
    return p


@pytest.mark.parametrize("fields, status, text", [
    ({"q": None}, rt.NULL_POINTER, "q is NULL"),
    ({"dtype": 3}, rt.INVALID_DTYPE, "dtype 3"),
    ({"batch": 0}, rt.INVALID_SHAPE, "batch must be positive"),
    ({"head_dim": 72, "head_dim_v": 72}, rt.UNSUPPORTED_HEAD_DIM, "head_dim 72"),
    ({"nheads_kv": 3}, rt.INVALID_HEAD_RATIO, "multiple of nheads_kv"),
    ({"k": 0x20008}, rt.MISALIGNED, "16-byte aligned"),
    ({"softmax_scale": -1.0}, rt.INVALID_ARGUMENT, "softmax_scale"),
    ({"load_path": 5}, rt.INVALID_ARGUMENT, "load_path 5"),
])
def test_statuses_name_the_argument(fields, status, text):
    p = _params(**fields)
    got = rt.library().fa4_fwd(ctypes.byref(p), None)
    assert got == status
    assert text in rt.last_error()


def test_no_queries_is_success_without_a_gpu():
    p = _params(seqlen_q=0)
    assert rt.library().fa4_fwd(ctypes.byref(p), None) == rt.SUCCESS


@pytest.mark.parametrize("status, exception", [
    (rt.INVALID_SHAPE, ValueError), (rt.MISALIGNED, ValueError),
    (rt.UNSUPPORTED_HEAD_DIM, NotImplementedError), (rt.UNSUPPORTED_FEATURE, NotImplementedError),
    (rt.NO_GPU, RuntimeError), (rt.NO_CUDA_DRIVER, RuntimeError), (rt.CUDA_ERROR, RuntimeError),
])
def test_status_to_exception(status, exception):
    with pytest.raises(exception):
        interface._raise_for(status)


@pytest.mark.parametrize("kwargs, feature", [
    ({"dropout_p": 0.1}, "dropout"),
    ({"window_size": (64, 64)}, "sliding window"),
    ({"softcap": 50.0}, "softcap"),
])
def test_unbuilt_features_raise_before_any_tensor_work(kwargs, feature):
    with pytest.raises(NotImplementedError, match=feature):
        fa4.flash_attn_func(None, None, None, **kwargs)


def test_bad_load_path():
    with pytest.raises(ValueError, match="load_path"):
        fa4.flash_attn_func(None, None, None, load_path="dma")
