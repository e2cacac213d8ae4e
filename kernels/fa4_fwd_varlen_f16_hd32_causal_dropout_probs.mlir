// fa4 varlen forward kernel: f16, head_dim 32, causal (bottom-right aligned).
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async with
// one K/V stage, as the SPEC's dispatch says for varlen.
// Any GQA/MQA ratio, any lengths, optional LSE.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
// Writes FlashAttention-2's S_dmask (return_attn_probs): P as computed, negated where
// dropped, at (sequence, head, row, column) of (batch, H, max_seqlen_q, max_seqlen_k) rounded.
fa4.attention @fa4_fwd_varlen_f16_hd32_causal_dropout_probs dtype(f16) head_dim(32) head_dim_v(32) causal
    varlen dropout return_probs load_path(cp_async) stages(1)
