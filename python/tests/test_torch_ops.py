"""fa4's PyTorch integration: the torch.library operators (torch.ops.fa4.*),
their fake implementations, torch.compile(fullgraph=True) over every entry
point, torch.library.opcheck, CUDA-graph capture and the autograd guard.

Without a GPU (torch installed) the fake implementations and the tracing
run on fake CUDA tensors: torch.compile traces each FlashAttention-2 entry
point into one graph holding the fa4 operator. On a GPU, opcheck runs each
operator for real, compiled calls (inductor) are compared bit for bit with
eager ones, calls are captured in CUDA graphs and replayed on new data, and
a backward through any entry point raises NotImplementedError naming fa4's
missing backward."""

import math
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

torch = pytest.importorskip("torch", reason="torch is not installed")
import fa4  # noqa: E402
from torch._subclasses.fake_tensor import FakeTensorMode  # noqa: E402

HAS_GPU = torch.cuda.is_available()
requires_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU on this machine")

BF16 = torch.bfloat16


#===----------------------------------------------------------------------===#
# Inputs: one builder per entry point, the same on fake and real devices
#===----------------------------------------------------------------------===#

def _rand(*shape, dtype=BF16):
    return torch.randn(*shape, device="cuda", dtype=dtype)


def _cu(lengths):
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    return torch.tensor(offsets, device="cuda", dtype=torch.int32)


def _dense(d=64):
    """flash_attn_func at a built and (d = 80) at a padded head dim, GQA."""
    args = (_rand(2, 96, 8, d), _rand(2, 128, 2, d), _rand(2, 128, 2, d))
    return fa4.flash_attn_func, args, {"causal": True, "return_lse": True}


def _varlen():
    lq, lk = [5, 0, 77], [40, 3, 130]
    args = (_rand(sum(lq), 4, 64), _rand(sum(lk), 2, 64), _rand(sum(lk), 2, 64),
            _cu(lq), _cu(lk), max(lq), max(lk))
    return fa4.flash_attn_varlen_func, args, {"causal": True, "return_lse": True}


def _paged():
    lq, lk = [17, 64], [100, 64]
    pages = torch.arange(8, device="cuda", dtype=torch.int32).flip(0).reshape(2, 4)
    args = (_rand(sum(lq), 4, 64), _rand(8, 32, 2, 64), _rand(8, 32, 2, 64),
            _cu(lq), _cu(lk), max(lq), max(lk))
    return fa4.flash_attn_varlen_func, args, {"block_table": pages, "window_size": (32, 0)}


def _qkvpacked():
    return fa4.flash_attn_qkvpacked_func, (_rand(2, 64, 3, 4, 64),), {"softcap": 5.0}


def _kvpacked():
    return fa4.flash_attn_kvpacked_func, (_rand(2, 64, 4, 128), _rand(2, 80, 2, 2, 128)), {}


def _varlen_qkvpacked():
    lengths = [33, 70]
    return (fa4.flash_attn_varlen_qkvpacked_func,
            (_rand(sum(lengths), 3, 4, 64), _cu(lengths), max(lengths)), {"causal": True})


def _varlen_kvpacked():
    lq, lk = [10, 20], [30, 50]
    return (fa4.flash_attn_varlen_kvpacked_func,
            (_rand(sum(lq), 4, 64), _rand(sum(lk), 2, 2, 64), _cu(lq), _cu(lk), max(lq),
             max(lk)), {})


def _kvcache():
    """A decode step with an append, rotary embeddings and split-KV."""
    batch, cache_len, hk, d = 3, 512, 2, 128
    k_cache, v_cache = _rand(batch, cache_len, hk, d), _rand(batch, cache_len, hk, d)
    seqlens = torch.tensor([0, 200, 511], device="cuda", dtype=torch.int32)
    cos = torch.cos(torch.arange(cache_len * 32, device="cuda").reshape(cache_len, 32) * 0.01)
    sin = torch.sin(torch.arange(cache_len * 32, device="cuda").reshape(cache_len, 32) * 0.01)
    args = (_rand(batch, 1, 8, d), k_cache, v_cache, _rand(batch, 1, hk, d),
            _rand(batch, 1, hk, d), cos.to(BF16), sin.to(BF16), seqlens)
    return fa4.flash_attn_with_kvcache, args, {"causal": True, "num_splits": 0,
                                               "return_softmax_lse": True}


