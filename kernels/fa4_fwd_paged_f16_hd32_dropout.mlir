// fa4 paged-KV varlen forward kernel: f16, head_dim 32, non-causal.
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with two K/V stages, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
fa4.attention @fa4_fwd_paged_f16_hd32_dropout dtype(f16) head_dim(32) head_dim_v(32)
    varlen paged_kv dropout load_path(cp_async) stages(2)
