// fa4 paged-KV varlen forward kernel: bf16, head_dim 224, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own.
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with two K/V stages, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_paged_bf16_hd224_window_softcap_alibi dtype(bf16) head_dim(224) head_dim_v(224) window softcap alibi switchable
    varlen paged_kv load_path(cp_async) stages(2)
