// fa4 forward kernel: bf16, head_dim 96, non-causal.
// Any GQA/MQA ratio, arbitrary sequence lengths, optional LSE output.
// The build runs: fa4-opt fa4_fwd_bf16_hd96_dropout_probs.mlir --fa4-to-ptx="chip=<target>"
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
// Writes FlashAttention-2's S_dmask (return_attn_probs): P as computed, negated where dropped.
// The plain kernel's 128-key tile with Q re-read from shared memory: with Q's
// fragments in registers the S_dmask stores spilled 80-88 bytes.
fa4.attention @fa4_fwd_bf16_hd96_dropout_probs dtype(bf16) head_dim(96) head_dim_v(96)
    dropout return_probs load_path(cp_async) stages(1)
    tile(128, 128) warps(8) q_in_registers(false)
