//===- FA4Ops.cpp - fa4 operations ----------------------------------------===//
//
// Verifiers and type inference of the fa4 operations. The fa4.attention
// verifier is the gate that keeps a kernel from compiling into something it
// does not compute: each invalid combination, and each variant whose lowering
// is not built yet, gets a diagnostic that names it.
//
//===----------------------------------------------------------------------===//

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::fa4;

#include "fa4/Dialect/FA4/IR/FA4Enums.cpp.inc"

//===----------------------------------------------------------------------===//
// Regions parsed after a region
//===----------------------------------------------------------------------===//

// MLIR 22's ODS-generated parsers keep each parsed region in a local
// std::unique_ptr<Region> and move it into the OperationState only at the
// end of parse(). The parser's CleanupOpStateRegions guard (AsmParser's
// Parser.cpp), which drops the uses of values defined in a failed op's
// regions, only sees regions already in the state: if anything after a
// region fails, the local region is destroyed while a forward reference
// outside the op may already use one of its values, and freeing the IR
// later writes through the dangling use (Operation::dropAllReferences,
// found by fuzzing: test/Robustness/parse-after-region.mlir). So in fa4's
// formats nothing that can fail follows the last region, and a region that
// follows another is parsed by a directive that drops the first region's
// value uses itself when it fails, as the guard would.

/// Parses `second`; on failure, drops every use of a value `first` defines.
static ParseResult parseRegionAfter(OpAsmParser &parser, Region &first,
                                    Region &second) {
  if (succeeded(parser.parseRegion(second)))
    return success();
  for (Block &block : first)
    block.dropAllDefinedValueUses();
  return failure();
}

/// `else` region, optional (fa4.variant).
static ParseResult parseElseRegion(OpAsmParser &parser, Region &thenRegion,
                                   Region &elseRegion) {
  if (failed(parser.parseOptionalKeyword("else")))
    return success();
  return parseRegionAfter(parser, thenRegion, elseRegion);
}

static void printElseRegion(OpAsmPrinter &printer, Operation *,
                            Region &thenRegion, Region &elseRegion) {
  if (elseRegion.empty())
    return;
  printer << " else ";
  printer.printRegion(elseRegion);
}

/// `consumers` region (fa4.warp_specialize).
static ParseResult parseConsumersRegion(OpAsmParser &parser, Region &producer,
                                        Region &consumers) {
  if (failed(parser.parseKeyword("consumers"))) {
    for (Block &block : producer)
      block.dropAllDefinedValueUses();
    return failure();
  }
  return parseRegionAfter(parser, producer, consumers);
}

static void printConsumersRegion(OpAsmPrinter &printer, Operation *,
                                 Region &producer, Region &consumers) {
  printer << "consumers ";
  printer.printRegion(consumers);
}

#define GET_OP_CLASSES
#include "fa4/Dialect/FA4/IR/FA4Ops.cpp.inc"

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

/// Head dims that have a tile configuration and a tested lowering.
/// FlashAttention-2's head-dim classes: other sizes run on the next one up.
static bool isBuiltHeadDim(int64_t d) {
  return d == 32 || d == 64 || d == 96 || d == 128 || d == 160 || d == 192 ||
         d == 224 || d == 256;
}

