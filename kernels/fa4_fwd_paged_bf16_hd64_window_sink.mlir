// fa4 paged-KV varlen forward kernel: bf16, head_dim 64, local (sliding) window with learnable attention sinks.
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with 2 K/V stages, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE (the sink included).
fa4.attention @fa4_fwd_paged_bf16_hd64_window_sink dtype(bf16) head_dim(64) head_dim_v(64) window sink
    varlen paged_kv load_path(cp_async) stages(2)
