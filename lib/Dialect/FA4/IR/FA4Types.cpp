//===- FA4Types.cpp - fa4 types -------------------------------------------===//
//
// Parsing, printing and verification of the fa4 types. Every size a type
// admits fits the largest target, so planning and lowering cannot overflow.
//
//===----------------------------------------------------------------------===//

#include "fa4/Dialect/FA4/IR/FA4Types.h"
#include "fa4/Dialect/FA4/IR/FA4Dialect.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::fa4;

#define GET_TYPEDEF_CLASSES
#include "fa4/Dialect/FA4/IR/FA4OpsTypes.cpp.inc"

void FA4Dialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "fa4/Dialect/FA4/IR/FA4OpsTypes.cpp.inc"
      >();
}

/// Parses `<R x C x elt`, leaving the closing `>` (or more) to the caller.
static ParseResult parseShape2D(AsmParser &parser, int64_t &rows,
                                int64_t &cols, Type &elementType) {
  SmallVector<int64_t, 2> shape;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType))
    return failure();
  if (shape.size() != 2)
    return parser.emitError(parser.getCurrentLocation(),
                            "expected a rows x cols shape");
  rows = shape[0];
  cols = shape[1];
  return success();
}

/// Parses `, warps = N`.
static ParseResult parseWarps(AsmParser &parser, int64_t &warps) {
  return failure(parser.parseComma() || parser.parseKeyword("warps") ||
                 parser.parseEqual() || parser.parseInteger(warps));
}

/// Parses `<R x C x elt, warps = N>`, the syntax of the register tiles.
template <typename TileType>
static Type parseWarpTile(AsmParser &parser) {
  int64_t rows = 0, cols = 0, warps = 0;
  Type elementType;
  if (parseShape2D(parser, rows, cols, elementType) ||
      parseWarps(parser, warps) || parser.parseGreater())
    return {};
  return parser.getChecked<TileType>(parser.getContext(), rows, cols,
                                     elementType, warps);
}

static void printWarpTile(AsmPrinter &printer, int64_t rows, int64_t cols,
                          Type elementType, int64_t warps) {
  printer << "<" << rows << "x" << cols << "x" << elementType
          << ", warps = " << warps << ">";
}

/// Checks the layout every warp-distributed type shares: `warps` warps of
/// 16-row mma.sync tiles. `what` names the type's rows in the diagnostic.
/// The warps are capped by the largest block of any target and the rows by
/// what 255 registers per thread can hold, so `16 * warps` and the products
/// of the register-tile checks below cannot overflow.
static LogicalResult
verifyWarpRows(function_ref<InFlightDiagnostic()> emitError, StringRef what,
               int64_t rows, int64_t warps) {
  const TargetLimits &limits = getLimitsOfAnyTarget();
  if (warps <= 0 || warps > limits.maxWarps)
    return emitError() << "warps (" << warps << ") must be in [1, "
                       << limits.maxWarps << "] (a block has at most "
                       << limits.maxWarps * 32 << " threads)";
  if (rows <= 0 || rows % (16 * warps) != 0)
    return emitError() << what << " rows (" << rows
                       << ") must be a multiple of 16 x warps (" << 16 * warps
                       << ")";
  // Each warp holds rows / warps rows, 8 per register of a row vector.
  if (rows / warps > 8 * limits.maxRegistersPerThread)
    return emitError() << what << " rows (" << rows << ") over " << warps
                       << " warps do not fit the "
                       << limits.maxRegistersPerThread
                       << " registers of a thread";
  return success();
}

/// Checks that a warp-distributed tile of rows x cols elements, `perRegister`
/// to a 32-bit register, fits the registers of a thread: rows x cols /
/// (32 x warps x perRegister) <= 255. Call after verifyWarpRows.
static LogicalResult
verifyTileRegisters(function_ref<InFlightDiagnostic()> emitError,
                    StringRef what, int64_t rows, int64_t cols, int64_t warps,
                    int64_t perRegister) {
  const TargetLimits &limits = getLimitsOfAnyTarget();
  // rows / warps <= 8 * 255 after verifyWarpRows; bound cols before the
  // product so that it cannot overflow.
  int64_t maxCols = 32 * perRegister * limits.maxRegistersPerThread;
  int64_t registers = cols > maxCols ? limits.maxRegistersPerThread + 1
                                     : rows / warps * cols / (32 * perRegister);
  if (registers > limits.maxRegistersPerThread)
    return emitError() << "a " << rows << "x" << cols << " " << what << " over "
                       << warps << " warps needs more than the "
                       << limits.maxRegistersPerThread
                       << " registers of a thread";
  return success();
}

//===----------------------------------------------------------------------===//
// SmemTileType
//===----------------------------------------------------------------------===//

Type SmemTileType::parse(AsmParser &parser) {
  int64_t rows = 0, cols = 0;
  Type elementType;
  if (parseShape2D(parser, rows, cols, elementType) || parser.parseGreater())
    return {};
  return parser.getChecked<SmemTileType>(parser.getContext(), rows, cols,
                                         elementType);
}

