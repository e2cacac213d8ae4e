"""Argument checks shared by fa4's entry points.

The rule, the same in every entry point:
  * TypeError: an argument of the wrong Python type (a flag that is not a
    bool, a tensor argument that is not a torch.Tensor, a scale that is not
    a number);
  * ValueError: the right type with a bad value (shape, dtype, device,
    layout, range);
  * NotImplementedError: a feature fa4 does not build yet.
Scalar arguments are checked before any tensor, so these checks need no
torch and no GPU.
"""

import math
import numbers

_LOG2_E = 1.4426950408889634
_FLOAT32_MIN_NORMAL = 2.0 ** -126


def not_built(what):
    raise NotImplementedError(f"fa4: {what} is not built yet")


def check_flag(name, value):
    """A bool argument: True or False, nothing that merely converts to one."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_number(name, value):
    """A real number that is not a bool."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    return float(value)


def check_int(name, value, minimum=0):
    """An integer (anything with __index__, not a bool) >= minimum."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = value.__index__()
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_dropout_p(dropout_p):
    """dropout_p: a number in [0, 1). Returns it as a float."""
    value = check_number("dropout_p", dropout_p)
    if not (0.0 <= value < 1.0):
        raise ValueError(f"dropout_p must be in [0, 1), got {dropout_p}")
    return value


def _check_per_head_fp32(name, t, torch, device, shapes, layout, nheads, contiguous):
    """A float32 tensor on `device` whose shape is one of `shapes` (`layout`
    names them) and whose last (head) dimension has unit stride."""
    check_tensor(name, t, torch)
    if t.dtype != torch.float32:
        raise ValueError(f"{name} must be float32, got {t.dtype}")
    if t.device != device:
        raise ValueError(f"{name} must be on {device}, got {t.device}")
    if tuple(t.shape) not in shapes:
        raise ValueError(f"{name} must be {layout}, got shape {tuple(t.shape)}")
    if nheads > 1 and t.stride(-1) != 1:
        raise ValueError(f"{name} must be {contiguous}")
    return t


def check_alibi_slopes(alibi_slopes, torch, batch, nheads, device):
    """alibi_slopes: None, or an fp32 tensor (nheads) or (batch, nheads) on
    the inputs' device with a unit head stride."""
    if alibi_slopes is None:
        return None
    return _check_per_head_fp32(
        "alibi_slopes", alibi_slopes, torch, device, ((nheads,), (batch, nheads)),
        f"(nheads={nheads},) or (batch={batch}, nheads={nheads})", nheads,
        "contiguous in its head dimension")


def check_learnable_sink(learnable_sink, torch, nheads, device):
    """learnable_sink: None, or a contiguous fp32 tensor (nheads) on the
    inputs' device."""
    if learnable_sink is None:
        return None
    return _check_per_head_fp32("learnable_sink", learnable_sink, torch, device, ((nheads,),),
                                f"(nheads={nheads},)", nheads, "contiguous")


_INT32_MAX = 2 ** 31 - 1


def check_window_size(window_size):
    """FlashAttention-2's window_size: a pair (left, right) of ints >= -1,
    -1 being unbounded. Returns the pair."""
    try:
        left, right = window_size
    except (TypeError, ValueError):
        raise TypeError(f"window_size must be a pair of ints, got {window_size!r}") from None
    left = check_int("window_size[0]", left, -1)
    right = check_int("window_size[1]", right, -1)
    for name, value in (("window_size[0]", left), ("window_size[1]", right)):
        if value > _INT32_MAX:
            raise ValueError(f"{name} must be < 2^31, got {value}")
    return left, right


def check_softcap(softcap):
    """softcap: 0.0 (off) or a positive finite number. Returns it as a float."""
    value = check_number("softcap", softcap)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"softcap must be 0 (off) or positive and finite, got {softcap}")
    return value


