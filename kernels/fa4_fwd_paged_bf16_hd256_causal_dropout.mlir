// fa4 paged-KV varlen forward kernel: bf16, head_dim 256, causal (bottom-right aligned).
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with two K/V stages, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
fa4.attention @fa4_fwd_paged_bf16_hd256_causal_dropout dtype(bf16) head_dim(256) head_dim_v(256) causal
    varlen paged_kv dropout load_path(cp_async) stages(2)