LogicalResult AttentionOp::verify() {
  Type elementType = getElementType();
  if (!elementType.isBF16() && !elementType.isF16())
    return emitOpError("dtype must be bf16 or f16, got ") << elementType;

  int64_t d = getHeadDim(), dv = getHeadDimV();
  if (d <= 0 || d % 8 != 0)
    return emitOpError() << "head_dim " << d
                         << " is not a positive multiple of 8 (each row must "
                            "be 16-byte aligned)";
  if (dv <= 0 || dv % 8 != 0)
    return emitOpError() << "head_dim_v " << dv
                         << " is not a positive multiple of 8 (each row must "
                            "be 16-byte aligned)";

  // ---- Invalid combinations ----
  if (getWindow() && getCausal())
    return emitOpError() << "causal and window are exclusive: causal is the "
                            "window (-1, 0), and a causal window (left, 0) "
                            "is a window kernel";
  int64_t stages = getNumStages();
  if (stages < 1 || stages > 2)
    return emitOpError() << "stages must be 1 or 2, got " << stages;

  bool tma = getLoadPath() == LoadPath::Tma;
  if (tma) {
    if (getVarlen())
      return emitOpError() << "varlen requires the cp_async load path (a TMA "
                              "box cannot follow per-sequence offsets)";
    if (getPagedKv())
      return emitOpError() << "paged KV requires the cp_async load path";
    if (getKvCache())
      return emitOpError() << "kv_cache requires the cp_async load path";
    if (getBlockSparse())
      return emitOpError() << "block-sparse requires the cp_async load path";
    if (getDropout())
      return emitOpError() << "dropout requires the cp_async load path";
    if (stages < 2)
      return emitOpError() << "the TMA load path needs at least 2 K/V stages";
  }
  if (getNumWarps() && !getTileM())
    return emitOpError() << "warps(...) needs tile(m, n)";
  if (getTileM().has_value() != getTileN().has_value())
    return emitOpError() << "tile needs both m and n";

  // ---- Head dims with a lowering: FlashAttention-2's classes ----
  for (auto [name, value] :
       {std::pair<const char *, int64_t>{"head_dim", d}, {"head_dim_v", dv}})
    if (!isBuiltHeadDim(value))
      return emitOpError() << name << " " << value
                           << " is not built (built: 32, 64, 96, 128, 160, "
                              "192, 224, 256)";
  if (tma && std::max(d, dv) > 128)
    return emitOpError() << "the TMA load path is built for head dims up to "
                            "128, not ("
                         << d << ", " << dv << ")";

  // ---- The tile configuration must fit the target ----
  const TargetInfo &target = getTargetInfo(getTarget().value_or(Chip::sm_120a));
  // A dimension beyond the shared-memory budget can never fit; bounding
  // each one first keeps every size product below 2^51.
  auto fitsBudget = [&](int64_t value) { return value <= target.smemPerBlock; };
  if (!fitsBudget(d) || !fitsBudget(dv))
    return emitOpError() << "head dims (" << d << ", " << dv
                         << ") cannot fit the " << target.smemPerBlock
                         << " B of shared memory of " << target.cpu;
  if (std::optional<uint64_t> m = getTileM())
    if (!fitsBudget(static_cast<int64_t>(*m)) ||
        !fitsBudget(static_cast<int64_t>(getTileN().value_or(0))))
      return emitOpError() << "tile (" << *m << ", " << getTileN().value_or(0)
                           << ") cannot fit the " << target.smemPerBlock
                           << " B of shared memory of " << target.cpu;
  KernelConfig config = chooseKernelConfig(*this, target);
  if (std::string problem = checkKernelConfig(*this, config, target);
      !problem.empty())
    return emitOpError() << problem;

  if (getKvCache() && getVarlen())
    return emitOpError() << "kv_cache and varlen are exclusive: the cache "
                            "states its own lengths (cache_seqlens)";
  if (getPagedKv() && !getVarlen() && !getKvCache())
    return emitOpError() << "paged KV needs varlen or kv_cache (its lengths "
                            "come from cu_seqlens or cache_seqlens)";

  // ---- Variants whose lowering is not built yet, each by name ----
  if (getSplitKv() && !getKvCache())
    return emitOpError() << "split-KV is built for kv_cache kernels only";
  if (getSplitKv() && getSink())
    return emitOpError() << "split-KV with a learnable sink is not built (the "
                            "sink belongs in the combine, applied once)";
  if (getDropout() && getKvCache())
    return emitOpError() << "dropout is not built for kv_cache kernels "
                            "(flash_attn_with_kvcache takes no dropout)";
  if (getReturnProbs() && !getDropout())
    return emitOpError() << "return_probs needs dropout (FlashAttention-2 "
                            "returns S_dmask only with dropout_p > 0)";
  if (getReturnProbs() && (getPagedKv() || getKvCache()))
    return emitOpError() << "return_probs is built for dense and unpaged "
                            "varlen kernels only";
  if (getReturnProbs() && getBlockSparse())
    return emitOpError() << "return_probs with block_sparse is not built "
                            "(S_dmask's entries follow the running max in "
                            "the range's order; block lists have their own)";
  if (getSwitchable()) {
    if (getWindow() + getSoftcap() + getAlibi() < 2)
      return emitOpError() << "switchable needs two or more of window, "
                              "softcap and alibi (it serves their "
                              "combinations)";
    if (getCausal())
      return emitOpError() << "a switchable kernel takes causal as the "
                              "window (-1, 0), not as causal";
    if (getSink() || getBlockSparse() || tma)
      return emitOpError() << "switchable is built for the cp_async load "
                              "path without sink or block_sparse";
  }
  if (getBlockSparse() && (getKvCache() || getSplitKv()))
    return emitOpError() << "block-sparse is not built for kv_cache or "
                            "split_kv kernels (its lists are per q-block of "
                            "a prefill)";
  return success();
}

