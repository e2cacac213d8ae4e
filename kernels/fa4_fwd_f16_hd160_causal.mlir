// fa4 forward kernel: f16, head_dim 160, causal (bottom-right aligned).
// cp.async, one K/V stage; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd160_causal dtype(f16) head_dim(160) head_dim_v(160) causal
    load_path(cp_async) stages(1)
