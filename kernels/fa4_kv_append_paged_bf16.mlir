// fa4 KV-cache append kernel: bf16, paged (block table) cache. Writes new keys (rotated
// when rotary tables are given) and values at cache_seqlens[b] + t, and the
// rotated queries to a contiguous buffer; launched by fa4_kvcache_fwd before
// attention. Head dims and the rotary dim are run-time parameters.
fa4.kv_append @fa4_kv_append_paged_bf16 dtype(bf16) paged_kv
