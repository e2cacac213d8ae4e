// fa4 forward kernel: bf16, head_dim 128, non-causal.
// Any GQA/MQA ratio, arbitrary sequence lengths, optional LSE output.
// The build runs: fa4-opt fa4_fwd_bf16_hd128_dropout_probs.mlir --fa4-to-ptx="chip=<target>"
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
// Writes FlashAttention-2's S_dmask (return_attn_probs): P as computed, negated where dropped.
fa4.attention @fa4_fwd_bf16_hd128_dropout_probs dtype(bf16) head_dim(128) head_dim_v(128)
    dropout return_probs load_path(cp_async) stages(1)
