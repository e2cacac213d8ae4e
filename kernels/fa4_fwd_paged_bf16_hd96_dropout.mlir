// fa4 paged-KV varlen forward kernel: bf16, head_dim 96.
// Queries packed by cu_seqlens_q; keys and values in pages of any multiple of
// 16 rows named by a block table (batch, max_pages), the key count of each
// sequence from cu_seqlens_k or seqused_k. cp.async with 2 K/V stages, as the
// SPEC's dispatch says for paged KV.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
fa4.attention @fa4_fwd_paged_bf16_hd96_dropout dtype(bf16) head_dim(96) head_dim_v(96)
    varlen paged_kv dropout load_path(cp_async) stages(2)
