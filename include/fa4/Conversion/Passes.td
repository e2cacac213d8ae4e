//===- Passes.td - fa4 conversion passes -------------------*- tablegen -*-===//
//
// Conversions out of the fa4 dialect.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_CONVERSION_PASSES_TD
#define FA4_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// FA4ToNVVM
//===----------------------------------------------------------------------===//

def ConvertFA4ToNVVMPass : Pass<"convert-fa4-to-nvvm", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lowers the fa4 block-level program to NVVM and LLVM ops";
  let description = [{
    Lowers the scoped block-level program of each kernel:

    - `!fa4.acc` / `!fa4.rows` become one `vector<N x f32>` per thread
      (the mma.sync C-fragment layout; scf loops carry them through the
      structural type conversion);
    - `fa4.load_tile` becomes 16-byte `cp.async.cg` copies into the
      XOR-swizzled layout, with a zero source size past the row limit;
    - `fa4.qk_mma` / `fa4.pv_mma` become `ldmatrix` (`.trans` for V) and
      `mma.sync.aligned.m16n8k16` with f32 accumulation, P converted to
      bf16/f16 in registers;
    - `fa4.online_softmax` / `fa4.finalize` become quad `shfl.sync.bfly`
      reductions and `ex2.approx.ftz.f32`;
    - the shared-memory tiles become offsets into one
      `.extern .shared .align 1024` array.

    The result holds only gpu, scf, arith, vector, llvm and nvvm ops.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_120a\"",
           "GPU target: sm_120a, sm_121a or sm_90">
  ];
}

#endif // FA4_CONVERSION_PASSES_TD
