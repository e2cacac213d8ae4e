"""Reference attention and the SPEC's correctness rule, shared by the GPU tests
and the benchmark.

Two references are computed on the GPU with torch: one in float32 on upcast
inputs (`ref32`), one in the input dtype (`ref_lowp`, FlashAttention's
`attention_ref(upcast=False, reorder_ops=True)`). An output passes iff
    max|out - ref32| <= 2 * max|ref_lowp - ref32| + 1e-5  and  max|out - ref32| <= 0.0156,
with no NaN, and its LSE is within 1e-3 of the float32 LSE.

With dropout the cap is 0.0156 / (1 - p). The SPEC's 0.0156 is half a bf16
ulp at [4, 8): without dropout an output row is a convex combination of V's
rows, |o| <= max|v|. Dropout's kept probabilities are scaled by 1 / (1 - p),
so |o| reaches max|v| / (1 - p) and the rounding of the output itself grows
by that factor; the relative bound (2 x the low-precision reference's error,
which sees the same scaling) is unchanged.
"""

import math

import torch

RTOL = 2.0
ATOL = 1e-5
MAX_ABS = 0.0156
LSE_TOL = 1e-3


def visible_keys(seqlen_q, seqlen_k, causal, window, device):
    """(Sq, Sk) bool, True where query i may see key j: bottom-right aligned
    (diagonal j = i + Sk - Sq); causal allows j <= diagonal; a window
    (left, right) allows diagonal - left <= j <= diagonal + right, -1 being
    unbounded, causal making right 0 (FlashAttention-2's semantics, written
    from its description, not from fa4's kernels). None when every key is
    visible."""
    left, right = window
    if causal:
        right = 0
    if left < 0 and right < 0:
        return None
    row = torch.arange(seqlen_q, device=device)[:, None]
    col = torch.arange(seqlen_k, device=device)[None, :]
    diagonal = row + seqlen_k - seqlen_q
    keep = torch.ones(seqlen_q, seqlen_k, dtype=torch.bool, device=device)
    if right >= 0:
        keep &= col <= diagonal + right
    if left >= 0:
        keep &= col >= diagonal - left
    return keep