//===----------------------------------------------------------------------===//
// KVAppendOp
//===----------------------------------------------------------------------===//

LogicalResult KVAppendOp::verify() {
  Type elementType = getElementType();
  if (!elementType.isBF16() && !elementType.isF16())
    return emitOpError("dtype must be bf16 or f16, got ") << elementType;
  return success();
}

//===----------------------------------------------------------------------===//
// ScopeOp
//===----------------------------------------------------------------------===//

LogicalResult ScopeOp::verify() {
  // Every buffer the path touches must be its own: a buffer declared outside
  // the scope would be shared with whatever else uses it.
  llvm::StringSet<> names;
  WalkResult result = getBody().walk([&](Operation *op) -> WalkResult {
    if (auto buffer = dyn_cast<SmemBufferOp>(op)) {
      if (buffer->getParentOfType<ScopeOp>() == *this &&
          !names.insert(buffer.getSymName()).second) {
        buffer.emitOpError() << "redeclares shared-memory buffer '"
                             << buffer.getSymName() << "' in scope '"
                             << getSymName() << "'";
        return WalkResult::interrupt();
      }
    }
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (!def || !isa<SmemBufferOp, SmemBarriersOp>(def) ||
          (*this)->isAncestor(def))
        continue;
      StringAttr name = isa<SmemBufferOp>(def)
                            ? cast<SmemBufferOp>(def).getSymNameAttr()
                            : cast<SmemBarriersOp>(def).getSymNameAttr();
      op->emitOpError() << "uses shared-memory buffer '" << name.getValue()
                        << "' declared outside scope '" << getSymName()
                        << "': each variant path owns its buffers";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

//===----------------------------------------------------------------------===//
// GuardOp
//===----------------------------------------------------------------------===//

LogicalResult GuardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands,
    DictionaryAttr, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  // Operand 0 is the condition; the else values give the result types.
  for (Value value : operands.drop_front())
    inferredReturnTypes.push_back(value.getType());
  return success();
}

LogicalResult GuardOp::verify() {
  auto yield = cast<YieldOp>(getBody().front().getTerminator());
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError() << "body yields " << yield.getValues().size()
                         << " values whose types differ from the "
                         << getNumResults()
                         << " results: every result needs a value on both "
                            "the guarded and the skipped path";
  return success();
}

//===----------------------------------------------------------------------===//
// SmemBufferOp
//===----------------------------------------------------------------------===//

/// A shared-memory allocation (a tile or an mbarrier array) belongs to the
/// scope around it, and a planned offset keeps the allocation's alignment.
static LogicalResult verifyScopedAllocation(Operation *op, StringRef name,
                                            std::optional<uint64_t> offset,
                                            int64_t alignment) {
  if (!op->getParentOfType<ScopeOp>())
    return op->emitOpError() << "'" << name
                             << "' must be declared inside a fa4.scope, "
                                "which owns it";
  if (offset && *offset % alignment != 0)
    return op->emitOpError() << "offset " << *offset << " is not "
                             << alignment << "-byte aligned";
  return success();
}

LogicalResult SmemBufferOp::verify() {
  return verifyScopedAllocation(*this, getSymName(), getOffset(),
                                kSmemBufferAlignment);
}

//===----------------------------------------------------------------------===//
// WarpSpecializeOp, SmemBarriersOp
//===----------------------------------------------------------------------===//

LogicalResult WarpSpecializeOp::verify() {
  // The consumers and the producer warp group share one block.
  int64_t maxWarps = getLimitsOfAnyTarget().maxWarps;
  if (getConsumerWarps() + KernelConfig::kProducerWarps >
      static_cast<uint64_t>(maxWarps))
    return emitOpError() << "consumer_warps (" << getConsumerWarps()
                         << ") and a producer warp group exceed the "
                         << maxWarps << " warps of a block";
  std::optional<uint64_t> producer = getProducerRegisters();
  std::optional<uint64_t> consumer = getConsumerRegisters();
  if (producer.has_value() != consumer.has_value())
    return emitOpError() << "registers(producer, consumers) needs both counts";
  for (std::optional<uint64_t> count : {producer, consumer})
    if (count && (*count < 24 || *count > 256 || *count % 8 != 0))
      return emitOpError() << "setmaxnreg counts must be multiples of 8 in "
                              "[24, 256], got "
                           << *count;
  return success();
}

LogicalResult SmemBarriersOp::verify() {
  return verifyScopedAllocation(*this, getSymName(), getOffset(),
                                kMBarrierBytes);
}

//===----------------------------------------------------------------------===//
// Register tile ops
//===----------------------------------------------------------------------===//

/// Checks that `rows` describes the rows of `acc`.
static LogicalResult verifyRowsMatch(Operation *op, AccTileType acc,
                                     RowStatsType rows, StringRef what) {
  if (acc.getRows() != rows.getRows() || acc.getWarps() != rows.getWarps())
    return op->emitOpError() << what << " " << rows
                             << " does not describe the rows of " << acc;
  return success();
}

LogicalResult LoadAOp::verify() {
  SmemTileType tile = getTile().getType();
  AFragType frag = getResult().getType();
  if (tile.getRows() != frag.getRows() || tile.getCols() != frag.getCols() ||
      tile.getElementType() != frag.getElementType())
    return emitOpError() << "fragments " << frag << " do not match tile "
                         << tile;
  return success();
}

LogicalResult PackAOp::verify() {
  AccTileType acc = getAcc().getType();
  AFragType frag = getResult().getType();
  if (acc.getRows() != frag.getRows() || acc.getCols() != frag.getCols() ||
      acc.getWarps() != frag.getWarps())
    return emitOpError() << "fragments " << frag
                         << " do not have the shape and warps of " << acc;
  return success();
}

LogicalResult QKMmaOp::verify() {
  SmemTileType k = getK().getType();
  AccTileType s = getResult().getType();
  int64_t qRows, qCols;
  Type qElement;
  if (auto tile = dyn_cast<SmemTileType>(getQ().getType())) {
    qRows = tile.getRows();
    qCols = tile.getCols();
    qElement = tile.getElementType();
  } else {
    auto frag = cast<AFragType>(getQ().getType());
    if (frag.getWarps() != s.getWarps())
      return emitOpError() << "Q fragments and S are spread over different "
                              "warps";
    qRows = frag.getRows();
    qCols = frag.getCols();
    qElement = frag.getElementType();
  }
  if (qElement != k.getElementType())
    return emitOpError() << "Q and K element types differ";
  if (qCols != k.getCols())
    return emitOpError() << "Q has head dim " << qCols << " but K has "
                         << k.getCols();
  if (qCols % 16 != 0)
    return emitOpError() << "head dim must be a multiple of 16 (the mma k)";
  if (k.getRows() % 16 != 0)
    return emitOpError() << "K rows must be a multiple of 16";
  if (s.getRows() != qRows || s.getCols() != k.getRows())
    return emitOpError() << "result must be " << qRows << "x" << k.getRows()
                         << ", got " << s;
  return success();
}

LogicalResult OnlineSoftmaxOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands,
    DictionaryAttr, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  Type rows = operands[1].getType();
  inferredReturnTypes.assign({operands[0].getType(), rows, rows, rows});
  return success();
}

LogicalResult OnlineSoftmaxOp::verify() {
  if (getMax().getType() != getSum().getType())
    return emitOpError() << "running max and sum types differ";
  return verifyRowsMatch(*this, getScores().getType(), getMax().getType(),
                         "running max");
}

LogicalResult RescaleOp::verify() {
  return verifyRowsMatch(*this, getAcc().getType(), getFactor().getType(),
                         "factor");
}

LogicalResult PVMmaOp::verify() {
  AFragType p = getProbs().getType();
  AccTileType o = getAcc().getType();
  SmemTileType v = getV().getType();
  if (p.getElementType() != v.getElementType())
    return emitOpError() << "P and V element types differ";
  if (p.getCols() != v.getRows())
    return emitOpError() << "P has " << p.getCols() << " columns but V has "
                         << v.getRows() << " rows";
  if (o.getCols() != v.getCols())
    return emitOpError() << "O has " << o.getCols() << " columns but V has "
                         << v.getCols();
  if (p.getRows() != o.getRows() || p.getWarps() != o.getWarps())
    return emitOpError() << "P " << p << " and O " << o
                         << " must have the same rows and warps";
  return success();
}

LogicalResult FinalizeOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands,
    DictionaryAttr, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  inferredReturnTypes.assign({operands[0].getType(), operands[1].getType()});
  return success();
}

