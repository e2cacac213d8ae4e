// fa4 forward kernel: f16, head_dim 64, causal (bottom-right aligned).
// Any GQA/MQA ratio, arbitrary sequence lengths, optional LSE output.
// The build runs: fa4-opt fa4_fwd_f16_hd64_causal_dropout_probs.mlir --fa4-to-ptx="chip=<target>"
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
// Writes FlashAttention-2's S_dmask (return_attn_probs): P as computed, negated where dropped.
fa4.attention @fa4_fwd_f16_hd64_causal_dropout_probs dtype(f16) head_dim(64) head_dim_v(64) causal
    dropout return_probs load_path(cp_async) stages(2)
