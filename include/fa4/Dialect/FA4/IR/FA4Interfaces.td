//===- FA4Interfaces.td - fa4 interfaces -------------------*- tablegen -*-===//
//
// The interface every tile-source attribute kind implements: how the rows
// of one matrix (Q, K or V) travel from global to shared memory.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_DIALECT_FA4_IR_FA4INTERFACES_TD
#define FA4_DIALECT_FA4_IR_FA4INTERFACES_TD

include "mlir/IR/OpBase.td"

def FA4_TileSourceAttrInterface : AttrInterface<"TileSourceAttrInterface"> {
  let cppNamespace = "::mlir::fa4";
  let description = [{
    A kind of tile source: where the rows of one matrix live and how a tile
    of them is loaded into shared memory. The kind is an attribute; the
    values it needs at run time (a base pointer, strides, a page table, a
    tensor map) are the operands that accompany it on `fa4.kv_loop`, whose
    meaning the kind defines and verifies. `fa4-schedule-kv-loop` asks the
    kind for each load, so adding a kind touches only the kind.
  }];
  let methods = [
    InterfaceMethod<
      "Whether tiles arrive by TMA and complete on an mbarrier (the "
      "warp-specialized schedule) rather than by cp.async groups.",
      "bool", "isTma">,
    InterfaceMethod<
      "Whether a row's address is read from memory first (a page table): "
      "the load then waits for that read, and the schedule issues it where "
      "the warps have independent work in flight.",
      "bool", "isIndirect">,
    InterfaceMethod<
      "Checks the operands that accompany this kind; `emitError` reports.",
      "::llvm::LogicalResult", "verifyOperands",
      (ins "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError,
           "::mlir::ValueRange":$operands)>,
    InterfaceMethod<
      "Emits the load of rows [row, row + dest rows) into `dest`. TMA kinds "
      "complete on barrier `barrierIndex` of `barriers`; cp.async kinds "
      "join the current cp.async group (both barrier values null).",
      "void", "buildTileLoad",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands, "::mlir::Value":$row,
           "::mlir::Value":$dest, "::mlir::Value":$barriers,
           "::mlir::Value":$barrierIndex)>,
  ];
}

#endif // FA4_DIALECT_FA4_IR_FA4INTERFACES_TD
