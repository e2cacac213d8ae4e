//===- Pipelines.cpp - fa4 pass pipelines ---------------------------------===//
//
// Stage by stage, like upstream's gpu-lower-to-nvvm-pipeline:
//   1. fa4-tile-attention        fa4.attention -> gpu.module + block program
//                                (prologue, kv_range, kv_loop, epilogue)
//   2. fa4-schedule-kv-loop      kv_loop -> cp.async or TMA schedule
//   3. fa4-scope-attention       variants resolved, smem planned, guards -> scf
//   4. convert-fa4-to-nvvm       block program -> nvvm/llvm/vector/arith/scf
//   5. upstream to LLVM          scf -> cf; gpu -> nvvm (llvm.func kernel)
//                                with arith/vector/cf -> llvm; nvvm -> llvm
//   6. fa4-emit-ptx              LLVM IR -> O3 -> NVPTX -> PTX + metadata
//
//===----------------------------------------------------------------------===//

#include "fa4/Pipelines/Pipelines.h"
#include "fa4/Conversion/Passes.h"
#include "fa4/Dialect/FA4/Transforms/Passes.h"
#include "fa4/Target/PTX/EmitPTX.h"

#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::fa4;

void fa4::buildFA4ToLLVMPipeline(OpPassManager &pm,
                                 const FA4ToPTXOptions &options) {
  pm.addPass(createFA4TileAttentionPass({options.chip}));
  OpPassManager &gpu = pm.nest<gpu::GPUModuleOp>();
  gpu.addPass(createFA4ScheduleKVLoopPass());
  gpu.addPass(createFA4ScopeAttentionPass());
  gpu.addPass(createConvertFA4ToNVVMPass());
  gpu.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions gpuToNVVM;
  gpuToNVVM.useBarePtrCallConv = true;
  gpuToNVVM.indexBitwidth = 32;
  // convert-gpu-to-nvvm also converts every other loaded dialect that has a
  // ConvertToLLVM interface (arith, vector, cf, ...): nothing is left for
  // convert-vector-to-llvm and convert-arith-to-llvm, which cost 10-15% of
  // the MLIR time for the same output. A leftover op would fail loudly at
  // translation. NVVM ops without an intrinsic (the mbarrier waits of the
  // TMA path) still need convert-nvvm-to-llvm.
  gpu.addPass(createConvertGpuOpsToNVVMOps(gpuToNVVM));
  gpu.addPass(createConvertNVVMToLLVMPass());
  gpu.addPass(createReconcileUnrealizedCastsPass());
  // No canonicalizer: the conversions above fold each op they convert, and
  // LLVM's O3 does what is left. Every kernel compiles to byte-identical PTX
  // with and without one; it cost 4-5% of a large variant's compile time.
  gpu.addPass(createCSEPass());
}

void fa4::buildFA4ToPTXPipeline(OpPassManager &pm,
                                const FA4ToPTXOptions &options) {
  buildFA4ToLLVMPipeline(pm, options);
  pm.addPass(
      createFA4EmitPTXPass({options.chip, options.outputDir, options.dumpLLVM,
                            options.fullLLVMPipeline}));
}

void fa4::registerFA4Pipelines() {
  PassPipelineRegistration<FA4ToPTXOptions>(
      "fa4-to-llvm",
      "Lowers fa4.attention kernels to the LLVM and NVVM dialects",
      buildFA4ToLLVMPipeline);
  PassPipelineRegistration<FA4ToPTXOptions>(
      "fa4-to-ptx",
      "Lowers fa4.attention kernels to PTX and kernel metadata",
      buildFA4ToPTXPipeline);
}
