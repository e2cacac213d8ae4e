// fa4 forward kernel: bf16, head_dim 96, causal (bottom-right aligned) with softcap.
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_bf16_hd96_causal_softcap dtype(bf16) head_dim(96) head_dim_v(96) causal softcap
    load_path(cp_async) stages(1)
