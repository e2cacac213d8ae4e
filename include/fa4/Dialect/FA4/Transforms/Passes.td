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
    Replaces every `fa4.attention` definition with a `gpu.module` (its
    `#nvvm.target` naming `chip`) holding one kernel `gpu.func` of the same
    name. The kernel computes one m-block of queries per CTA (grid:
    m-blocks x query heads x batch) in four parts: a prologue (block
    coordinates, the sequence's lengths and bases, dense or varlen), the key
    range (`fa4.kv_range`), the key loop (`fa4.kv_loop`, the math of one key
    block in its body, the tile sources as kinds) and the epilogue (O / l
    and the LSE, stored). How the tiles arrive is left to
    `fa4-schedule-kv-loop`.

    The tile configuration comes from the target description: the op's
    `tile`/`warps` if it pins them, else FA4's SM120 choices. The kernel's
    parameters come from one table with a predicate per parameter
    (KernelABI.cpp), which also becomes the `fa4.abi`, `fa4.features`,
    `fa4.config`, `fa4.grid` and `fa4.workspace` attributes that the
    emitted metadata and the runtime read.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect"
  ];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_120a\"",
           "GPU target: sm_120a, sm_121a or sm_90 (sm_90a for development)">
  ];
}

def FA4ScheduleKVLoopPass : Pass<"fa4-schedule-kv-loop", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Turns each fa4.kv_loop into its cp.async or TMA schedule";
  let description = [{
    Replaces every `fa4.kv_loop` with the program that feeds it, chosen by
    its tile-source kinds:

    - cp.async kinds (`#fa4.contiguous`, `#fa4.paged`): every warp loads
      and computes; `stages` K/V buffers; Q and the first block loaded
      under an empty-range guard; each key block waits for its tiles and
      prefetches the next block of the visit order (with one stage: V under
      Q K^T, the next K under softmax and P V).
    - `#fa4.tma`: a producer warp group issues TMA loads of Q and of K/V
      into a ring of `stages` buffers with full / empty mbarriers; the MMA
      warps run the loop and everything after it (the epilogue), with
      `setmaxnreg` where the module's target has it.

    In both, the body is cloned into a loop over the masked blocks and one
    over the unmasked blocks, the latter without its `fa4.mask`; each
    `scf.for` is labelled (`fa4.loop = "masked"`, ...). The tiles are asked
    of the source kinds (`TileSourceAttrInterface::buildTileLoad`), so a new
    kind needs no change here.

    A loop with block lists (block-sparse, cp.async only) visits the mask
    list's blocks in a `"mask_list"` loop (masked body) and the full list's
    in a `"full_list"` loop, where an `scf.if` runs the unmasked body inside
    [full_begin, full_end) and the body with only the key limit outside it.
    Each iteration reads the list entry two positions ahead, so the prefetch
    of the next block never waits for its index.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect"
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
       against the per-block budget of the module's `#nvvm.target` and
       recorded as
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
