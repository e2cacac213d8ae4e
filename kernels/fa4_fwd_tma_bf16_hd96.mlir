// fa4 forward kernel, TMA warp-specialized: bf16, head_dim 96, non-causal.
// One producer warp loads Q and, through a 2-stage ring of mbarriers, K/V;
// eight MMA warps compute. Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_tma_bf16_hd96 dtype(bf16) head_dim(96) head_dim_v(96)
    load_path(tma) stages(2)
