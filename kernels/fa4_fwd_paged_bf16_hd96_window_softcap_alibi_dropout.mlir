// fa4 paged-KV varlen forward kernel: bf16, head_dim 96, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own,
// here with dropout (Philox 4x32-10, docs/DESIGN.md).
// Keys and values in pages of any multiple of 16 rows named by a block
// table; cp.async with 2 K/V stages, as the SPEC's dispatch says for paged KV.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_paged_bf16_hd96_window_softcap_alibi_dropout dtype(bf16) head_dim(96) head_dim_v(96) window softcap alibi switchable
    varlen paged_kv dropout load_path(cp_async) stages(2)
