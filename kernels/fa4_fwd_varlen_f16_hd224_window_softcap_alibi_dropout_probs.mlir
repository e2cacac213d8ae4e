// fa4 varlen forward kernel: f16, head_dim 224, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own,
// here with dropout (Philox 4x32-10, docs/DESIGN.md) and FlashAttention-2's
// S_dmask (return_attn_probs): P as computed, negated where dropped,
// at (sequence, head, row, column) of (batch, H, max_seqlen_q, max_seqlen_k) rounded; the key blocks visited
// from the last to the first (FA2's order), a window's left edge last.
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async (the SPEC's
// dispatch for varlen) with two K/V stages.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_varlen_f16_hd224_window_softcap_alibi_dropout_probs dtype(f16) head_dim(224) head_dim_v(224) window softcap alibi switchable
    varlen dropout return_probs load_path(cp_async) stages(2)
