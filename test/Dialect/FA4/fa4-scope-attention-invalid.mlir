// RUN: fa4-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(fa4-scope-attention))' --verify-diagnostics

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @unknown_feature() kernel attributes {fa4.features = {causal = true}} {
    // expected-error @+1 {{selects on 'block_sparse', which is not a boolean feature of kernel 'unknown_feature'}}
    fa4.variant "block_sparse" {
      fa4.scope "block_sparse" {}
    }
    gpu.return
  }
}

// -----

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @over_budget() kernel attributes {fa4.features = {}} {
    fa4.scope "dense" {
      %q = fa4.smem_buffer "Q" : !fa4.smem<256x128xbf16>
      %k = fa4.smem_buffer "K" : !fa4.smem<128x128xbf16>
      // expected-error @+1 {{'V' ends at byte 131072, past the 101376 B shared-memory budget}}
      %v = fa4.smem_buffer "V" : !fa4.smem<128x128xbf16>
    }
    gpu.return
  }
}

// -----

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  gpu.func @barriers_over_budget() kernel attributes {fa4.features = {}} {
    fa4.scope "dense" {
      %q = fa4.smem_buffer "Q" : !fa4.smem<128x128xbf16>
      %k = fa4.smem_buffer "K" : !fa4.smem<256x128xbf16>
      %v = fa4.smem_buffer "V" : !fa4.smem<24x64xbf16>
      // The tiles fill the 99 KB exactly; the barriers do not fit.
      // expected-error @+1 {{'full' ends at byte 101392, past the 101376 B shared-memory budget}}
      %full = fa4.smem_barriers "full" : !fa4.mbarriers<2>
    }
    gpu.return
  }
}

// -----

// The budget is the module's target's: a module without one is an error.
// expected-error @+1 {{gpu.module 'untargeted' has no #nvvm.target naming its chip}}
gpu.module @untargeted {
  gpu.func @k() kernel attributes {fa4.features = {}} {
    fa4.scope "dense" {
      %q = fa4.smem_buffer "Q" : !fa4.smem<128x64xbf16>
    }
    gpu.return
  }
}
