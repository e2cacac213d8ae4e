// fa4 paged-KV varlen forward kernel: f16, head_dim 128, causal (bottom-right aligned per sequence).
// Queries packed by cu_seqlens_q; keys and values in pages of any multiple of
// 16 rows named by a block table (batch, max_pages), the key count of each
// sequence from cu_seqlens_k or seqused_k. cp.async with 2 K/V stages, as the
// SPEC's dispatch says for paged KV.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
fa4.attention @fa4_fwd_paged_f16_hd128_causal_dropout dtype(f16) head_dim(128) head_dim_v(128) causal
    varlen paged_kv dropout load_path(cp_async) stages(2)
