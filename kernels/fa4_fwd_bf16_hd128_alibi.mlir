// fa4 forward kernel: bf16, head_dim 128, ALiBi (fp32 slopes per head, or per batch entry and head).
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd128_alibi dtype(bf16) head_dim(128) head_dim_v(128) alibi
    load_path(cp_async) stages(1)
