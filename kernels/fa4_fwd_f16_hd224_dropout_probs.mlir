// fa4 forward kernel: f16, head_dim 224, non-causal.
// cp.async, two K/V stages; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
// Writes FlashAttention-2's S_dmask (return_attn_probs): P as computed, negated where dropped.
fa4.attention @fa4_fwd_f16_hd224_dropout_probs dtype(f16) head_dim(224) head_dim_v(224)
    dropout return_probs load_path(cp_async) stages(2)
