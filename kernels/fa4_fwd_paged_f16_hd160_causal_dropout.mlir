// fa4 paged-KV varlen forward kernel: f16, head_dim 160, causal (bottom-right aligned).
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with one K/V stage, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
fa4.attention @fa4_fwd_paged_f16_hd160_causal_dropout dtype(f16) head_dim(160) head_dim_v(160) causal
    varlen paged_kv dropout load_path(cp_async) stages(1)
