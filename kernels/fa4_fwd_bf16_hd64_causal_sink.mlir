// fa4 forward kernel: bf16, head_dim 64, causal (bottom-right aligned) with learnable attention sinks.
// cp.async, two K/V stages.
// Any GQA/MQA ratio, any lengths, optional LSE (the sink included).
fa4.attention @fa4_fwd_bf16_hd64_causal_sink dtype(bf16) head_dim(64) head_dim_v(64) causal sink
    load_path(cp_async) stages(2)