def _kvcache_paged():
    k_cache, v_cache = _rand(16, 64, 1, 64), _rand(16, 64, 1, 64)
    table = torch.randperm(16, device="cuda", dtype=torch.int32).reshape(2, 8)
    seqlens = torch.tensor([300, 17], device="cuda", dtype=torch.int32)
    return (fa4.flash_attn_with_kvcache, (_rand(2, 4, 8, 64), k_cache, v_cache),
            {"cache_seqlens": seqlens, "block_table": table, "num_splits": 3})


ENTRY_POINTS = {
    "dense": _dense, "dense_padded_d80": lambda: _dense(80), "varlen": _varlen,
    "paged": _paged, "qkvpacked": _qkvpacked, "kvpacked": _kvpacked,
    "varlen_qkvpacked": _varlen_qkvpacked, "varlen_kvpacked": _varlen_kvpacked,
    "kvcache": _kvcache, "kvcache_paged": _kvcache_paged,
}
OPERATOR = {"dense": "fwd", "dense_padded_d80": "fwd", "qkvpacked": "fwd", "kvpacked": "fwd",
            "varlen": "varlen_fwd", "paged": "varlen_fwd", "varlen_qkvpacked": "varlen_fwd",
            "varlen_kvpacked": "varlen_fwd", "kvcache": "kvcache_fwd",
            "kvcache_paged": "kvcache_fwd"}


