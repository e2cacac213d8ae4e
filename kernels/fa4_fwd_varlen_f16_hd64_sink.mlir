// fa4 varlen forward kernel: f16, head_dim 64, learnable attention sinks (fp32 logit per head).
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async with
// one K/V stage, as the SPEC's dispatch says for varlen.
// Any GQA/MQA ratio, any lengths, optional LSE (the sink included).
fa4.attention @fa4_fwd_varlen_f16_hd64_sink dtype(f16) head_dim(64) head_dim_v(64) sink
    varlen load_path(cp_async) stages(1)
