// fa4 varlen forward kernel: f16, head_dim 224, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own.
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async (the SPEC's
// dispatch for varlen) with two K/V stages.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_varlen_f16_hd224_window_softcap_alibi dtype(f16) head_dim(224) head_dim_v(224) window softcap alibi switchable
    varlen load_path(cp_async) stages(2)