def _clone(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    return value


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def _first(result):
    """The output of an entry point's result (out, or (out, lse, ...))."""
    return _as_tuple(result)[0]


def _assert_same_outputs(a, b):
    """Bit-identical outputs, position by position (None: not returned)."""
    for x, y in zip(_as_tuple(a), _as_tuple(b)):
        if x is not None:
            assert torch.equal(x, y)


def _build(name, fake_mode=None):
    if fake_mode is None:
        return ENTRY_POINTS[name]()
    with fake_mode:
        return ENTRY_POINTS[name]()


#===----------------------------------------------------------------------===#
# Without a GPU: registration, fake implementations, tracing
#===----------------------------------------------------------------------===#

def test_operators_are_registered_with_their_mutations():
    schemas = {name: str(getattr(torch.ops.fa4, name).default._schema)
               for name in ("fwd", "varlen_fwd", "kvcache_fwd", "no_backward", "backward_error")}
    assert "Tensor(a1!) k_cache" in schemas["kvcache_fwd"]
    assert "Tensor(a2!) v_cache" in schemas["kvcache_fwd"]
    for name in ("fwd", "varlen_fwd", "no_backward", "backward_error"):
        assert "!" not in schemas[name], schemas[name]


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_fake_tensors_give_the_entry_points_shapes(name):
    # FakeTensorMode is a dispatch mode: the entry point goes through
    # torch.ops.fa4 and its fake implementation, never the driver.
    with FakeTensorMode():
        fn, args, kwargs = ENTRY_POINTS[name]()
        result = fn(*args, **kwargs)
    out = _first(result)
    q = args[0]
    if name in ("qkvpacked", "varlen_qkvpacked"):
        expected = q.shape[:-3] + q.shape[-2:]
    else:
        expected = q.shape
    assert out.shape == expected and out.dtype == q.dtype and out.device.type == "cuda"
    if isinstance(result, tuple):
        lse = result[1]
        assert lse.dtype == torch.float32
        if name.startswith("dense") or name.startswith("kvcache"):
            assert lse.shape == (q.shape[0], q.shape[2], q.shape[1])
        else:
            assert lse.shape == (q.shape[1], q.shape[0])


@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "q_requires_grad"])
@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_compile_fullgraph_traces_each_entry_point(name, grad):
    graphs = []

    def record(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module

    torch._dynamo.reset()
    mode = FakeTensorMode()
    fn, args, kwargs = _build(name, mode)
    compiled = torch.compile(lambda *a: fn(*a, **kwargs), fullgraph=True, backend=record)
    with mode:
        if grad:
            args = (args[0].detach().requires_grad_(True), *args[1:])
        compiled(*args)
    assert len(graphs) == 1
    targets = [str(node.target) for node in graphs[0].graph.nodes if node.op == "call_function"]
    assert f"fa4.{OPERATOR[name]}" in targets, targets


def test_the_operators_backward_traces_when_inputs_require_grad():
    # AOTAutograd traces forward and backward together when an input
    # requires grad, so fa4's backward (fa4::backward_error) must trace for
    # a compiled model evaluated without torch.no_grad() to run. Operator
    # level, on fake CPU tensors (CPU-only torch cannot run autograd on fake
    # CUDA ones); the entry points are compiled this way on the GPU.
    torch._dynamo.reset()
    mode = FakeTensorMode()
    with mode:
        q = torch.empty(2, 64, 4, 64, dtype=BF16, requires_grad=True)
        k = torch.empty(2, 64, 2, 64, dtype=BF16, requires_grad=True)
        v = torch.empty(2, 64, 2, 64, dtype=BF16)
        cache = torch.empty(2, 128, 2, 64, dtype=BF16)

        def dense(q, k, v):
            return torch.ops.fa4.fwd(q, k, v, None, None, 0.125, True, -1, -1, 0.0, True,
                                     "auto")[0]

        def guarded(q, k):  # as flash_attn_with_kvcache does it
            out = torch.ops.fa4.kvcache_fwd(q.detach(), cache, cache, None, None, None, None,
                                            None, 128, None, None, None, None, 0.125, False,
                                            -1, -1, 0.0, True, 0, False)[0]
            return torch.ops.fa4.no_backward(out, [q, k], "fa4::kvcache_fwd")

        for fn, args in ((dense, (q, k, v)), (guarded, (q, k))):
            out = torch.compile(fn, fullgraph=True, backend="aot_eager")(*args)
            assert out.requires_grad and out.grad_fn is not None
            out.float().sum().backward()  # the fake backward_error: gradients shaped
            assert q.grad.shape == q.shape and k.grad.shape == k.shape
            q.grad = k.grad = None


def test_scale_check_rounds_like_float32_without_struct():
    # The float32 rounding torch.compile traces (no struct) agrees with
    # IEEE float32 at the edges of the check.
    from fa4._checks import to_float32
    x = torch.tensor([0.1, 1 / 3, 2.0 ** -126, 2.0 ** -149, 3e-39, 3.4028235e38, 1e-45],
                     dtype=torch.float64)
    for value, rounded in zip(x.tolist(), x.to(torch.float32).double().tolist()):
        assert to_float32(value) == rounded
    assert to_float32(3.5e38) == math.inf


#===----------------------------------------------------------------------===#
# On the GPU
#===----------------------------------------------------------------------===#

def _ops_args(name):
    """(operator, args) as the entry point passes them, captured from a
    dispatched call."""
    fn, args, kwargs = ENTRY_POINTS[name]()
    seen = []
    op = getattr(torch.ops.fa4, OPERATOR[name])

    class Capture(torch.utils._python_dispatch.TorchDispatchMode):
        def __torch_dispatch__(self, func, types, call_args=(), call_kwargs=None):
            if func._overloadpacket is op:
                seen.append(call_args)
            return func(*call_args, **(call_kwargs or {}))

    with Capture():
        fn(*args, **kwargs)
    assert len(seen) == 1
    return op, seen[0]


@requires_gpu
@pytest.mark.parametrize("name", ["dense", "dense_padded_d80", "varlen", "paged", "kvcache",
                                  "kvcache_paged"])
def test_opcheck(name):
    op, args = _ops_args(name)
    # The dispatched call above ran once; opcheck runs it again (mutating
    # a cache is idempotent for the same inputs) and checks the schema, the
    # fake implementation, the autograd registration and AOT dispatch.
    torch.library.opcheck(op.default, args)


@requires_gpu
@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_compiled_calls_match_eager_bit_for_bit(name):
    torch._dynamo.reset()
    torch.manual_seed(0)
    fn, args, kwargs = ENTRY_POINTS[name]()
    eager_args = [_clone(a) for a in args]
    compiled_args = [_clone(a) for a in args]
    expected = fn(*eager_args, **kwargs)
    got = torch.compile(lambda *a: fn(*a, **kwargs), fullgraph=True)(*compiled_args)
    _assert_same_outputs(expected, got)
    if name.startswith("kvcache"):  # the caches were appended to the same way
        for e, g in zip(eager_args[1:3], compiled_args[1:3]):
            assert torch.equal(e, g)


@requires_gpu
@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_direct_and_dispatched_calls_agree(name):
    fn, args, kwargs = ENTRY_POINTS[name]()
    direct_args = [_clone(a) for a in args]
    dispatched_args = [_clone(a) for a in args]
    with torch.no_grad():
        direct = fn(*direct_args, **kwargs)

    class PassThrough(torch.utils._python_dispatch.TorchDispatchMode):
        def __torch_dispatch__(self, func, types, call_args=(), call_kwargs=None):
            return func(*call_args, **(call_kwargs or {}))

    with PassThrough():  # any dispatch mode sends the call through torch.ops.fa4
        dispatched = fn(*dispatched_args, **kwargs)
    _assert_same_outputs(direct, dispatched)


@requires_gpu
@pytest.mark.parametrize("name", ["dense", "varlen", "paged", "kvcache", "kvcache_paged"])
@pytest.mark.parametrize("compiled", [False, True])
def test_cuda_graph_capture_and_replay(name, compiled):
    torch._dynamo.reset()
    fn, args, kwargs = ENTRY_POINTS[name]()
    call = torch.compile(lambda *a: fn(*a, **kwargs), fullgraph=True) if compiled else (
        lambda *a: fn(*a, **kwargs))
    static = [_clone(a) for a in args]
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(2):  # warm up: module loads and compilation happen outside capture
            call(*[_clone(a) for a in args])
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        captured = call(*static)

    # New data in the same buffers: the replay must compute on it.
    fresh = [_clone(a) for a in args]
    for s, f in zip(static, fresh):
        if isinstance(s, torch.Tensor) and s.is_floating_point():
            f.copy_(torch.randn_like(f))
            s.copy_(f)
    graph.replay()
    torch.cuda.synchronize()
    expected = fn(*fresh, **kwargs)
    _assert_same_outputs(expected, captured)
    if name.startswith("kvcache"):
        for s, f in zip(static[1:3], fresh[1:3]):
            assert torch.equal(s, f)


@requires_gpu
@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_backward_raises_naming_fa4s_missing_backward(name):
    fn, args, kwargs = ENTRY_POINTS[name]()
    q = args[0].detach().requires_grad_(True)
    result = fn(q, *args[1:], **kwargs)
    out = _first(result)
    assert out.requires_grad and out.grad_fn is not None
    with pytest.raises(NotImplementedError, match="fa4 has no backward pass: fa4::"):
        out.float().sum().backward()


@requires_gpu
@pytest.mark.parametrize("name", ["dense", "varlen", "kvcache"])
def test_compiled_forward_with_grad_runs_and_its_backward_raises(name):
    torch._dynamo.reset()
    fn, args, kwargs = ENTRY_POINTS[name]()
    q = args[0].detach().requires_grad_(True)
    compiled = torch.compile(lambda *a: fn(*a, **kwargs), fullgraph=True)
    result = compiled(q, *[_clone(a) for a in args[1:]])
    out = _first(result)
    expected = fn(args[0], *[_clone(a) for a in args[1:]], **kwargs)
    expected = _first(expected)
    assert torch.equal(out.detach(), expected)
    with pytest.raises(NotImplementedError, match="fa4 has no backward pass: fa4::"):
        out.float().sum().backward()


@requires_gpu
def test_forward_under_no_grad_records_nothing():
    fn, args, kwargs = _dense()
    q = args[0].detach().requires_grad_(True)
    with torch.no_grad():
        out = fn(q, *args[1:], **kwargs)[0]
    assert out.grad_fn is None and not out.requires_grad


@requires_gpu
def test_errors_keep_their_type_through_the_dispatcher():
    q = _rand(1, 16, 4, 64)
    k = _rand(1, 16, 4, 64)
    bad = torch.empty(1, 16, 4, 64 + 8, device="cuda", dtype=BF16)[..., 1:65]
    with pytest.raises(ValueError, match="16-byte aligned|aligned"):
        torch.ops.fa4.fwd(q, bad, k, None, None, 0.125, False, -1, -1, 0.0, False, "auto")
