// fa4 varlen forward kernel: f16, head_dim 96.
// Sequences packed along one token dimension (cu_seqlens_q/k, optional
// seqused_k); any GQA/MQA ratio, sequences of any length (0 included),
// optional LSE (heads, total_q). cp.async with one K/V stage, as the SPEC's
// dispatch says for varlen without paging.
// Dropout (Philox 4x32-10, docs/DESIGN.md): p, seed and offset at run time.
// Writes FlashAttention-2's S_dmask (return_attn_probs): P as computed, negated where
// dropped, at (sequence, head, row, column) of (batch, H, max_seqlen_q, max_seqlen_k) rounded.
fa4.attention @fa4_fwd_varlen_f16_hd96_dropout_probs dtype(f16) head_dim(96) head_dim_v(96)
    varlen dropout return_probs load_path(cp_async) stages(1)
