// fa4 forward kernel: bf16, head_dim 96, non-causal.
// Any GQA/MQA ratio, arbitrary sequence lengths, optional LSE output.
// The build runs: fa4-opt fa4_fwd_bf16_hd96.mlir --fa4-to-ptx="chip=<target>"
fa4.attention @fa4_fwd_bf16_hd96 dtype(bf16) head_dim(96) head_dim_v(96)
    load_path(cp_async) stages(1)
