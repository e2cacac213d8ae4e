//===- Passes.td - PTX emission ----------------------------*- tablegen -*-===//
//
// Serializes lowered kernels to PTX in-process through LLVM's NVPTX backend.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_TARGET_PTX_PASSES_TD
#define FA4_TARGET_PTX_PASSES_TD

include "mlir/Pass/PassBase.td"

def FA4EmitPTXPass : Pass<"fa4-emit-ptx", "::mlir::ModuleOp"> {
  let summary = "Emits each lowered kernel module as PTX plus metadata";
  let description = [{
    Translates every `gpu.module` (already in the LLVM and NVVM dialects) to
    LLVM IR, optimizes it at O3 and runs the NVPTX backend for the chip of
    the module's `#nvvm.target`, all in-process. Fifteen LLVM passes that
    change none of fa4's kernels are left out (`full-llvm-pipeline` keeps
    them, for tools/check-llvm-pipeline.sh). Each module becomes a
    `gpu.binary` holding the PTX (`format = assembly`) and the metadata of
    each kernel in it, which the runtime launches by: entry name,
    parameters in order with their names and types, threads per block,
    dynamic shared memory, grid and workspace rules, features and tile
    configuration. With `output-dir`, the pass also writes
    `<dir>/<module>.ptx` and `<dir>/<module>.json`.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"\"",
           "Chip of a module without an #nvvm.target (sm_120a, sm_121a, "
           "sm_90); a module with one must name the same chip">,
    Option<"outputDir", "output-dir", "std::string", /*default=*/"\"\"",
           "Folder to write <module>.ptx and <module>.json to">,
    Option<"dumpLLVM", "dump-llvm", "bool", /*default=*/"false",
           "Print each module's LLVM IR after O3 to stderr">,
    Option<"fullLLVMPipeline", "full-llvm-pipeline", "bool",
           /*default=*/"false",
           "Run all of LLVM's O3 and NVPTX passes, including those fa4 "
           "skips because they change none of its kernels">
  ];
}

#endif // FA4_TARGET_PTX_PASSES_TD
