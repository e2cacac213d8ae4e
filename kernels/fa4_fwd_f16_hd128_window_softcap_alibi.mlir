// fa4 forward kernel: f16, head_dim 128, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own.
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd128_window_softcap_alibi dtype(f16) head_dim(128) head_dim_v(128) window softcap alibi switchable
    load_path(cp_async) stages(1)
