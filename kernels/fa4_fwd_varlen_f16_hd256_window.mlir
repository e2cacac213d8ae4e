// fa4 varlen forward kernel: f16, head_dim 256, local (sliding) window, its sizes run-time values (-1 unbounded).
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async (the SPEC's
// dispatch for varlen) with two K/V stages.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_varlen_f16_hd256_window dtype(f16) head_dim(256) head_dim_v(256) window
    varlen load_path(cp_async) stages(2)
