// fa4 forward kernel: bf16, head_dim 224, causal (bottom-right aligned) with ALiBi.
// cp.async, two K/V stages; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd224_causal_alibi dtype(bf16) head_dim(224) head_dim_v(224) causal alibi
    load_path(cp_async) stages(2)
