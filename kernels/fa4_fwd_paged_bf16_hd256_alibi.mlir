// fa4 paged-KV varlen forward kernel: bf16, head_dim 256, ALiBi (fp32 slopes per head, or per batch entry and head).
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with two K/V stages, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_paged_bf16_hd256_alibi dtype(bf16) head_dim(256) head_dim_v(256) alibi
    varlen paged_kv load_path(cp_async) stages(2)
