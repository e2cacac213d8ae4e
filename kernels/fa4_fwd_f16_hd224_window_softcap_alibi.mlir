// fa4 forward kernel: f16, head_dim 224, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own.
// cp.async, two K/V stages; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd224_window_softcap_alibi dtype(f16) head_dim(224) head_dim_v(224) window softcap alibi switchable
    load_path(cp_async) stages(2)
