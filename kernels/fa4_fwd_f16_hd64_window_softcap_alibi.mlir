// fa4 forward kernel: f16, head_dim 64, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own.
// cp.async, two K/V stages (as the plain d = 64 kernel).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd64_window_softcap_alibi dtype(f16) head_dim(64) head_dim_v(64) window softcap alibi switchable
    load_path(cp_async) stages(2)
