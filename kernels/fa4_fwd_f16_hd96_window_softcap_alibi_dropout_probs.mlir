// fa4 forward kernel: f16, head_dim 96, any combination of a window, softcap and ALiBi.
// switchable: window (-1, -1), softcap 0 and null alibi_slopes each switch
// one off (causal is the window (-1, 0)); the runtime's kernel for
// combinations without one of their own,
// here with dropout (Philox 4x32-10, docs/DESIGN.md) and FlashAttention-2's
// S_dmask (return_attn_probs): P as computed, negated where dropped,
// at (batch, head, row, column) of (B, H, Sq, Sk) rounded up to 128; the key blocks visited
// from the last to the first (FA2's order), a window's left edge last.
// cp.async, one K/V stage.
// Any GQA/MQA ratio, any lengths, optional LSE.
fa4.attention @fa4_fwd_f16_hd96_window_softcap_alibi_dropout_probs dtype(f16) head_dim(96) head_dim_v(96) window softcap alibi switchable
    dropout return_probs load_path(cp_async) stages(1)
