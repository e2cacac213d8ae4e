// fa4 forward kernel: f16, head_dim 128, causal (bottom-right aligned) with ALiBi.
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd128_causal_alibi dtype(f16) head_dim(128) head_dim_v(128) causal alibi
    load_path(cp_async) stages(1)
