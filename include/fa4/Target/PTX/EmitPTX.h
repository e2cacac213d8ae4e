//===- EmitPTX.h - in-process PTX emission ----------------------*- C++ -*-===//
//
// Turns a lowered gpu.module into PTX through LLVM's NVPTX backend, and
// describes its kernels for the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_TARGET_PTX_EMITPTX_H
#define FA4_TARGET_PTX_EMITPTX_H

#include "fa4/Dialect/FA4/IR/FA4Target.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/JSON.h"

#include <string>

namespace mlir {
namespace fa4 {

#define GEN_PASS_DECL
#include "fa4/Target/PTX/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "fa4/Target/PTX/Passes.h.inc"

/// Translates `module` (LLVM + NVVM dialects only) to LLVM IR, optimizes it
/// at O3 and emits PTX for `target`; with `dumpLLVM`, prints the optimized
/// LLVM IR to stderr. fa4 leaves out the LLVM passes that change none of its
/// kernels; `fullPipeline` runs them all (to check that they change nothing).
FailureOr<std::string> translateToPTX(gpu::GPUModuleOp module,
                                      const TargetInfo &target,
                                      bool dumpLLVM = false,
                                      bool fullPipeline = false);

/// Describes the kernels of `module` for the runtime: per kernel its entry
/// name, parameters (name and PTX type, in order), threads, dynamic shared
/// memory, grid and workspace rules, features and configuration. Fails,
/// naming the problem, if anything the runtime relies on is missing or does
/// not match the lowered signature.
FailureOr<llvm::json::Object> buildModuleMetadata(gpu::GPUModuleOp module,
                                                  const TargetInfo &target);

} // namespace fa4
} // namespace mlir

#endif // FA4_TARGET_PTX_EMITPTX_H
