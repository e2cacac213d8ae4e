// fa4 block-sparse varlen forward kernel: f16, head_dim 96, causal (bottom-right aligned per sequence).
// The key blocks of each (batch, head, q-block) come from FlashAttention-4's
// mask_block_cnt/idx (element masks applied) and full_block_cnt/idx (key
// limit only) lists; the sparse block sizes are run-time parameters.
fa4.attention @fa4_fwd_varlen_f16_hd96_causal_block_sparse dtype(f16)
    head_dim(96) head_dim_v(96) causal varlen block_sparse load_path(cp_async)
    stages(1)
