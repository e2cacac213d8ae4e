// fa4 forward kernel: f16, head_dim 128, causal (bottom-right aligned) with learnable attention sinks.
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE (the sink included).
fa4.attention @fa4_fwd_f16_hd128_causal_sink dtype(f16) head_dim(128) head_dim_v(128) causal sink
    load_path(cp_async) stages(1)
