// fa4 forward kernel: bf16, head_dim 96, ALiBi (fp32 slopes per head, or per batch entry and head).
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd96_alibi dtype(bf16) head_dim(96) head_dim_v(96) alibi
    load_path(cp_async) stages(1)
