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
    LLVM IR, optimizes it at O3 and runs the NVPTX backend for `chip`, all
    in-process. Each module becomes a `gpu.binary` holding the PTX
    (`format = assembly`) and the kernel metadata the runtime packs
    arguments from: entry name, parameters in order with their names and
    types, threads per block, dynamic shared memory and the kernel's
    features. With `output-dir`, the pass also writes
    `<dir>/<kernel>.ptx` and `<dir>/<kernel>.json`.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_120a\"",
           "GPU target: sm_120a, sm_121a or sm_90">,
    Option<"outputDir", "output-dir", "std::string", /*default=*/"\"\"",
           "Folder to write <kernel>.ptx and <kernel>.json to">
  ];
}

#endif // FA4_TARGET_PTX_PASSES_TD
