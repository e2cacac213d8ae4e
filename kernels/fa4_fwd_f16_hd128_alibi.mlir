// fa4 forward kernel: f16, head_dim 128, ALiBi (fp32 slopes per head, or per batch entry and head).
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd128_alibi dtype(f16) head_dim(128) head_dim_v(128) alibi
    load_path(cp_async) stages(1)
