// fa4 block-sparse varlen forward kernel: bf16, head_dim 96.
// The key blocks of each (batch, head, q-block) come from FlashAttention-4's
// mask_block_cnt/idx (element masks applied) and full_block_cnt/idx (key
// limit only) lists; the sparse block sizes are run-time parameters.
fa4.attention @fa4_fwd_varlen_bf16_hd96_block_sparse dtype(bf16) head_dim(96)
    head_dim_v(96) varlen block_sparse load_path(cp_async) stages(1)
