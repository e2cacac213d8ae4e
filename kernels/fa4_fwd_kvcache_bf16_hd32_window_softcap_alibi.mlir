// fa4 KV-cache (decode) kernel: bf16, head_dim 32, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own.
// Dense queries (batch, seqlen_q, nheads_q, 32); keys and values from a
// contiguous (batch_cache, seqlen_cache, nheads_kv, 32) cache, entry cache_batch_idx[b] from row cache_leftpad[b],
// cache_seqlens[b] (+ appended tokens) of them. Split-KV: num_splits CTAs
// share an m-block's key blocks and the module's combine kernel merges
// their fp32 partials. 64-row tiles on 4 warps, cp.async with 2 stages.
fa4.attention @fa4_fwd_kvcache_bf16_hd32_window_softcap_alibi dtype(bf16) head_dim(32) head_dim_v(32) window softcap alibi switchable
    kv_cache split_kv load_path(cp_async) stages(2)
