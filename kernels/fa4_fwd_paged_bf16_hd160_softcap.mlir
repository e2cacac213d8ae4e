// fa4 paged-KV varlen forward kernel: bf16, head_dim 160, softcap (c * tanh(S / c), c a run-time value).
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with one K/V stage, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_paged_bf16_hd160_softcap dtype(bf16) head_dim(160) head_dim_v(160) softcap
    varlen paged_kv load_path(cp_async) stages(1)
