//===- Passes.td - fa4 transformation passes ---------------*- tablegen -*-===//
//
// Passes that turn fa4.attention definitions into a scoped block-level
// program.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_TRANSFORMS_PASSES_TD
#define FA4_DIALECT_FA4_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FA4TileAttentionPass : Pass<"fa4-tile-attention", "ModuleOp"> {
  let summary = "Tiles each fa4.attention into a block-level gpu.func";
  let description = [{
    Replaces every `fa4.attention` definition with a `gpu.module` holding one
    kernel `gpu.func` of the same name. The kernel computes one m-block of
    queries per CTA (grid: m-blocks x query heads x batch): it loads its Q
    tile once, then walks the key/value n-blocks from the last to the first
    with an online softmax, the blocks that need a mask (the sequence edge,
    the causal diagonal) in a first loop and the rest in a second, and
    finally normalizes O and writes O and the LSE.

    The tile configuration comes from the target description (`chip`): the
    op's `tile`/`warps` if it pins them, else FA4's SM120 choices. Every
    static feature of the definition is resolved here, in C++, before any
    dynamic control flow exists. The kernel's parameter list comes from one
    table, which also becomes the `fa4.abi` attribute that the emitted
    metadata and the runtime read.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect"
  ];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_120a\"",
           "GPU target: sm_120a, sm_121a or sm_90">
  ];
}

def FA4ScopeAttentionPass : Pass<"fa4-scope-attention", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Resolves variants, plans shared memory, lowers guards";
  let description = [{
    Makes the block-level program SSA-safe before it is lowered, in this
    order:

    1. every `fa4.variant` (a static choice) is resolved against the
       kernel's `fa4.features`, before any dynamic control flow is built;
    2. every `fa4.smem_buffer` gets a byte range of its own: buffers of
       different scopes never overlap, so two variant paths compiled into
       one kernel cannot share a staging buffer; the total is checked
       against the target's per-block budget and recorded as
       `fa4.smem_bytes` on the kernel;
    3. every `fa4.guard` becomes an `scf.if` whose `else` yields the
       guard's defined values (O = 0, max = -inf, sum = 0 for the
       empty-range guard), so a value used after it is defined on both
       paths.

    The `fa4.scope` regions stay, so that their ownership rules hold until
    `convert-fa4-to-nvvm` inlines them.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

#endif // FA4_DIALECT_FA4_TRANSFORMS_PASSES_TD
