// fa4 forward kernel: bf16, head_dim 128, learnable attention sinks (fp32 logit per head).
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE (the sink included).
fa4.attention @fa4_fwd_bf16_hd128_sink dtype(bf16) head_dim(128) head_dim_v(128) sink
    load_path(cp_async) stages(1)
