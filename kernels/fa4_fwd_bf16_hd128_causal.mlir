// fa4 forward kernel: bf16, head_dim 128, causal (bottom-right aligned).
// Any GQA/MQA ratio, arbitrary sequence lengths, optional LSE output.
// The build runs: fa4-opt fa4_fwd_bf16_hd128_causal.mlir --fa4-to-ptx="chip=<target>"
fa4.attention @fa4_fwd_bf16_hd128_causal dtype(bf16) head_dim(128) head_dim_v(128) causal
    load_path(cp_async) stages(1)
