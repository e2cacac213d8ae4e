// fa4 forward kernel: bf16, head_dim 192, head_dim_v 128, causal (bottom-right aligned) with softcap.
// cp.async, one K/V stage; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd192_dv128_causal_softcap dtype(bf16) head_dim(192) head_dim_v(128) causal softcap
    load_path(cp_async) stages(1)
