// fa4 block-sparse forward kernel: bf16, head_dim 32, causal (bottom-right aligned).
// The key blocks of each (batch, head, q-block) come from FlashAttention-4's
// mask_block_cnt/idx (element masks applied) and full_block_cnt/idx (key
// limit only) lists; the sparse block sizes are run-time parameters.
fa4.attention @fa4_fwd_bf16_hd32_causal_block_sparse dtype(bf16) head_dim(32)
    head_dim_v(32) causal block_sparse load_path(cp_async) stages(2)