def attention_ref(q, k, v, causal, softmax_scale, upcast=True, head_chunk=8,
                  window=(-1, -1), softcap=0.0, alibi_slopes=None, sinks=None, dropout=None,
                  mask=None):
    """out (B, Sq, H, Dv) and, when upcast, lse (B, H, Sq) in float32.

    Bottom-right aligned causal mask or window (visible_keys); softcap > 0
    replaces the scaled scores s by softcap * tanh(s / softcap) before the
    mask; alibi_slopes (H) or (B, H) add -slope * |i + Sk - Sq - j| after it
    (FlashAttention-2's order and formula, causal or not). sinks (H) fp32: gpt-oss's
    learnable sinks, one extra logit per head appended to every row's scores
    before the softmax and dropped after it (no value row); the LSE includes it.
    A row that sees no key gets out = 0 and lse = -inf (the sink, with sinks).
    dropout (keep (B, H, Sq, Sk) bool, p): the normalized probabilities are
    multiplied by keep / (1 - p) (the LSE is that before dropout).
    mask (B, H, Sq, Sk) bool: an arbitrary element mask (block-sparse's), True
    where a score is kept, applied with the others.
    Heads are processed in chunks to bound memory.
    """
    dtype = q.dtype
    batch, seqlen_q, nheads, _ = q.shape
    seqlen_k, nheads_k = k.shape[1], k.shape[2]
    ratio = nheads // nheads_k
    out = torch.empty((batch, seqlen_q, nheads, v.shape[3]),
                      dtype=torch.float32 if upcast else dtype, device=q.device)
    lse = torch.empty((batch, nheads, seqlen_q), dtype=torch.float32, device=q.device)
    keep = visible_keys(seqlen_q, seqlen_k, causal, window, q.device)
    distance = None
    if alibi_slopes is not None:
        row = torch.arange(seqlen_q, device=q.device)[:, None]
        col = torch.arange(seqlen_k, device=q.device)[None, :]
        distance = (row + seqlen_k - seqlen_q - col).abs().float()
    for b in range(batch):
        for h0 in range(0, nheads, head_chunk):
            h1 = min(nheads, h0 + head_chunk)
            qh = q[b, :, h0:h1].transpose(0, 1)                      # (h, Sq, D)
            kv_heads = torch.arange(h0, h1, device=q.device) // ratio
            kh = k[b][:, kv_heads].transpose(0, 1)                   # (h, Sk, D)
            vh = v[b][:, kv_heads].transpose(0, 1)
            if upcast:
                qh, kh, vh = qh.float(), kh.float(), vh.float()
                scores = torch.matmul(qh, kh.transpose(1, 2)) * softmax_scale
            else:
                scores = torch.matmul(qh, (kh * softmax_scale).transpose(1, 2))
            if softcap > 0:
                scores = torch.tanh(scores / softcap) * softcap
            if keep is not None:
                scores = scores.masked_fill(~keep, float("-inf"))
            if mask is not None:
                scores = scores.masked_fill(~mask[b, h0:h1], float("-inf"))
            if distance is not None:
                slopes = alibi_slopes if alibi_slopes.dim() == 1 else alibi_slopes[b]
                bias = -slopes[h0:h1, None, None].float() * distance
                scores = scores + bias.to(scores.dtype)
            if sinks is not None:
                column = sinks[h0:h1, None, None].to(scores.dtype).expand(-1, seqlen_q, 1)
                scores = torch.cat([scores, column], dim=-1)
            elif seqlen_k == 0:
                out[b, :, h0:h1] = 0
                lse[b, h0:h1] = float("-inf")
                continue
            row_lse = torch.logsumexp(scores.float(), dim=-1)
            probs = torch.softmax(scores.float(), dim=-1)
            empty = torch.isneginf(row_lse)
            probs = probs.masked_fill(empty[..., None], 0.0)
            if sinks is not None:
                probs = probs[..., :seqlen_k]
            if dropout is not None:
                kept, p = dropout
                probs = probs * kept[b, h0:h1].float() / (1.0 - p)
            probs = probs.to(vh.dtype)
            out[b, :, h0:h1] = torch.matmul(probs, vh).transpose(0, 1).to(out.dtype)
            lse[b, h0:h1] = row_lse
    return out, lse


def check(out, lse, q, k, v, causal, softmax_scale=None, window=(-1, -1), softcap=0.0,
          alibi_slopes=None, sinks=None, dropout=None, mask=None):
    """Applies the correctness rule; returns a dict of the errors, raises
    AssertionError naming the violated bound."""
    if softmax_scale is None:
        softmax_scale = 1.0 / math.sqrt(q.shape[-1])
    mods = {"window": window, "softcap": softcap, "alibi_slopes": alibi_slopes, "sinks": sinks,
            "dropout": dropout, "mask": mask}
    ref32, lse32 = attention_ref(q, k, v, causal, softmax_scale, upcast=True, **mods)
    ref_lowp, _ = attention_ref(q, k, v, causal, softmax_scale, upcast=False, **mods)
    assert not torch.isnan(out).any(), "output has NaN (unwritten or broken)"
    err = (out.float() - ref32).abs().max().item() if out.numel() else 0.0
    err_lowp = (ref_lowp.float() - ref32).abs().max().item() if out.numel() else 0.0
    bound = RTOL * err_lowp + ATOL
    cap = MAX_ABS / (1.0 - dropout[1]) if dropout is not None else MAX_ABS
    result = {"err": err, "err_lowp": err_lowp, "bound": min(bound, cap)}
    assert err <= bound, f"max|out - ref32| = {err:.3e} > 2 * {err_lowp:.3e} + 1e-5"
    assert err <= cap, f"max|out - ref32| = {err:.3e} > {cap:.4g}"
    if lse is not None:
        assert not torch.isnan(lse).any(), "lse has NaN (unwritten or broken)"
        finite = torch.isfinite(lse32)
        assert torch.equal(torch.isneginf(lse), ~finite), "lse is -inf on the wrong rows"
        lse_err = (lse[finite] - lse32[finite]).abs().max().item() if finite.any() else 0.0
        result["lse_err"] = lse_err
        assert lse_err <= LSE_TOL, f"max|lse - lse32| = {lse_err:.3e} > {LSE_TOL}"
    return result
