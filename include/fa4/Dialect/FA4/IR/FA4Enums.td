//===- FA4Enums.td - fa4 enumerations ----------------------*- tablegen -*-===//
//
// Enumerations used by the fa4 dialect's attributes.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4ENUMS_TD
#define FA4_DIALECT_FA4_IR_FA4ENUMS_TD

include "mlir/IR/EnumAttr.td"

/// How K and V (and Q) travel from global to shared memory.
def FA4_LoadPath : I32EnumAttr<"LoadPath", "global-to-shared load path", [
    I32EnumAttrCase<"CpAsync", 0, "cp_async">,
    I32EnumAttrCase<"Tma", 1, "tma">
  ]> {
  let cppNamespace = "::mlir::fa4";
}

/// The GPU a kernel is generated for. sm_90 runs the SM120 configuration on
/// Hopper so that numerics and speed can be measured on available silicon;
/// sm_90a (not built by default) adds setmaxnreg, to exercise the
/// warp-specialized register split on Hopper too.
def FA4_Chip : I32EnumAttr<"Chip", "GPU target", [
    I32EnumAttrCase<"sm_90", 0>,
    I32EnumAttrCase<"sm_120a", 1>,
    I32EnumAttrCase<"sm_121a", 2>,
    I32EnumAttrCase<"sm_90a", 3>
  ]> {
  let cppNamespace = "::mlir::fa4";
}

/// Which keys a query row may see, as far as the key-block range is
/// concerned. Block ranges and the element mask both follow it. `local` is a
/// sliding window whose two sizes are run-time values (causal is the window
/// (unbounded, 0) with no left edge, so it keeps its own cheaper kind).
def FA4_MaskKind : I32EnumAttr<"MaskKind", "key-block mask kind", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Causal", 1, "causal">,
    I32EnumAttrCase<"Local", 2, "local">
  ]> {
  let cppNamespace = "::mlir::fa4";
}

#endif // FA4_DIALECT_FA4_IR_FA4ENUMS_TD
