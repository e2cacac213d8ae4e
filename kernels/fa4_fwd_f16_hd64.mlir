// fa4 forward kernel: f16, head_dim 64, non-causal.
// Any GQA/MQA ratio, arbitrary sequence lengths, optional LSE output.
// The build runs: fa4-opt fa4_fwd_f16_hd64.mlir --fa4-to-ptx="chip=<target>"
fa4.attention @fa4_fwd_f16_hd64 dtype(f16) head_dim(64) head_dim_v(64)
    load_path(cp_async) stages(2)
