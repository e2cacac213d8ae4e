// fa4 forward kernel: bf16, head_dim 64, local (sliding) window, its sizes run-time values (-1 unbounded).
// cp.async, two K/V stages (as the plain d = 64 kernel).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd64_window dtype(bf16) head_dim(64) head_dim_v(64) window
    load_path(cp_async) stages(2)