def check_common(dropout_p, softmax_scale, causal, window_size, softcap, alibi_slopes,
                 deterministic, return_attn_probs, return_lse):
    """The scalar arguments every FlashAttention-2 forward entry point takes,
    checked in one order. Returns (softmax_scale, causal, window_size,
    softcap, return_attn_probs, return_lse), normalized; dropout_p is
    checked here and read by the caller (check_dropout_p)."""
    check_dropout_p(dropout_p)
    if alibi_slopes is not None and not hasattr(alibi_slopes, "data_ptr"):
        raise TypeError(f"alibi_slopes must be a torch.Tensor, got {type(alibi_slopes).__name__}")
    window_size = check_window_size(window_size)
    softcap = check_softcap(softcap)
    causal = check_flag("causal", causal)
    check_flag("deterministic", deterministic)
    return_attn_probs = check_flag("return_attn_probs", return_attn_probs)
    return_lse = check_flag("return_lse", return_lse)
    softmax_scale = check_softmax_scale(softmax_scale)
    return softmax_scale, causal, window_size, softcap, return_attn_probs, return_lse


def to_float32(x):
    """x rounded to the nearest float32 (ties to even; infinity past
    float32's range), as a Python float. Plain arithmetic rather than
    struct, so torch.compile traces the entry points that use it."""
    if x == 0 or not math.isfinite(x):
        return x
    mantissa, exponent = math.frexp(abs(x))  # |x| = mantissa * 2^exponent
    # float32 keeps 24 significant bits, fewer below its normal range
    # (2^-126 = 0.5 * 2^-125): its quantum there is 2^-149.
    bits = 24 - max(0, -125 - exponent)
    rounded = math.ldexp(round(math.ldexp(mantissa, bits)), exponent - bits)
    if rounded >= 2.0 ** 128:
        rounded = math.inf
    return math.copysign(rounded, x)


def check_softmax_scale(softmax_scale):
    """A given scale, checked (None, the default 1/sqrt(head_dim), passes as
    None). The kernel works with scale * log2(e) in float32, which must be
    finite and normal: a scale that float32 rounds to 0 (or to infinity) is a
    ValueError, never the default."""
    if softmax_scale is None:
        return None
    scale = check_number("softmax_scale", softmax_scale)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"softmax_scale must be positive and finite, got {softmax_scale}")
    scaled32 = to_float32(to_float32(scale) * _LOG2_E)
    if not (math.isfinite(scaled32) and scaled32 >= _FLOAT32_MIN_NORMAL):
        raise ValueError(f"softmax_scale ({softmax_scale}) times log2(e) is {scaled32} in "
                         "float32, not a finite normal number")
    return scale


def default_softmax_scale(head_dim):
    return 1.0 / math.sqrt(head_dim) if head_dim > 0 else 1.0


def check_tensor(name, t, torch):
    """A torch.Tensor argument (TypeError otherwise)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    return t


# Head dims with kernels (FlashAttention-2's classes). Another head dim
# d <= 256 runs on the next one up: the entry points pad q and k (to the
# class of head_dim) and v (to the class of head_dim_v) with zero columns,
# which change no score and add zero output columns, and return a view of
# out without them. The padding is a copy of q, k and v (of the whole cache
# for paged K/V): what FlashAttention-2 does for head dims that are not a
# multiple of 8, here for every head dim without a kernel.
BUILT_HEAD_DIMS = (32, 64, 96, 128, 160, 192, 224, 256)


def head_dim_class(name, head_dim):
    """The built head dim a head dim runs on; ValueError past 256."""
    for built in BUILT_HEAD_DIMS:
        if head_dim <= built:
            return built
    raise ValueError(f"{name} must be at most {BUILT_HEAD_DIMS[-1]}, got {head_dim}")


def pad_head_dims(q, k, v):
    """(q, k, v) padded with zero columns to their head-dim classes, and the
    head_dim_v to slice the output back to. No copy when both are built."""
    import torch.nn.functional as F

    d, dv = q.shape[-1], v.shape[-1]
    if d == 0 or dv == 0:
        return q, k, v, dv
    pd, pdv = head_dim_class("head_dim", d), head_dim_class("head_dim_v", dv)
    if pd != d:
        q, k = F.pad(q, (0, pd - d)), F.pad(k, (0, pd - d))
    if pdv != dv:
        v = F.pad(v, (0, pdv - dv))
    return q, k, v, dv
