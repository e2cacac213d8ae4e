// fa4 forward kernel: bf16, head_dim 160, causal (bottom-right aligned).
// cp.async, one K/V stage; the tile configuration is chosen by
// fa4-tile-attention (FA4Target.cpp, D > 128 in chooseWideHeadConfig).
// Any GQA/MQA ratio, any lengths, optional LSE.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
// Writes FlashAttention-2's S_dmask (return_attn_probs): P as computed, negated where dropped.
fa4.attention @fa4_fwd_bf16_hd160_causal_dropout_probs dtype(bf16) head_dim(160) head_dim_v(160) causal
    dropout return_probs load_path(cp_async) stages(1)