/// Keep bits for `tile` must come one per fragment value, in 16 x 32 blocks.
static LogicalResult verifyDropoutBits(Operation *op, AccTileType tile,
                                       VectorType bits) {
  if (tile.getRowsPerWarp() % 16 != 0 || tile.getCols() % 32 != 0)
    return op->emitOpError()
           << "dropout draws in 16 x 32 blocks; a warp's share of the tile is "
           << tile.getRowsPerWarp() << " x " << tile.getCols();
  int64_t words = DropoutMaskOp::getNumWords(tile);
  if (bits.getNumElements() != words)
    return op->emitOpError()
           << "keep bits for " << tile << " take " << words
           << " i32 words per lane, not " << bits.getNumElements();
  return success();
}

LogicalResult DropoutMaskOp::verify() {
  return verifyDropoutBits(*this, cast<AccTileType>(getTile()),
                           getBits().getType());
}

LogicalResult DropoutOp::verify() {
  return verifyDropoutBits(*this, getProbs().getType(), getBits().getType());
}

LogicalResult FinalizeOp::verify() {
  if (getMax().getType() != getSum().getType())
    return emitOpError() << "running max and sum types differ";
  return verifyRowsMatch(*this, getAcc().getType(), getMax().getType(),
                         "running max");
}

/// `group(%g, %head_stride)` comes whole or not at all.
static LogicalResult verifyGroup(Operation *op, Value group, Value headStride) {
  if (static_cast<bool>(group) != static_cast<bool>(headStride))
    return op->emitOpError() << "group needs both the group size and the head "
                                "stride";
  return success();
}

