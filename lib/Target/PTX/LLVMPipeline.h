//===- LLVMPipeline.h - fa4's LLVM passes for NVPTX -------------*- C++ -*-===//
//
// The LLVM side of fa4-emit-ptx: O3 (less the passes that find nothing to do
// in fa4's kernels), fa4's own IR fixes, then NVPTX code generation.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_TARGET_PTX_LLVMPIPELINE_H
#define FA4_LIB_TARGET_PTX_LLVMPIPELINE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"

#include <optional>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir {
namespace fa4 {

/// Optimizes `module` (its data layout and triple set for `machine`) and
/// emits its PTX: O3 and code generation without the passes that change none
/// of fa4's kernels (all of them with `fullPipeline`), the accumulators of
/// `rowGroupKernels` scalarized, shared-memory address offsets sunk into their
/// accesses, then NVPTX code generation. With `dumpLLVM`, prints the IR code
/// generation starts from to stderr. std::nullopt if the target cannot emit
/// assembly.
std::optional<std::string>
runLLVMPipeline(llvm::Module &module, llvm::TargetMachine &machine,
                const llvm::StringSet<> &rowGroupKernels, bool fullPipeline,
                bool dumpLLVM);

} // namespace fa4
} // namespace mlir

#endif // FA4_LIB_TARGET_PTX_LLVMPIPELINE_H
