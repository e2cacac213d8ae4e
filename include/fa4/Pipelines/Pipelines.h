//===- Pipelines.h - fa4 pass pipelines -------------------------*- C++ -*-===//
//
// The named pipeline from fa4.attention to PTX.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_PIPELINES_PIPELINES_H
#define FA4_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir {
class OpPassManager;

namespace fa4 {

/// Options of the fa4-to-ptx pipeline.
struct FA4ToPTXOptions : public PassPipelineOptions<FA4ToPTXOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("GPU target: sm_120a, sm_121a or sm_90"),
      llvm::cl::init("sm_120a")};
  PassOptions::Option<std::string> outputDir{
      *this, "output-dir",
      llvm::cl::desc("Folder to write <module>.ptx and <module>.json to"),
      llvm::cl::init("")};
  PassOptions::Option<bool> dumpLLVM{
      *this, "dump-llvm",
      llvm::cl::desc("Print each module's LLVM IR after O3 to stderr"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> fullLLVMPipeline{
      *this, "full-llvm-pipeline",
      llvm::cl::desc("Run all of LLVM's O3 and NVPTX passes, including those "
                     "fa4 skips because they change none of its kernels"),
      llvm::cl::init(false)};
};

/// fa4.attention -> block program -> scheduled -> scoped -> NVVM/LLVM.
void buildFA4ToLLVMPipeline(OpPassManager &pm, const FA4ToPTXOptions &options);

/// The above, then PTX and metadata through fa4-emit-ptx.
void buildFA4ToPTXPipeline(OpPassManager &pm, const FA4ToPTXOptions &options);

/// Registers `fa4-to-llvm` and `fa4-to-ptx`.
void registerFA4Pipelines();

} // namespace fa4
} // namespace mlir

#endif // FA4_PIPELINES_PIPELINES_H
