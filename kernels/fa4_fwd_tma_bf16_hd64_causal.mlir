// fa4 forward kernel, TMA warp-specialized: bf16, head_dim 64, causal (bottom-right aligned).
// One producer warp loads Q and, through a 2-stage ring of mbarriers, K/V;
// eight MMA warps compute. Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_tma_bf16_hd64_causal dtype(bf16) head_dim(64) head_dim_v(64) causal
    load_path(tma) stages(2)
