// fa4 paged-KV varlen forward kernel: f16, head_dim 128, causal (bottom-right aligned) with learnable attention sinks.
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with 2 K/V stages, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE (the sink included).
fa4.attention @fa4_fwd_paged_f16_hd128_causal_sink dtype(f16) head_dim(128) head_dim_v(128) causal sink
    varlen paged_kv load_path(cp_async) stages(2)
