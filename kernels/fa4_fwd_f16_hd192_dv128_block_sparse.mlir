// fa4 block-sparse forward kernel: f16, head_dim 192, head_dim_v 128, non-causal.
// The key blocks of each (batch, head, q-block) come from FlashAttention-4's
// mask_block_cnt/idx (element masks applied) and full_block_cnt/idx (key
// limit only) lists; the sparse block sizes are run-time parameters.
fa4.attention @fa4_fwd_f16_hd192_dv128_block_sparse dtype(f16) head_dim(192)
    head_dim_v(128) block_sparse load_path(cp_async) stages(1)
