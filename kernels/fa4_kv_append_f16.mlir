// fa4 KV-cache append kernel: f16, contiguous cache. Writes new keys (rotated
// when rotary tables are given) and values at cache_seqlens[b] + t, and the
// rotated queries to a contiguous buffer; launched by fa4_kvcache_fwd before
// attention. Head dims and the rotary dim are run-time parameters.
fa4.kv_append @fa4_kv_append_f16 dtype(f16)
