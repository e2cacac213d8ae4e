// fa4 forward kernel: bf16, head_dim 128, local (sliding) window, its sizes run-time values (-1 unbounded).
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd128_window dtype(bf16) head_dim(128) head_dim_v(128) window
    load_path(cp_async) stages(1)
