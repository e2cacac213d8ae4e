// fa4 forward kernel: bf16, head_dim 32, causal (bottom-right aligned) with softcap.
// cp.async, two K/V stages; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd32_causal_softcap dtype(bf16) head_dim(32) head_dim_v(32) causal softcap
    load_path(cp_async) stages(2)
