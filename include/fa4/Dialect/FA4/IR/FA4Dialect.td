//===- FA4Dialect.td - fa4 dialect definition --------------*- tablegen -*-===//
//
// The fa4 dialect states FlashAttention forward kernels (fa4.attention) and
// the block-level program they tile into (shared-memory tiles, warp-level
// accumulator fragments, online softmax, scopes and guards).
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4DIALECT_TD
#define FA4_DIALECT_FA4_IR_FA4DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def FA4_Dialect : Dialect {
  let name = "fa4";
  let cppNamespace = "::mlir::fa4";
  let summary = "FlashAttention forward kernels for NVIDIA SM120";
  let description = [{
    The fa4 dialect has two levels.

    At the definition level one `fa4.attention` op states one kernel variant:
    element type, head dims, masking, optional outputs, load path and
    pipeline depth. Its verifier rejects every combination that is invalid
    or not built yet, naming the problem.

    `fa4-tile-attention` rewrites a definition into the block-level program:
    a `gpu.func` that computes one m-block of queries per CTA by looping over
    the n-blocks of keys and values with an online softmax. That program is
    written with the remaining fa4 ops: shared-memory tiles
    (`!fa4.smem`), warp-distributed accumulators (`!fa4.acc`) and per-row
    statistics (`!fa4.rows`), plus `fa4.scope`/`fa4.variant`/`fa4.guard`,
    which the scoping pass resolves before anything lowers to NVVM.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  // Folded fa4 ops (fa4.kv_range) become arith constants.
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    /// Registers the types; defined beside their storage classes.
    void registerTypes();
    /// Registers the attributes; defined beside their storage classes.
    void registerAttributes();
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect"
  ];
}

class FA4_Op<string mnemonic, list<Trait> traits = []>
    : Op<FA4_Dialect, mnemonic, traits>;

class FA4_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<FA4_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

#endif // FA4_DIALECT_FA4_IR_FA4DIALECT_TD
