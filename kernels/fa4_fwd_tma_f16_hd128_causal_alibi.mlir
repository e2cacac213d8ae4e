// fa4 forward kernel, TMA warp-specialized: f16, head_dim 128, causal (bottom-right aligned) with ALiBi.
// A producer warp group loads Q and, through a 2-stage mbarrier ring, K/V;
// eight MMA warps compute.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_tma_f16_hd128_causal_alibi dtype(f16) head_dim(128) head_dim_v(128) causal alibi
    load_path(tma) stages(2)
