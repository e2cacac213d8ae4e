// RUN: fa4-opt %s --split-input-file --fa4-emit-ptx="chip=sm_120a" --verify-diagnostics

// The runtime packs arguments by the names in fa4.abi: a name list that does
// not describe the signature one to one is an error, never PTX.
gpu.module @mismatch {
  // expected-error @+1 {{fa4.abi names 2 parameters but the kernel has 3}}
  llvm.func @mismatch(%out: !llvm.ptr<1>, %a: i32, %b: i32) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 128, 1, 1>, fa4.abi = ["out", "a"],
      fa4.features = {}, fa4.smem_bytes = 0 : i64} {
    llvm.return
  }
}

// -----

gpu.module @no_abi {
  // expected-error @+1 {{kernel lacks fa4.abi, fa4.features, fa4.smem_bytes or nvvm.reqntid}}
  llvm.func @no_abi(%out: !llvm.ptr<1>) attributes {nvvm.kernel} {
    llvm.return
  }
}

// -----

gpu.module @bad_param {
  // expected-error @+1 {{unsupported kernel parameter type 'f64'}}
  llvm.func @bad_param(%x: f64) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 128, 1, 1>, fa4.abi = ["x"],
      fa4.features = {}, fa4.smem_bytes = 0 : i64} {
    llvm.return
  }
}

// -----

// The chip option must agree with the module's target.
// expected-error @+1 {{gpu.module 'mismatch_target' targets sm_90 but fa4-emit-ptx was asked for 'sm_120a'}}
gpu.module @mismatch_target [#nvvm.target<chip = "sm_90">] {
  llvm.func @k() attributes {nvvm.kernel} {
    llvm.return
  }
}