LogicalResult LoadTileOp::verify() {
  return verifyGroup(*this, getGroup(), getHeadStride());
}

LogicalResult StoreRowsOp::verify() {
  return verifyGroup(*this, getGroup(), getHeadStride());
}

LogicalResult StoreTileOp::verify() {
  if (failed(verifyGroup(*this, getGroup(), getHeadStride())))
    return failure();
  Type elementType = getElementType();
  if (!elementType.isBF16() && !elementType.isF16() && !elementType.isF32())
    return emitOpError() << "stores bf16, f16 or f32, got " << elementType;
  return success();
}

//===----------------------------------------------------------------------===//
// MergeSplitsOp
//===----------------------------------------------------------------------===//

LogicalResult MergeSplitsOp::verify() {
  int64_t width = getOut().getType().getNumElements();
  if (width != 1 && width != 2 && width != 4)
    return emitOpError() << "merges 1, 2 or 4 columns per thread (one load "
                            "of at most 16 bytes per split), got "
                         << width;
  return success();
}

//===----------------------------------------------------------------------===//
// KVRangeOp
//===----------------------------------------------------------------------===//

/// The lowering computes in i32: kv_range's sizes must be i32 constants.
static bool isBlockSizeInRange(uint64_t size) {
  return size >= 1 && size <= INT32_MAX;
}

LogicalResult KVRangeOp::verify() {
  if (!isBlockSizeInRange(getTileM()) || !isBlockSizeInRange(getTileN()))
    return emitOpError() << "tile sizes must be in [1, 2^31), got rows "
                         << static_cast<int64_t>(getTileM()) << " and block "
                         << static_cast<int64_t>(getTileN());
  if (static_cast<bool>(getSplitIndex()) != static_cast<bool>(getNumSplits()))
    return emitOpError() << "split needs both the index and the count";
  bool local = getMask() == MaskKind::Local;
  if (local != static_cast<bool>(getWindowLeft()))
    return emitOpError() << (local ? "the local kind needs window(left, right)"
                                   : "only the local kind takes a window");
  return success();
}

namespace {
/// The block range of KVRangeOp's description, on known values.
struct KeyBlockRange {
  int64_t begin, fullBegin, fullEnd, end;
};
} // namespace

static int64_t ceilDiv(int64_t x, int64_t d) {
  return x >= 0 ? (x + d - 1) / d : -((-x) / d);
}
static int64_t floorDiv(int64_t x, int64_t d) {
  return x >= 0 ? x / d : -((-x + d - 1) / d);
}

