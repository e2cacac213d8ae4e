"""The ctypes binding against the runtime library, with no GPU and no torch:
struct layout, statuses and their mapping to Python exceptions."""

import ctypes

import pytest

import fa4
from fa4 import _runtime as rt


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
    ({"batch": -1}, rt.INVALID_SHAPE, "batch must be non-negative"),
    ({"head_dim": 72, "head_dim_v": 72}, rt.UNSUPPORTED_HEAD_DIM, "head_dim 72"),
    ({"nheads_kv": 3}, rt.INVALID_HEAD_RATIO, "multiple of nheads_kv"),
    ({"k": 0x20008}, rt.MISALIGNED, "16-byte aligned"),
    ({"softmax_scale": -1.0}, rt.INVALID_ARGUMENT, "softmax_scale"),
    # scale * log2(e) must be a finite normal float32.
    ({"softmax_scale": 3e38}, rt.INVALID_ARGUMENT, "times log2(e) is inf"),
    ({"softmax_scale": 1e-39}, rt.INVALID_ARGUMENT, "not a finite normal number"),
    ({"load_path": 5}, rt.INVALID_ARGUMENT, "load_path 5"),
])
def test_statuses_name_the_argument(fields, status, text):
    p = _params(**fields)
    got = rt.library().fa4_fwd(ctypes.byref(p), None)
    assert got == status
    assert text in rt.last_error()


@pytest.mark.parametrize("fields", [
    {"seqlen_q": 0}, {"batch": 0}, {"nheads_q": 0, "nheads_kv": 0},
])
def test_nothing_to_do_is_success_whatever_the_pointers(fields):
    # Empty tensors may have NULL data pointers: no query rows, no error.
    p = _params(q=None, k=None, v=None, out=None, **fields)
    assert rt.library().fa4_fwd(ctypes.byref(p), None) == rt.SUCCESS, rt.last_error()


def _strided(p, field, strides):
    for i, s in enumerate(strides):
        getattr(p, field)[i] = s
    return p


@pytest.mark.parametrize("field, strides, status, text", [
    # Outputs must not alias: two batch entries, overlapping heads.
    ("out_strides", (0, 256, 64, 1), rt.INVALID_STRIDE, "out: the batch stride is 0"),
    ("out_strides", (64 * 256, 256, 32, 1), rt.INVALID_STRIDE, "out: the head stride (32)"),
    # A largest offset past 64-bit byte offsets.
    ("q_strides", (1 << 62, 256, 64, 1), rt.OVERFLOW, "q: the largest element offset"),
])
def test_layout_checks(field, strides, status, text):
    p = _strided(_params(batch=2), field, strides)
    assert rt.library().fa4_fwd(ctypes.byref(p), None) == status
    assert text in rt.last_error()


def test_lse_must_not_alias():
    p = _params(batch=2, lse=0x50000)
    for i, s in enumerate((0, 64, 1)):
        p.lse_strides[i] = s
    assert rt.library().fa4_fwd(ctypes.byref(p), None) == rt.INVALID_STRIDE
    assert "lse: the batch stride is 0" in rt.last_error()


def _varlen(**fields):
    p = rt.VarlenFwdParams()
    rt.library().fa4_varlen_fwd_params_init(ctypes.byref(p))
    p.q, p.k, p.v, p.out = 0x10000, 0x20000, 0x30000, 0x40000
    p.cu_seqlens_q, p.cu_seqlens_k = 0x60000, 0x61000
    p.batch, p.total_q, p.total_k, p.max_seqlen_q, p.max_seqlen_k = 2, 100, 120, 60, 70
    p.nheads_q, p.nheads_kv, p.head_dim, p.head_dim_v = 4, 4, 64, 64
    for name, value in fields.items():
        setattr(p, name, value)
    return p


@pytest.mark.parametrize("fields", [{"batch": 0}, {"total_q": 0}])
def test_varlen_nothing_to_do_is_success_whatever_the_pointers(fields):
    p = _varlen(q=None, k=None, v=None, out=None, cu_seqlens_q=None, cu_seqlens_k=None,
                **fields)
    assert rt.library().fa4_varlen_fwd(ctypes.byref(p), None) == rt.SUCCESS, rt.last_error()


def test_varlen_lse_heads_must_not_overlap():
    p = _varlen(lse=0x50000)
    p.lse_strides[0], p.lse_strides[1] = 50, 1
    assert rt.library().fa4_varlen_fwd(ctypes.byref(p), None) == rt.INVALID_STRIDE
    assert "lse: the head stride (50)" in rt.last_error()


@pytest.mark.parametrize("status, exception", [
    (rt.INVALID_SHAPE, ValueError), (rt.MISALIGNED, ValueError),
    (rt.UNSUPPORTED_HEAD_DIM, NotImplementedError), (rt.UNSUPPORTED_FEATURE, NotImplementedError),
    (rt.NO_GPU, RuntimeError), (rt.NO_CUDA_DRIVER, RuntimeError), (rt.CUDA_ERROR, RuntimeError),
])
def test_status_to_exception(status, exception):
    with pytest.raises(exception):
        rt.raise_for(status)


@pytest.mark.parametrize("kwargs, feature", [
    ({"dropout_p": 0.1, "return_attn_probs": True, "block_table": object()}, "S_dmask"),
])
def test_unbuilt_features_raise_before_any_tensor_work(kwargs, feature):
    with pytest.raises(NotImplementedError, match=feature):
        fa4.flash_attn_varlen_func(None, None, None, None, None, 1, 1, **kwargs)


def test_bad_load_path():
    with pytest.raises(ValueError, match="load_path"):
        fa4.flash_attn_func(None, None, None, load_path="dma")


def test_embedded_modules_cover_every_target_equally():
    modules = rt.modules()
    by_target = {}
    for name, target in modules:
        by_target.setdefault(target, set()).add(name)
    assert {"sm_120a", "sm_121a"} <= set(by_target)
    names = by_target["sm_120a"]
    assert "fa4_fwd_bf16_hd128" in names
    assert all(found == names for found in by_target.values())


def test_device_info_names_the_reason_when_there_is_no_gpu():
    status, info, why = rt.device_info(0)
    if status == rt.SUCCESS:
        assert info.device_count > 0 and info.name
    else:
        assert status in (rt.NO_CUDA_DRIVER, rt.NO_GPU)
        assert why.startswith("no CUDA driver") or why.startswith("no GPU")


def test_python_dash_m_fa4_reports_the_runtime():
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "fa4"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"fa4 {fa4.__version__}\n")
    assert f"version {fa4.__version__}" in text and rt.library().fa4_path in text
    count = len({name for name, _ in rt.modules()})
    assert f"kernels:  {count} kernel modules embedded for sm_120a ({count})" in text
    assert "driver:" in text and ("device 0:" in text or "device:   none:" in text)
    assert "torch:" in text


def test_a_wrong_fa4_library_is_an_error_not_a_fallback(tmp_path):
    import os
    import subprocess
    import sys
    missing = tmp_path / "libfa4_runtime.so"
    env = dict(os.environ, FA4_LIBRARY=str(missing))
    result = subprocess.run([sys.executable, "-m", "fa4"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 1
    assert f"runtime:  not loaded: FA4_LIBRARY={missing} is not a file" in result.stdout
