// fa4 forward kernel, TMA warp-specialized: f16, head_dim 96, causal (bottom-right aligned).
// One producer warp loads Q and, through a 2-stage ring of mbarriers, K/V;
// eight MMA warps compute. Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_tma_f16_hd96_causal dtype(f16) head_dim(96) head_dim_v(96) causal
    load_path(tma) stages(2)
