// fa4 forward kernel, TMA warp-specialized: bf16, head_dim 128, local (sliding) window, its sizes run-time values (-1 unbounded).
// A producer warp group loads Q and, through a 2-stage mbarrier ring, K/V;
// eight MMA warps compute.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_tma_bf16_hd128_window dtype(bf16) head_dim(128) head_dim_v(128) window
    load_path(tma) stages(2)
