// fa4 forward kernel: bf16, head_dim 192, ALiBi (fp32 slopes per head, or per batch entry and head).
// cp.async, one K/V stage; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd192_alibi dtype(bf16) head_dim(192) head_dim_v(192) alibi
    load_path(cp_async) stages(1)
