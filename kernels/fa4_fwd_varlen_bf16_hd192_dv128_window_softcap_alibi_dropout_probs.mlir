// fa4 varlen forward kernel: bf16, head_dim 192, head_dim_v 128, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own,
// here with dropout (Philox 4x32-10, docs/DESIGN.md) and FlashAttention-2's
// S_dmask (return_attn_probs): P as computed, negated where dropped,
// at (sequence, head, row, column) of (batch, H, max_seqlen_q, max_seqlen_k) rounded; the key blocks visited
// from the last to the first (FA2's order), a window's left edge last.
// Sequences packed by cu_seqlens_q/k (optional seqused_k); cp.async with
// one K/V stage, as the SPEC's dispatch says for varlen.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_varlen_bf16_hd192_dv128_window_softcap_alibi_dropout_probs dtype(bf16) head_dim(192) head_dim_v(128) window softcap alibi switchable
    varlen dropout return_probs load_path(cp_async) stages(1)
