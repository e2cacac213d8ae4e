// fa4 forward kernel, TMA warp-specialized: f16, head_dim 128, ALiBi (fp32 slopes per head, or per batch entry and head).
// A producer warp group loads Q and, through a 2-stage mbarrier ring, K/V;
// eight MMA warps compute.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_tma_f16_hd128_alibi dtype(f16) head_dim(128) head_dim_v(128) alibi
    load_path(tma) stages(2)
