// fa4 KV-cache (decode) kernel: f16, head_dim 224, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own.
// Dense queries (batch, seqlen_q, nheads_q, 224); keys and values from a
// paged cache (num_pages, page_size, nheads_kv, 224) named by a block table,
// cache_seqlens[b] (+ appended tokens) of them. Split-KV: num_splits CTAs
// share an m-block's key blocks and the module's combine kernel merges
// their fp32 partials. 64-row tiles on 4 warps, cp.async with 2 stages.
fa4.attention @fa4_fwd_kvcache_paged_f16_hd224_window_softcap_alibi dtype(f16) head_dim(224) head_dim_v(224) window softcap alibi switchable paged_kv
    kv_cache split_kv load_path(cp_async) stages(2)