/// `right` < 0: no right edge; `left` < 0: no left edge.
static KeyBlockRange computeBlockRange(int64_t left, int64_t right,
                                       int64_t qRow, int64_t seqlenQ,
                                       int64_t seqlenK, int64_t tileM,
                                       int64_t tileN) {
  int64_t blocks = ceilDiv(seqlenK, tileN);
  int64_t diag = seqlenK - seqlenQ;
  KeyBlockRange r{0, 0, 0, blocks};
  r.fullEnd = seqlenK % tileN != 0 ? blocks - 1 : blocks;
  if (right >= 0) {
    r.end = std::min(r.end, ceilDiv(qRow + tileM + diag + right, tileN));
    r.fullEnd = std::min(
        r.fullEnd,
        std::max<int64_t>(floorDiv(qRow + diag + right + 1, tileN), 0));
  }
  if (left >= 0) {
    r.begin = std::max<int64_t>(floorDiv(qRow + diag - left, tileN), 0);
    // The last row that exists: min(q_row + tile_m - 1, Sq - 1).
    int64_t lastRow = std::min(qRow + tileM - 1, seqlenQ - 1);
    r.fullBegin = ceilDiv(lastRow + diag - left, tileN);
  }
  r.fullBegin = std::max(std::min(r.fullBegin, r.end), r.begin);
  r.fullEnd = std::max(std::min(r.fullEnd, r.end), r.fullBegin);
  return r;
}

LogicalResult KVRangeOp::fold(FoldAdaptor adaptor,
                              SmallVectorImpl<OpFoldResult> &results) {
  auto qRow = dyn_cast_or_null<IntegerAttr>(adaptor.getQRow());
  auto seqlenQ = dyn_cast_or_null<IntegerAttr>(adaptor.getSeqlenQ());
  auto seqlenK = dyn_cast_or_null<IntegerAttr>(adaptor.getSeqlenK());
  // A split range depends on the run-time split index: not folded.
  if (getNumSplits())
    return failure();
  if (!qRow || !seqlenQ || !seqlenK || !isBlockSizeInRange(getTileM()) ||
      !isBlockSizeInRange(getTileN()))
    return failure();
  int64_t left = -1, right = -1;
  if (getMask() == MaskKind::Causal)
    right = 0;
  if (getMask() == MaskKind::Local) {
    auto l = dyn_cast_or_null<IntegerAttr>(adaptor.getWindowLeft());
    auto r = dyn_cast_or_null<IntegerAttr>(adaptor.getWindowRight());
    // The operands are normalized sizes (>= 0); fold only those.
    if (!l || !r || l.getInt() < 0 || r.getInt() < 0)
      return failure();
    left = l.getInt();
    right = r.getInt();
  }
  KeyBlockRange r =
      computeBlockRange(left, right, qRow.getInt(), seqlenQ.getInt(),
                        seqlenK.getInt(), getTileM(), getTileN());
  Builder b(getContext());
  for (int64_t v : {r.begin, r.fullBegin, r.fullEnd, r.end})
    results.push_back(b.getI32IntegerAttr(static_cast<int32_t>(v)));
  return success();
}

namespace {
/// A kind without left-edge masking starts at block 0 with no masked
/// blocks below full_begin: begin and full_begin are the constant 0.
struct FoldStaticRangeStart : OpRewritePattern<KVRangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KVRangeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.hasLeftMaskedBlocks())
      return failure();
    bool changed = false;
    Value zero;
    for (Value result : {op.getBegin(), op.getFullBegin()}) {
      if (result.use_empty())
        continue;
      if (!zero)
        zero = arith::ConstantIntOp::create(rewriter, op.getLoc(),
                                            rewriter.getI32Type(), 0);
      rewriter.replaceAllUsesWith(result, zero);
      changed = true;
    }
    return success(changed);
  }
};
} // namespace

void KVRangeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<FoldStaticRangeStart>(context);
}

//===----------------------------------------------------------------------===//
// KVLoopOp
//===----------------------------------------------------------------------===//

LogicalResult KVLoopOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  KVLoopOp::Adaptor adaptor(operands, attributes, properties, regions);
  llvm::append_range(inferredReturnTypes, adaptor.getInit().getTypes());
  return success();
}

