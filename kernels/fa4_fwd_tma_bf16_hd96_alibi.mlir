// fa4 forward kernel, TMA warp-specialized: bf16, head_dim 96, ALiBi (fp32 slopes per head, or per batch entry and head).
// A producer warp group loads Q and, through a 2-stage mbarrier ring, K/V;
// eight MMA warps compute.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_tma_bf16_hd96_alibi dtype(bf16) head_dim(96) head_dim_v(96) alibi
    load_path(tma) stages(2)
