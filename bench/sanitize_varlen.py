"""compute-sanitizer driver for the varlen kernels whose store bounds come from
the caller's max_seqlen_q / max_seqlen_k: FlashAttention-2's S_dmask on the
varlen path (dropout probs kernels; rows bounded by probs_rows, key blocks by
probs_cols) and the causal varlen grid (a CTA counts over the m-blocks the grid
covers). Each case runs with honest maxima and with maxima below a sequence's
real length, which no kernel can see without a host sync: nothing may be
written outside out, lse or S_dmask. Head dims 64, 128 and 256, causal and not;
S_dmask with a window, softcap and ALiBi too (dense and varlen).

    compute-sanitizer --tool memcheck python3 bench/sanitize_varlen.py
(from the repository root, FA4_LIBRARY and PYTHONPATH=python set)
"""
import sys

sys.path.insert(0, "python/tests")
import torch  # noqa: E402
import fa4  # noqa: E402
from fa4 import _ops, _launch  # noqa: E402
from test_varlen import _cu  # noqa: E402

g = torch.Generator(device="cuda").manual_seed(11)


def randn(*shape):
    return torch.randn(*shape, device="cuda", dtype=torch.bfloat16, generator=g)


LENGTHS = ([113, 0, 300, 200], [203, 5, 300, 150])
for d in (64, 128, 256):
    lq, lk = LENGTHS
    q, k, v = randn(sum(lq), 4, d), randn(sum(lk), 2, d), randn(sum(lk), 2, d)
    cq, ck = _cu(lq), _cu(lk)
    for causal in (False, True):
        # Honest maxima, then each maximum below the longest sequence.
        for mq, mk in ((max(lq), max(lk)), (100, max(lk)), (max(lq), 120), (64, 64)):
            _ops.varlen_fwd_with_probs(q, k, v, cq, ck, None, mq, mk, d ** -0.5, causal, 0.25)
            out = torch.empty_like(q)
            lse = torch.empty(4, sum(lq), dtype=torch.float32, device="cuda")
            _launch.varlen_forward(q, k, v, out, lse, cq, ck, None, None, mq, mk, d ** -0.5,
                                   causal)
            fa4.flash_attn_varlen_func(q, k, v, cq, ck, mq, mk, causal=causal, dropout_p=0.25)
    # S_dmask with a window, softcap and ALiBi (the switchable S_dmask
    # kernels, one masked loop in FlashAttention-2's order), dense too.
    slopes = torch.rand(4, device="cuda", generator=g) * 0.05
    for mods in (dict(window_size=(100, 30)), dict(window_size=(250, -1), softcap=8.0),
                 dict(causal=True, alibi_slopes=slopes)):
        for mq, mk in ((max(lq), max(lk)), (100, 120)):
            _ops.varlen_fwd_with_probs(q, k, v, cq, ck, None, mq, mk, d ** -0.5,
                                       mods.get("causal", False), 0.25,
                                       mods.get("window_size", (-1, -1)),
                                       mods.get("softcap", 0.0), mods.get("alibi_slopes"))
        qd, kd, vd = randn(2, 300, 4, d), randn(2, 517, 2, d), randn(2, 517, 2, d)
        fa4.flash_attn_func(qd, kd, vd, dropout_p=0.25, return_attn_probs=True, **mods)
torch.cuda.synchronize()
print("sanitizer driver done")
