//===- FA4Attrs.cpp - fa4 tile-source kinds -------------------------------===//
//
// The tile-source kinds of fa4.kv_loop. Each kind states what its operands
// are and which load op brings one tile of its rows into shared memory:
//   #fa4.contiguous -> fa4.load_tile        (cp.async)
//   #fa4.paged      -> fa4.load_paged_tile  (cp.async, one page lookup per row)
//   #fa4.tma        -> fa4.tma_load         (TMA, completes on an mbarrier)
//
//===----------------------------------------------------------------------===//

#include "fa4/Dialect/FA4/IR/FA4Attrs.h"
#include "fa4/Dialect/FA4/IR/FA4Dialect.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::fa4;

#include "fa4/Dialect/FA4/IR/FA4Interfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "fa4/Dialect/FA4/IR/FA4OpsAttrs.cpp.inc"

void FA4Dialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "fa4/Dialect/FA4/IR/FA4OpsAttrs.cpp.inc"
      >();
}

namespace {

/// What one operand of a kind must be.
enum class OperandKind { GlobalPtr, GenericPtr, I32, I64 };

struct OperandSpec {
  const char *name;
  OperandKind kind;
};

bool matches(Type type, OperandKind kind) {
  switch (kind) {
  case OperandKind::GlobalPtr:
  case OperandKind::GenericPtr: {
    auto ptr = dyn_cast<LLVM::LLVMPointerType>(type);
    return ptr && ptr.getAddressSpace() ==
                      (kind == OperandKind::GlobalPtr ? 1u : 0u);
  }
  case OperandKind::I32:
    return type.isInteger(32);
  case OperandKind::I64:
    return type.isInteger(64);
  }
  return false;
}

const char *describe(OperandKind kind) {
  switch (kind) {
  case OperandKind::GlobalPtr:
    return "!llvm.ptr<1>";
  case OperandKind::GenericPtr:
    return "!llvm.ptr";
  case OperandKind::I32:
    return "i32";
  case OperandKind::I64:
    return "i64";
  }
  return "?";
}

/// Checks `operands` against a kind's list, naming the first mismatch.
LogicalResult verifyAgainst(function_ref<InFlightDiagnostic()> emitError,
                            StringRef kind, ArrayRef<OperandSpec> specs,
                            ValueRange operands) {
  if (operands.size() != specs.size()) {
    InFlightDiagnostic diag = emitError();
    diag << "#fa4." << kind << " takes " << specs.size() << " operands (";
    llvm::interleaveComma(specs, diag,
                          [&](const OperandSpec &s) { diag << s.name; });
    return diag << "), got " << operands.size();
  }
  for (auto [spec, value] : llvm::zip(specs, operands))
    if (!matches(value.getType(), spec.kind))
      return emitError() << "#fa4." << kind << " operand '" << spec.name
                         << "' must be " << describe(spec.kind) << ", got "
                         << value.getType();
  return success();
}

constexpr OperandSpec kContiguousOperands[] = {
    {"base", OperandKind::GlobalPtr},
    {"row_stride", OperandKind::I32},
    {"limit", OperandKind::I32}};

constexpr OperandSpec kPagedOperands[] = {
    {"base", OperandKind::GlobalPtr},      {"row_stride", OperandKind::I32},
    {"limit", OperandKind::I32},           {"table", OperandKind::GlobalPtr},
    {"page_size", OperandKind::I32},       {"page_magic", OperandKind::I32},
    {"page_shift", OperandKind::I32},      {"page_stride", OperandKind::I64},
    {"num_pages", OperandKind::I32}};

constexpr OperandSpec kGroupedOperands[] = {{"base", OperandKind::GlobalPtr},
                                            {"row_stride", OperandKind::I32},
                                            {"limit", OperandKind::I32},
                                            {"group", OperandKind::I32},
                                            {"head_stride", OperandKind::I64}};

constexpr OperandSpec kTmaOperands[] = {{"desc", OperandKind::GenericPtr},
                                        {"head", OperandKind::I32},
                                        {"batch", OperandKind::I32}};

} // namespace

//===----------------------------------------------------------------------===//
// #fa4.contiguous
//===----------------------------------------------------------------------===//

bool ContiguousSourceAttr::isTma() const { return false; }

bool ContiguousSourceAttr::isIndirect() const { return false; }

LogicalResult ContiguousSourceAttr::verifyOperands(
    function_ref<InFlightDiagnostic()> emitError, ValueRange operands) const {
  return verifyAgainst(emitError, getMnemonic(), kContiguousOperands,
                       operands);
}

void ContiguousSourceAttr::buildTileLoad(OpBuilder &b, Location loc,
                                         ValueRange operands, Value row,
                                         Value dest, Value, Value) const {
  LoadTileOp::create(b, loc, operands[0], row, operands[2], operands[1], dest);
}

//===----------------------------------------------------------------------===//
// #fa4.paged
//===----------------------------------------------------------------------===//

bool PagedSourceAttr::isTma() const { return false; }

bool PagedSourceAttr::isIndirect() const { return true; }

LogicalResult PagedSourceAttr::verifyOperands(
    function_ref<InFlightDiagnostic()> emitError, ValueRange operands) const {
  return verifyAgainst(emitError, getMnemonic(), kPagedOperands, operands);
}

void PagedSourceAttr::buildTileLoad(OpBuilder &b, Location loc,
                                    ValueRange operands, Value row, Value dest,
                                    Value, Value) const {
  LoadPagedTileOp::create(b, loc, operands[0], row, operands[2], operands[1],
                          operands[3], operands[4], operands[5], operands[6],
                          operands[7], operands[8], dest);
}

//===----------------------------------------------------------------------===//
// #fa4.grouped
//===----------------------------------------------------------------------===//

bool GroupedSourceAttr::isTma() const { return false; }

bool GroupedSourceAttr::isIndirect() const { return false; }

LogicalResult
GroupedSourceAttr::verifyOperands(function_ref<InFlightDiagnostic()> emitError,
                                  ValueRange operands) const {
  return verifyAgainst(emitError, getMnemonic(), kGroupedOperands, operands);
}

void GroupedSourceAttr::buildTileLoad(OpBuilder &b, Location loc,
                                      ValueRange operands, Value row,
                                      Value dest, Value, Value) const {
  LoadTileOp::create(b, loc, operands[0], row, operands[2], operands[1], dest,
                     operands[3], operands[4]);
}

//===----------------------------------------------------------------------===//
// #fa4.tma
//===----------------------------------------------------------------------===//

bool TmaSourceAttr::isTma() const { return true; }

bool TmaSourceAttr::isIndirect() const { return false; }

LogicalResult
TmaSourceAttr::verifyOperands(function_ref<InFlightDiagnostic()> emitError,
                              ValueRange operands) const {
  return verifyAgainst(emitError, getMnemonic(), kTmaOperands, operands);
}

void TmaSourceAttr::buildTileLoad(OpBuilder &b, Location loc,
                                  ValueRange operands, Value row, Value dest,
                                  Value barriers, Value barrierIndex) const {
  TmaLoadOp::create(b, loc, operands[0], row, operands[1], operands[2], dest,
                    barriers, barrierIndex);
}
