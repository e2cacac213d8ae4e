// fa4 varlen forward kernel: bf16, head_dim 256, non-causal.
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async (the SPEC's
// dispatch for varlen) with two K/V stages.
// Any GQA/MQA ratio, any lengths, optional LSE.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
fa4.attention @fa4_fwd_varlen_bf16_hd256_dropout dtype(bf16) head_dim(256) head_dim_v(256)
    varlen dropout load_path(cp_async) stages(2)
