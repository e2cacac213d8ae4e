// fa4 forward kernel: f16, head_dim 64, softcap (c * tanh(S / c), c a run-time value).
// cp.async, two K/V stages (as the plain d = 64 kernel).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd64_softcap dtype(f16) head_dim(64) head_dim_v(64) softcap
    load_path(cp_async) stages(2)
