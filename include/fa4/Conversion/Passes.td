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
    - `fa4.load_tile` / `fa4.load_paged_tile` become 16-byte `cp.async.cg`
      copies into the XOR-swizzled layout, with a zero source size past the
      row limit (paged rows look their page up first); `fa4.tma_load`
      becomes CTA-only `cp.async.bulk.tensor`, the mbarrier ops their
      `mbarrier.*` forms;
    - `fa4.kv_range` and `fa4.varlen_seqlens` become the integer
      arithmetic (and cu_seqlens loads) their descriptions state;
    - `fa4.qk_mma` / `fa4.pv_mma` become `ldmatrix` (`.trans` for V) and
      `mma.sync.aligned.m16n8k16` with f32 accumulation, P converted to
      bf16/f16 in registers;
    - `fa4.online_softmax` / `fa4.finalize` become quad `shfl.sync.bfly`
      reductions and `ex2.approx.ftz.f32`;
    - the shared-memory tiles become offsets into one
      `.extern .shared .align 1024` array.

    The result holds only gpu, scf, arith, vector, llvm and nvvm ops. The
    patterns have no target-dependent choices: the target was fixed when
    the kernel was tiled and scheduled.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // FA4_CONVERSION_PASSES_TD
