// fa4 KV-cache (decode) kernel: bf16, head_dim 96, causal + alibi.
// Dense queries (batch, seqlen_q, nheads_q, 96); keys and values from a
// paged cache (num_pages, page_size, nheads_kv, 96) named by a block table,
// cache_seqlens[b] (+ appended tokens) of them. Split-KV: num_splits CTAs
// share an m-block's key blocks and the module's combine kernel merges
// their fp32 partials. 64-row tiles on 4 warps, cp.async with 2 stages.
fa4.attention @fa4_fwd_kvcache_paged_bf16_hd96_causal_alibi dtype(bf16) head_dim(96) head_dim_v(96) causal alibi paged_kv
    kv_cache split_kv load_path(cp_async) stages(2)
