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
  // expected-error @+1 {{symbol name 'a-b' is not a PTX identifier}}
  llvm.func @"a-b"() attributes {nvvm.kernel} {
    llvm.return
  }
}

// -----

// Every symbol becomes a PTX name, globals too.
gpu.module @global [#nvvm.target<chip = "sm_120a">] {
  // expected-error @+1 {{symbol name 'x.y' is not a PTX identifier}}
  llvm.mlir.global internal @"x.y"(0 : i32) : i32
  llvm.func @k() attributes {nvvm.kernel} {
    llvm.return
  }
}

// -----

// A type LLVM IR cannot express never reaches translation (MLIR 22's
// verifier accepts this GEP, and translation would crash on it).
gpu.module @gep [#nvvm.target<chip = "sm_120a">] {
  llvm.func @k(%p: !llvm.ptr<1>, %i: i64) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 32, 1, 1>, fa4.abi = ["p", "i"],
      fa4.features = {}, fa4.smem_bytes = 0 : i64} {
    // expected-error @+1 {{'llvm.getelementptr' op uses type 'index', which LLVM IR cannot express}}
    %0 = llvm.getelementptr %p[%i] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, index
    llvm.return
  }
}

// -----

gpu.module @m [#nvvm.target<chip = "sm_120a">] {
  // expected-error @+1 {{fa4.features entry 'wide' is not a bool, 64-bit integer, string or type}}
  llvm.func @wide_feature(%out: !llvm.ptr<1>) attributes {
      nvvm.kernel, nvvm.reqntid = array<i32: 32, 1, 1>, fa4.abi = ["out"],
      fa4.features = {wide = 36893488147419103232 : i128}, fa4.smem_bytes = 0 : i64} {
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
