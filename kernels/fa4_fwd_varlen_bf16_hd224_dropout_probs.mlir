// fa4 varlen forward kernel: bf16, head_dim 224, non-causal.
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async (the SPEC's
// dispatch for varlen) with two K/V stages.
// Any GQA/MQA ratio, any lengths, optional LSE.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
// Writes FlashAttention-2's S_dmask (return_attn_probs): P as computed, negated where
// dropped, at (sequence, head, row, column) of (batch, H, max_seqlen_q, max_seqlen_k) rounded.
fa4.attention @fa4_fwd_varlen_bf16_hd224_dropout_probs dtype(bf16) head_dim(224) head_dim_v(224)
    varlen dropout return_probs load_path(cp_async) stages(2)
