// RUN: fa4-opt %s --split-input-file --fa4-emit-ptx --verify-diagnostics

// Module names become file names and PTX names: they must be PTX
// identifiers (no '/', no '.', not empty).
// expected-error @+1 {{gpu.module name '../x' is not a PTX identifier (a letter or '_', then letters, digits, '_' or '$')}}
gpu.module @"../x" [#nvvm.target<chip = "sm_120a">] {
  llvm.func @k() attributes {nvvm.kernel} {
    llvm.return
  }
}

// -----

gpu.module @dash [#nvvm.target<chip = "sm_120a">] {
  // expected-error @+1 {{function name 'a-b' is not a PTX identifier}}
  llvm.func @"a-b"() attributes {nvvm.kernel} {
    llvm.return
  }
}

// -----

// Without a chip option, a module must name its target.
// expected-error @+1 {{gpu.module 'untargeted' has no #nvvm.target and fa4-emit-ptx's chip option ('') names no known chip}}
gpu.module @untargeted {
  llvm.func @k() attributes {nvvm.kernel} {
    llvm.return
  }
}

// -----

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  // expected-error @+1 {{nvvm.reqntid must be three positive sizes}}
  llvm.func @one_dim(%out: !llvm.ptr<1>) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 32>, fa4.abi = ["out"],
      fa4.features = {}, fa4.smem_bytes = 0 : i64} {
    llvm.return
  }
}

// -----

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  // expected-error @+1 {{fa4.abi entries must be non-empty strings}}
  llvm.func @abi_int(%out: !llvm.ptr<1>) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 32, 1, 1>, fa4.abi = [1],
      fa4.features = {}, fa4.smem_bytes = 0 : i64} {
    llvm.return
  }
}

// -----

// expected-error @+1 {{gpu.module 'nokernel' holds no kernel}}
gpu.module @nokernel [#nvvm.target<chip = "sm_120a">] {
  llvm.func @helper() {
    llvm.return
  }
}
