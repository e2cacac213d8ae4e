// fa4 varlen forward kernel: bf16, head_dim 256, ALiBi (fp32 slopes per head, or per batch entry and head).
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async (the SPEC's
// dispatch for varlen) with two K/V stages.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_varlen_bf16_hd256_alibi dtype(bf16) head_dim(256) head_dim_v(256) alibi
    varlen load_path(cp_async) stages(2)