void SmemTileType::print(AsmPrinter &printer) const {
  printer << "<" << getRows() << "x" << getCols() << "x" << getElementType()
          << ">";
}

LogicalResult
SmemTileType::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t rows, int64_t cols, Type elementType) {
  if (!elementType.isBF16() && !elementType.isF16())
    return emitError() << "shared-memory tiles hold bf16 or f16, got "
                       << elementType;
  if (rows <= 0 || rows % 8 != 0)
    return emitError() << "tile rows (" << rows
                       << ") must be a positive multiple of 8";
  if (cols <= 0 || cols % 32 != 0)
    return emitError() << "tile cols (" << cols
                       << ") must be a positive multiple of 32 (64-byte "
                          "swizzle chunks)";
  // Bound each dimension by the budget first, so that the product of the
  // two (at most ~2^34) cannot overflow.
  int64_t budget = getLimitsOfAnyTarget().maxSmemPerBlock;
  int64_t elementBytes = elementType.getIntOrFloatBitWidth() / 8;
  if (rows > budget || cols > budget || rows * cols * elementBytes > budget)
    return emitError() << "a " << rows << "x" << cols << " tile of "
                       << elementType << " is larger than the " << budget
                       << " B of shared memory a block can have";
  return success();
}

int64_t SmemTileType::getChunkCols() const {
  return getCols() % 64 == 0 ? 64 : 32;
}

int64_t SmemTileType::getSizeInBytes() const {
  return getRows() * getCols() * getElementType().getIntOrFloatBitWidth() / 8;
}

//===----------------------------------------------------------------------===//
// AccTileType
//===----------------------------------------------------------------------===//

Type AccTileType::parse(AsmParser &parser) {
  return parseWarpTile<AccTileType>(parser);
}

void AccTileType::print(AsmPrinter &printer) const {
  printWarpTile(printer, getRows(), getCols(), getElementType(), getWarps());
}

LogicalResult AccTileType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t rows, int64_t cols, Type elementType,
                                  int64_t warps) {
  if (!elementType.isF32())
    return emitError() << "accumulator tiles are f32, got " << elementType;
  if (failed(verifyWarpRows(emitError, "accumulator", rows, warps)))
    return failure();
  if (cols <= 0 || cols % 16 != 0)
    return emitError() << "accumulator cols (" << cols
                       << ") must be a positive multiple of 16";
  return verifyTileRegisters(emitError, "accumulator", rows, cols, warps,
                             /*perRegister=*/1);
}

//===----------------------------------------------------------------------===//
// AFragType
//===----------------------------------------------------------------------===//

Type AFragType::parse(AsmParser &parser) {
  return parseWarpTile<AFragType>(parser);
}

void AFragType::print(AsmPrinter &printer) const {
  printWarpTile(printer, getRows(), getCols(), getElementType(), getWarps());
}

LogicalResult AFragType::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t rows, int64_t cols, Type elementType,
                                int64_t warps) {
  if (!elementType.isBF16() && !elementType.isF16())
    return emitError() << "A fragments hold bf16 or f16, got " << elementType;
  if (failed(verifyWarpRows(emitError, "A fragment", rows, warps)))
    return failure();
  if (cols <= 0 || cols % 16 != 0)
    return emitError() << "A fragment cols (" << cols
                       << ") must be a positive multiple of 16";
  return verifyTileRegisters(emitError, "A fragment", rows, cols, warps,
                             /*perRegister=*/2);
}

//===----------------------------------------------------------------------===//
// MBarriersType
//===----------------------------------------------------------------------===//

LogicalResult
MBarriersType::verify(function_ref<InFlightDiagnostic()> emitError,
                      int64_t count) {
  if (count <= 0)
    return emitError() << "an mbarrier array needs at least one barrier";
  int64_t budget = getLimitsOfAnyTarget().maxSmemPerBlock;
  if (count > budget / kMBarrierBytes)
    return emitError() << count << " mbarriers (" << kMBarrierBytes
                       << " B each) do not fit the " << budget
                       << " B of shared memory a block can have";
  return success();
}

//===----------------------------------------------------------------------===//
// RowStatsType
//===----------------------------------------------------------------------===//

Type RowStatsType::parse(AsmParser &parser) {
  int64_t rows = 0, warps = 0;
  if (parser.parseLess() || parser.parseInteger(rows) ||
      parseWarps(parser, warps) || parser.parseGreater())
    return {};
  return parser.getChecked<RowStatsType>(parser.getContext(), rows, warps);
}

void RowStatsType::print(AsmPrinter &printer) const {
  printer << "<" << getRows() << ", warps = " << getWarps() << ">";
}

LogicalResult
RowStatsType::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t rows, int64_t warps) {
  if (failed(verifyWarpRows(emitError, "row statistics", rows, warps)))
    return failure();
  return success();
}
