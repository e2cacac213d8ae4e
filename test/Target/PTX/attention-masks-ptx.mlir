// The PTX of the window, softcap and ALiBi kernels: their run-time
// parameters, the softcap's one tanh.approx per score, ALiBi's one abs.f32
// per score and its slope load, for SM120 and the sm_90 validation build.
//
// RUN: rm -rf %t && fa4-opt %s --fa4-to-ptx="chip=sm_120a output-dir=%t/sm_120a" -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm_120a/k_window.ptx --check-prefix=WINDOW --implicit-check-not=.local
// RUN: FileCheck %s --input-file=%t/sm_120a/k_softcap.ptx --check-prefix=SOFTCAP --implicit-check-not=.local
// RUN: FileCheck %s --input-file=%t/sm_120a/k_window.json --check-prefix=META-WINDOW
// RUN: FileCheck %s --input-file=%t/sm_120a/k_softcap.json --check-prefix=META-SOFTCAP
// RUN: FileCheck %s --input-file=%t/sm_120a/k_alibi.ptx --check-prefix=ALIBI --implicit-check-not=.local
// RUN: fa4-opt %s --fa4-to-ptx="chip=sm_90 output-dir=%t/sm_90" -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm_90/k_softcap.ptx --check-prefix=SOFTCAP --implicit-check-not=.local

// The window sizes are the last two parameters (after softmax_scale).
// WINDOW: .entry k_window(
// WINDOW: .param .f32 k_window_param_22,
// WINDOW-NEXT: .param .u32 k_window_param_23,
// WINDOW-NEXT: .param .u32 k_window_param_24
// WINDOW-NEXT: )
// Sizes clamped to the sequence with unsigned min (-1 is unbounded).
// WINDOW: min.u32
// WINDOW: min.u32
// No tanh: the window kernel has no softcap.
// WINDOW-NOT: tanh.approx.f32
// META-WINDOW: "softcap": false,
// META-WINDOW: "window": true
// META-WINDOW: "name": "window_left",
// META-WINDOW-NEXT: "type": "i32"
// META-WINDOW: "name": "window_right",
// META-WINDOW-NEXT: "type": "i32"
fa4.attention @k_window dtype(bf16) head_dim(64) head_dim_v(64) window
    load_path(cp_async) stages(1)

// The cap is the last parameter; scores pass through tanh.approx.f32, 64
// per thread per key block of 128 x 64 (four warps of 32 rows), in the
// masked and the unmasked loop.
// SOFTCAP: .entry k_softcap(
// SOFTCAP: .param .f32 k_softcap_param_23
// SOFTCAP-NEXT: )
// SOFTCAP: div.rn.f32
// SOFTCAP-COUNT-128: tanh.approx.f32
// SOFTCAP-NOT: tanh.approx.f32
// META-SOFTCAP: "causal": true,
// META-SOFTCAP: "softcap": true,
// META-SOFTCAP: "name": "softcap",
// META-SOFTCAP-NEXT: "type": "f32"
fa4.attention @k_softcap dtype(f16) head_dim(64) head_dim_v(64) causal softcap
    load_path(cp_async) stages(1)

// The slopes pointer and the batch stride are the last parameters; the CTA
// loads its slope once; each score takes an abs.f32 and an FMA, in the
// masked and the unmasked loop. The kernel states its register cap.
// ALIBI: .entry k_alibi(
// ALIBI: .param .u64 .ptr .global .align 1 k_alibi_param_23,
// ALIBI-NEXT: .param .u32 k_alibi_param_24
// ALIBI-NEXT: )
// ALIBI: .maxnreg 255
// ALIBI: ld.global{{(.nc)?}}.b32
// ALIBI-COUNT-128: abs.f32
// ALIBI-NOT: abs.f32
fa4.attention @k_alibi dtype(bf16) head_dim(64) head_dim_v(64) causal alibi
    load_path(cp_async) stages(1)
