// fa4 paged-KV varlen forward kernel: f16, head_dim 192, ALiBi (fp32 slopes per head, or per batch entry and head).
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with one K/V stage, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_paged_f16_hd192_alibi dtype(f16) head_dim(192) head_dim_v(192) alibi
    varlen paged_kv load_path(cp_async) stages(1)