void KVLoopOp::getAsmBlockArgumentNames(Region &region,
                                        OpAsmSetValueNameFn setNameFn) {
  static constexpr const char *kNames[] = {"n", "q", "k", "v", "o", "m", "l"};
  for (auto [i, arg] : llvm::enumerate(region.getArguments()))
    setNameFn(arg, i < std::size(kNames) ? kNames[i] : "state");
}

LogicalResult KVLoopOp::verify() {
  if (getStages() < 1 || getStages() > 2)
    return emitOpError() << "stages must be 1 or 2, got " << getStages();
  // ---- Sources ----
  struct Source {
    const char *name;
    TileSourceAttrInterface kind;
    ValueRange operands;
  } sources[] = {{"q", getQSource(), getQOperands()},
                 {"k", getKSource(), getKOperands()},
                 {"v", getVSource(), getVOperands()}};
  for (const Source &source : sources)
    if (failed(source.kind.verifyOperands(
            [&]() {
              return emitOpError() << "source of " << source.name << ": ";
            },
            source.operands)))
      return failure();
  if (getKSource() != getVSource())
    return emitOpError() << "K and V must come from the same source kind, got "
                         << getKSource() << " and " << getVSource();
  if (getQSource().isTma() != getKSource().isTma())
    return emitOpError() << "Q and K/V must all arrive by TMA or all by "
                            "cp.async";
  if (getKSource().isTma() && getStages() < 2)
    return emitOpError() << "tiles arriving by TMA need at least 2 stages";
  // ---- Iteration kind: the range, or block lists ----
  int listOperands = !!getMaskList() + !!getMaskCount() + !!getFullList() +
                     !!getFullCount() + !!getListRatio();
  if (listOperands != 0 && listOperands != 5)
    return emitOpError() << "block lists need all of mask list and count, "
                            "full list and count, and the tiles per entry";
  if (hasLists() && isTma())
    return emitOpError() << "block lists need the cp.async schedule (the TMA "
                            "producer walks the range)";
  if (hasLists() && getDescending())
    return emitOpError() << "descending is an order of the range; block "
                            "lists are visited in list order";

  // ---- Body: (n, q, k, v, state...) -> state ----
  Block &body = getBodyBlock();
  size_t stateCount = getInit().size();
  if (body.getNumArguments() != 4 + stateCount)
    return emitOpError() << "body takes (n, q, k, v) and " << stateCount
                         << " state values, got " << body.getNumArguments()
                         << " arguments";
  if (!getBlockIndexArg().getType().isInteger(32))
    return emitOpError() << "the block index n must be i32";
  SmemTileType qTile = getQTile().getType();
  Type qArg = getQArg().getType();
  if (auto frag = dyn_cast<AFragType>(qArg)) {
    if (frag.getRows() != qTile.getRows() || frag.getCols() != qTile.getCols() ||
        frag.getElementType() != qTile.getElementType())
      return emitOpError() << "Q fragments " << frag << " do not match "
                           << qTile;
  } else if (qArg != qTile) {
    return emitOpError() << "Q is " << qArg << " in the body but " << qTile
                         << " in shared memory";
  }
  auto kTile = dyn_cast<SmemTileType>(getKArg().getType());
  auto vTile = dyn_cast<SmemTileType>(getVArg().getType());
  if (!kTile || !vTile)
    return emitOpError() << "K and V must be shared-memory tiles";
  if (kTile.getRows() != vTile.getRows())
    return emitOpError() << "K and V blocks have " << kTile.getRows()
                         << " and " << vTile.getRows() << " rows";
  for (auto [arg, init] : llvm::zip(getStateArgs(), getInit()))
    if (arg.getType() != init.getType())
      return emitOpError() << "state argument " << arg.getType()
                           << " does not match its initial value "
                           << init.getType();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getValues().getTypes() != getInit().getTypes())
    return emitOpError() << "body must yield the " << stateCount
                         << " state values";
  return success();
}

LogicalResult FillNaNOp::verify() {
  Type elementType = getElementType();
  if (!elementType.isBF16() && !elementType.isF16() && !elementType.isF32())
    return emitOpError() << "fills bf16, f16 or f32, got " << elementType;
  // Columns are counted in i32.
  if (getCols() > static_cast<uint64_t>(INT32_MAX))
    return emitOpError() << "cols (" << getCols() << ") must be below 2^31";
  return success();
}
