// fa4 varlen forward kernel: f16, head_dim 32, softcap (c * tanh(S / c), c a run-time value).
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async with
// one K/V stage, as the SPEC's dispatch says for varlen.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_varlen_f16_hd32_softcap dtype(f16) head_dim(32) head_dim_v(32) softcap
    varlen load_path(cp_async) stages(1)
