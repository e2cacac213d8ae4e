// fa4 varlen forward kernel: bf16, head_dim 64, causal (bottom-right aligned) with learnable attention sinks.
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async with
// one K/V stage, as the SPEC's dispatch says for varlen.
// Any GQA/MQA ratio, any lengths, optional LSE (the sink included).
fa4.attention @fa4_fwd_varlen_bf16_hd64_causal_sink dtype(bf16) head_dim(64) head_dim_v(64) causal sink
    varlen load_path(cp_async) stages(1)
