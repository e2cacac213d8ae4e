// fa4 forward kernel: f16, head_dim 192, non-causal.
// cp.async, one K/V stage; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd192 dtype(f16) head_dim(192) head_dim_v(192)
    load_path(cp_async) stages(1)
