// fa4 forward kernel: bf16, head_dim 64, causal (bottom-right aligned) with softcap.
// cp.async, two K/V stages (as the plain d = 64 kernel).
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd64_causal_softcap dtype(bf16) head_dim(64) head_dim_v(64) causal softcap
    load_path(cp_async) stages(2)
