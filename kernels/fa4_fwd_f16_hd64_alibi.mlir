// fa4 forward kernel: f16, head_dim 64, ALiBi (fp32 slopes per head, or per batch entry and head).
// cp.async, two K/V stages (as the plain d = 64 kernel).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd64_alibi dtype(f16) head_dim(64) head_dim_v(64) alibi
    load_path(cp_async) stages(2)
