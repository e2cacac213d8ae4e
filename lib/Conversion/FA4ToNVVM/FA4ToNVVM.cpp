//===- FA4ToNVVM.cpp - fa4 block program to NVVM --------------------------===//
//
// Lowers the block-level program to what the NVPTX backend emits as
// cp.async, ldmatrix, mma.sync.m16n8k16, shfl.sync and ex2.approx.
//
// Fragment layout (PTX ISA, "Matrix fragments for mma.m16n8k16"); per lane l,
// g = l / 4 and q = l % 4:
//   A (16x16, row):  a0 = (g, 2q..2q+1)   a1 = (g+8, 2q..)   a2 = (g, 2q+8..)
//                    a3 = (g+8, 2q+8..)                        (bf16x2 each)
//   B (16x8, col):   b0 = (k = 2q..2q+1, n = g)   b1 = (k = 2q+8.., n = g)
//   C (16x8, f32):   c0, c1 = (g, 2q), (g, 2q+1)   c2, c3 = (g+8, 2q), (g+8, 2q+1)
// An !fa4.acc value of warp w is a grid of C fragments (mt, nt) over its
// rows [w * Mw, (w+1) * Mw), held as vector element 4 * (mt * NT + nt) + c.
// The C fragments of n-tiles 2j and 2j+1 are, once packed to 16 bits, the A
// fragment of k-slice j: P never leaves registers between the two GEMMs.
//
// Shared-memory tiles use the TMA swizzle layout (see !fa4.smem): 16-byte
// unit u of row r lives at unit u ^ (r % 8) (128-byte rows) or
// u ^ ((r / 2) % 4) (64-byte rows), so each 8x8 ldmatrix phase and each
// cp.async row touches eight different bank groups.
//
//===----------------------------------------------------------------------===//

#include "fa4/Conversion/FA4ToNVVM/FA4ToNVVM.h"
#include "fa4/Conversion/Passes.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/MathExtras.h"

#include <array>
#include <optional>
#include <limits>

namespace mlir {
namespace fa4 {
#define GEN_PASS_DEF_CONVERTFA4TONVVMPASS
#include "fa4/Conversion/Passes.h.inc"
} // namespace fa4
} // namespace mlir

using namespace mlir;
using namespace mlir::fa4;

namespace {

//===----------------------------------------------------------------------===//
// Emission helpers
//===----------------------------------------------------------------------===//

/// Thin wrapper over a builder for the scalar code every pattern emits.
///
/// Every helper creates an op, and C++ leaves the order in which a call's
/// arguments are evaluated unspecified (GCC goes right to left, Clang left to
/// right). So no call here takes two op-creating arguments: each gets its own
/// statement, and the kernels do not depend on the host compiler.
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc)
      : b(b), loc(loc), ctx(b.getContext()), i32Ty(b.getI32Type()),
        f32Ty(b.getF32Type()) {}

  Value i32(int64_t v) { return arith::ConstantIntOp::create(b, loc, i32Ty, v); }
  Value f32(double v) {
    return arith::ConstantFloatOp::create(b, loc, cast<FloatType>(f32Ty),
                                          APFloat(static_cast<float>(v)));
  }
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }

  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value band(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value bxor(Value x, Value y) { return arith::XOrIOp::create(b, loc, x, y); }
  Value shl(Value x, int64_t s) {
    return arith::ShLIOp::create(b, loc, x, i32(s));
  }
  Value shr(Value x, int64_t s) {
    return arith::ShRUIOp::create(b, loc, x, i32(s));
  }
  Value divU(Value x, int64_t d) {
    return arith::DivUIOp::create(b, loc, x, i32(d));
  }
  Value remU(Value x, int64_t d) {
    return arith::RemUIOp::create(b, loc, x, i32(d));
  }
  Value minS(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }

  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  /// llvm.maxnum: `max.f32` (arith.maxnumf would become a libdevice call).
  Value fmax(Value x, Value y) { return LLVM::MaxNumOp::create(b, loc, x, y); }
  Value fma(Value x, Value y, Value z) {
    return LLVM::FMAOp::create(b, loc, x, y, z);
  }
  Value fneg(Value x) { return arith::NegFOp::create(b, loc, x); }
  /// ex2.approx.ftz.f32: one MUFU op; exp2(-inf) = +0.
  Value exp2(Value x) {
    return LLVM::CallIntrinsicOp::create(
               b, loc, f32Ty, b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f32"),
               ValueRange{x})
        .getResult(0);
  }
  /// lg2.approx.f32.
  Value log2(Value x) {
    return LLVM::CallIntrinsicOp::create(
               b, loc, f32Ty, b.getStringAttr("llvm.nvvm.lg2.approx.f"),
               ValueRange{x})
        .getResult(0);
  }

  /// Thread index in the CTA, lane and warp. The range lets LLVM fold the
  /// lane arithmetic.
  Value tid() {
    LLVM::ConstantRangeAttr range;
    Operation *parent = b.getInsertionBlock()->getParentOp();
    auto func = dyn_cast<gpu::GPUFuncOp>(parent);
    if (!func)
      func = parent->getParentOfType<gpu::GPUFuncOp>();
    if (func)
      if (DenseI32ArrayAttr size = func.getKnownBlockSizeAttr())
        range = LLVM::ConstantRangeAttr::get(ctx, 32, 0, size[0]);
    return NVVM::ThreadIdXOp::create(b, loc, i32Ty, range);
  }
  Value lane() {
    Value t = tid();
    return band(t, i32(31));
  }
  Value warp() { return shr(tid(), 5); }

  /// shfl.sync.bfly over the full warp.
  Value shuffleXor(Value v, int64_t mask) {
    Value members = i32(-1);
    Value laneMask = i32(mask);
    Value clamp = i32(0x1f);
    return NVVM::ShflOp::create(b, loc, f32Ty, members, v, laneMask, clamp,
                                NVVM::ShflKind::bfly, UnitAttr())
        .getResult();
  }
  /// max / sum over the four lanes of a quad (they hold the same row).
  Value quadMax(Value v) {
    v = fmax(v, shuffleXor(v, 1));
    return fmax(v, shuffleXor(v, 2));
  }
  Value quadSum(Value v) {
    v = fadd(v, shuffleXor(v, 1));
    return fadd(v, shuffleXor(v, 2));
  }

  /// Byte-offset pointer arithmetic.
  Value gepBytes(Value ptr, Value offset) {
    return LLVM::GEPOp::create(b, loc, ptr.getType(), b.getI8Type(), ptr,
                               ValueRange{offset});
  }
  Value gepElements(Value ptr, Type elementType, Value offset) {
    return LLVM::GEPOp::create(b, loc, ptr.getType(), elementType, ptr,
                               ValueRange{offset});
  }

  /// The values of a vector<N x f32>, and back.
  SmallVector<Value> unpack(Value vec) {
    auto type = cast<VectorType>(vec.getType());
    SmallVector<Value> values;
    for (int64_t i = 0, e = type.getNumElements(); i < e; ++i)
      values.push_back(vector::ExtractOp::create(b, loc, vec, i));
    return values;
  }
  Value pack(ArrayRef<Value> values) {
    auto type = VectorType::get({static_cast<int64_t>(values.size())},
                                values.front().getType());
    return vector::FromElementsOp::create(b, loc, type, values);
  }

  /// Converts two f32 to a packed pair of `elementType` (element 0 in the
  /// low half), as one i32.
  Value packPair(Value lo, Value hi, Type elementType) {
    Value pair = vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, f32Ty), ValueRange{lo, hi});
    Value narrow = arith::TruncFOp::create(
        b, loc, VectorType::get({2}, elementType), pair);
    Value asInt = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, i32Ty), narrow);
    return vector::ExtractOp::create(b, loc, asInt, 0);
  }

  /// ldmatrix.sync.aligned.m8n8.x4(.trans).shared.b16.
  std::array<Value, 4> ldmatrixX4(Value ptr, bool transpose) {
    auto structTy = LLVM::LLVMStructType::getLiteral(
        ctx, {i32Ty, i32Ty, i32Ty, i32Ty});
    Value result = NVVM::LdMatrixOp::create(
        b, loc, structTy, ptr, /*num=*/4,
        transpose ? NVVM::MMALayout::col : NVVM::MMALayout::row,
        NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8), NVVM::LdStMatrixEltType::B16);
    std::array<Value, 4> regs;
    for (int64_t i = 0; i < 4; ++i)
      regs[i] = LLVM::ExtractValueOp::create(b, loc, result, i);
    return regs;
  }

  /// D = A B + C, mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}.f32.
  /// `a` and `bFrag` hold packed 16-bit pairs as i32.
  std::array<Value, 4> mma(Type elementType, ArrayRef<Value> a,
                           ArrayRef<Value> bFrag, ArrayRef<Value> c) {
    SmallVector<Value, 4> aOps(a), bOps(bFrag);
    NVVM::MMATypes ptxType = NVVM::MMATypes::bf16;
    if (elementType.isF16()) {
      // The f16 form takes vector<2xf16> operands; bf16 takes i32.
      ptxType = NVVM::MMATypes::f16;
      auto half2 = VectorType::get({2}, elementType);
      for (Value &v : aOps)
        v = LLVM::BitcastOp::create(b, loc, half2, v);
      for (Value &v : bOps)
        v = LLVM::BitcastOp::create(b, loc, half2, v);
    }
    auto structTy =
        LLVM::LLVMStructType::getLiteral(ctx, {f32Ty, f32Ty, f32Ty, f32Ty});
    Value d = NVVM::MmaOp::create(
        b, loc, structTy, aOps, bOps, c, /*shape=*/{16, 8, 16},
        /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
        std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    std::array<Value, 4> out;
    for (int64_t i = 0; i < 4; ++i)
      out[i] = LLVM::ExtractValueOp::create(b, loc, d, i);
    return out;
  }

  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;
  Type i32Ty, f32Ty;
};

//===----------------------------------------------------------------------===//
// Swizzled shared-memory layout
//===----------------------------------------------------------------------===//

/// The byte layout of an !fa4.smem tile: column chunks of `chunkCols`
/// elements, each a rows x chunkCols block, 16-byte units XOR-swizzled by
/// row.
struct SwizzledLayout {
  explicit SwizzledLayout(SmemTileType type)
      : type(type), elementBytes(type.getElementType().getIntOrFloatBitWidth() /
                                 8),
        chunkCols(type.getChunkCols()),
        unitsPerChunk(chunkCols * elementBytes / 16),
        rowBytes(chunkCols * elementBytes),
        chunkBytes(type.getRows() * rowBytes) {}

  /// The XOR key of a row: r % 8 for 128-byte rows, (r / 2) % 4 for 64-byte
  /// rows (two rows share one 128-byte line).
  Value swizzle(Emitter &e, Value row) const {
    if (unitsPerChunk == 8)
      return e.band(row, e.i32(7));
    Value pair = e.shr(row, 1);
    return e.band(pair, e.i32(3));
  }

  /// Byte offset of 16-byte unit `unit` of row `row` (both run-time).
  Value offset(Emitter &e, Value row, Value unit) const {
    Value chunk = e.divU(unit, unitsPerChunk);
    Value inChunk = e.remU(unit, unitsPerChunk);
    Value physical = e.bxor(inChunk, swizzle(e, row));
    Value chunkOffset = e.mul(chunk, e.i32(chunkBytes));
    Value rowOffset = e.mul(row, e.i32(rowBytes));
    Value base = e.add(chunkOffset, rowOffset);
    return e.add(base, e.shl(physical, 4));
  }

  SmemTileType type;
  int64_t elementBytes, chunkCols, unitsPerChunk, rowBytes, chunkBytes;
};

/// ldmatrix addressing: lane l points at unit (rowConst + laneRow(l),
/// unitConst + laneUnit(l)) with rowConst a multiple of 8 and unitConst even.
/// The row's swizzle is then the lane's own, and since unitConst has bit 0
/// clear, (unitConst | laneUnit) ^ swz = unitConst ^ (laneUnit ^ swz): each
/// address is a per-lane base plus a constant plus one XOR.
class LdmatrixAddressing {
public:
  /// `rowBase` is an extra run-time row offset that is a multiple of 8.
  LdmatrixAddressing(Emitter &e, const SwizzledLayout &layout, Value base,
                     Value rowBase, Value laneRow, Value laneUnit)
      : layout(layout) {
    laneX = e.bxor(laneUnit, layout.swizzle(e, laneRow));
    Value row = rowBase ? e.add(rowBase, laneRow) : laneRow;
    laneBase = e.gepBytes(base, e.mul(row, e.i32(layout.rowBytes)));
  }

  Value address(Emitter &e, int64_t rowConst, int64_t unitConst) const {
    assert(rowConst % 8 == 0 && unitConst % 2 == 0 && "misaligned ldmatrix");
    int64_t chunk = unitConst / layout.unitsPerChunk;
    int64_t inChunk = unitConst % layout.unitsPerChunk;
    Value unit = e.shl(e.bxor(laneX, e.i32(inChunk)), 4);
    int64_t constant = chunk * layout.chunkBytes + rowConst * layout.rowBytes;
    Value laneAddress = e.gepBytes(laneBase, unit);
    return e.gepBytes(laneAddress, e.i32(constant));
  }

private:
  const SwizzledLayout &layout;
  Value laneX, laneBase;
};

/// Number of threads of the kernel enclosing `op`.
static FailureOr<int64_t> getNumThreads(Operation *op) {
  auto func = op->getParentOfType<gpu::GPUFuncOp>();
  if (!func || !func.getKnownBlockSizeAttr())
    return op->emitOpError("needs an enclosing gpu.func with known_block_size");
  ArrayRef<int32_t> size = func.getKnownBlockSizeAttr().asArrayRef();
  return static_cast<int64_t>(size[0]) * size[1] * size[2];
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

struct ScopeOpLowering : OpConversionPattern<ScopeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScopeOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.inlineBlockBefore(&op.getBody().front(), op);
    rewriter.eraseOp(op);
    return success();
  }
};

struct SmemBufferOpLowering : OpConversionPattern<SmemBufferOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SmemBufferOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<uint64_t> offset = op.getOffset();
    if (!offset)
      return rewriter.notifyMatchFailure(
          op, "buffer has no offset: run fa4-scope-attention first");
    Emitter e(rewriter, op.getLoc());
    auto ptrTy = LLVM::LLVMPointerType::get(rewriter.getContext(), 3);
    Value base = LLVM::AddressOfOp::create(rewriter, op.getLoc(), ptrTy,
                                           kSharedMemorySymbol);
    rewriter.replaceOp(op, e.gepBytes(base, e.i32(*offset)));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Loads
//===----------------------------------------------------------------------===//

/// The tile is copied chunk by chunk. In a chunk of W 16-byte units per row,
/// thread t copies unit t % W of rows t / W + i * (T / W): W consecutive
/// threads read one contiguous 64- or 128-byte row segment (coalesced), and
/// because T / W is a multiple of 8 every row a thread copies has the same
/// swizzle, so its shared-memory addresses differ by constants only. Rows at
/// or past the limit get a zero source size: cp.async fills them with zeros
/// without reading memory, which keeps P = 0 times V finite for the ragged
/// last block.
struct LoadTileOpLowering : OpConversionPattern<LoadTileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LoadTileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<int64_t> threads = getNumThreads(op);
    if (failed(threads))
      return failure();
    SmemTileType tile = op.getDest().getType();
    SwizzledLayout layout(tile);
    int64_t unitsPerRow = layout.unitsPerChunk;
    int64_t rowsPerPass = *threads / unitsPerRow;
    if (*threads % unitsPerRow != 0 || rowsPerPass % 8 != 0 ||
        tile.getRows() % rowsPerPass != 0)
      return op.emitOpError()
             << "cannot spread a " << tile.getRows() << "-row tile over "
             << *threads << " threads in passes of " << rowsPerPass << " rows";
    int64_t passes = tile.getRows() / rowsPerPass;
    int64_t chunks = tile.getCols() / layout.chunkCols;
    int64_t elementsPerUnit = 16 / layout.elementBytes;

    Emitter e(rewriter, op.getLoc());
    Value tid = e.tid();
    Value laneRow = e.divU(tid, unitsPerRow);
    Value laneUnit = e.remU(tid, unitsPerRow);
    // Shared: row laneRow, unit laneUnit of chunk 0 (pass and chunk add
    // constants).
    Value destRow = e.mul(laneRow, e.i32(layout.rowBytes));
    Value destUnit = e.shl(e.bxor(laneUnit, layout.swizzle(e, laneRow)), 4);
    Value threadDest = e.gepBytes(adaptor.getDest(), e.add(destRow, destUnit));
    // Global: element (row + laneRow, laneUnit * 8).
    Value firstRow = e.add(adaptor.getRow(), laneRow);
    Value sourceRow = e.mul(firstRow, adaptor.getStride());
    Value sourceColumn = e.mul(laneUnit, e.i32(elementsPerUnit));
    Value threadSource = e.gepElements(adaptor.getBase(), tile.getElementType(),
                                       e.add(sourceRow, sourceColumn));
    // Pass i is in bounds iff i * rowsPerPass < limit - (row + laneRow).
    Value rowsLeft = e.sub(adaptor.getLimit(), firstRow);
    Value passStride = e.mul(adaptor.getStride(), e.i32(rowsPerPass));
    for (int64_t c = 0; c < chunks; ++c) {
      for (int64_t i = 0; i < passes; ++i) {
        Value dest = e.gepBytes(
            threadDest,
            e.i32(c * layout.chunkBytes + i * rowsPerPass * layout.rowBytes));
        Value passOffset = e.mul(passStride, e.i32(i));
        Value source =
            e.gepElements(threadSource, tile.getElementType(),
                          e.add(passOffset, e.i32(c * layout.chunkCols)));
        Value inBounds =
            e.cmp(arith::CmpIPredicate::slt, e.i32(i * rowsPerPass), rowsLeft);
        Value full = e.i32(16);
        Value bytes = e.select(inBounds, full, e.i32(0));
        NVVM::CpAsyncOp::create(rewriter, op.getLoc(), dest, source, 16,
                                NVVM::LoadCacheModifierKind::CG, bytes);
      }
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct CommitLoadsOpLowering : OpConversionPattern<CommitLoadsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CommitLoadsOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<NVVM::CpAsyncCommitGroupOp>(op);
    return success();
  }
};

struct WaitLoadsOpLowering : OpConversionPattern<WaitLoadsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(WaitLoadsOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    NVVM::CpAsyncWaitGroupOp::create(rewriter, op.getLoc(), op.getPending());
    rewriter.replaceOpWithNewOp<NVVM::Barrier0Op>(op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Warp specialization, mbarriers and TMA
//===----------------------------------------------------------------------===//

/// Warps [0, consumer_warps) consume; the warp group after them produces,
/// its first warp's lane 0 issuing every TMA load. setmaxnreg moves
/// registers from the producer group to the MMA warps where the target has
/// it; it is collective over each warp group, so every warp of a group runs
/// it before the producer narrows to one lane.
struct WarpSpecializeOpLowering : OpConversionPattern<WarpSpecializeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(WarpSpecializeOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    Value consumerWarps = e.i32(static_cast<int64_t>(op.getConsumerWarps()));
    Value warp = e.warp();
    Value isProducer = e.cmp(arith::CmpIPredicate::sge, warp, consumerWarps);
    auto roles = scf::IfOp::create(rewriter, loc, isProducer,
                                   /*withElseRegion=*/true);
    std::optional<uint64_t> producerRegs = op.getProducerRegisters();
    std::optional<uint64_t> consumerRegs = op.getConsumerRegisters();

    // Producer warp.
    rewriter.setInsertionPoint(roles.thenBlock()->getTerminator());
    if (producerRegs)
      NVVM::SetMaxRegisterOp::create(rewriter, loc,
                                     static_cast<int32_t>(*producerRegs),
                                     NVVM::SetMaxRegisterAction::decrease);
    Emitter pe(rewriter, loc);
    Value firstWarp =
        pe.cmp(arith::CmpIPredicate::eq, pe.warp(), consumerWarps);
    Value lane = pe.lane();
    Value laneZero = pe.cmp(arith::CmpIPredicate::eq, lane, pe.i32(0));
    Value leader = pe.band(firstWarp, laneZero);
    auto single = scf::IfOp::create(rewriter, loc, leader,
                                    /*withElseRegion=*/false);
    rewriter.inlineBlockBefore(&op.getProducer().front(),
                               single.thenBlock()->getTerminator());

    // MMA warps.
    rewriter.setInsertionPoint(roles.elseBlock()->getTerminator());
    if (consumerRegs)
      NVVM::SetMaxRegisterOp::create(rewriter, loc,
                                     static_cast<int32_t>(*consumerRegs),
                                     NVVM::SetMaxRegisterAction::increase);
    rewriter.inlineBlockBefore(&op.getConsumers().front(),
                               roles.elseBlock()->getTerminator());
    rewriter.eraseOp(op);
    return success();
  }
};

struct SmemBarriersOpLowering : OpConversionPattern<SmemBarriersOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SmemBarriersOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<uint64_t> offset = op.getOffset();
    if (!offset)
      return rewriter.notifyMatchFailure(
          op, "barriers have no offset: run fa4-scope-attention first");
    Emitter e(rewriter, op.getLoc());
    auto ptrTy = LLVM::LLVMPointerType::get(rewriter.getContext(), 3);
    Value base = LLVM::AddressOfOp::create(rewriter, op.getLoc(), ptrTy,
                                           kSharedMemorySymbol);
    rewriter.replaceOp(op, e.gepBytes(base, e.i32(*offset)));
    return success();
  }
};

/// Barrier `index` of an array lowered to a pointer (8 bytes per barrier).
static Value barrierAddress(Emitter &e, Value base, Value index) {
  return e.gepBytes(base, e.shl(index, llvm::Log2_64(kMBarrierBytes)));
}

/// Thread 0 initializes, fences the initialization for the async proxy (the
/// TMA unit arrives on these barriers), then the whole CTA synchronizes.
struct BarrierInitOpLowering : OpConversionPattern<BarrierInitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BarrierInitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    Value tid = e.tid();
    Value first = e.cmp(arith::CmpIPredicate::eq, tid, e.i32(0));
    int64_t count = op.getBarriers().getType().getCount();
    Value arrivals = e.i32(static_cast<int64_t>(op.getArrivals()));
    Value base = adaptor.getBarriers();
    scf::IfOp::create(rewriter, loc, first, [&](OpBuilder &b, Location) {
      Emitter inner(b, loc);
      for (int64_t i = 0; i < count; ++i)
        NVVM::MBarrierInitOp::create(
            b, loc, barrierAddress(inner, base, inner.i32(i)), arrivals,
            Value());
      NVVM::FenceMbarrierInitOp::create(b, loc);
      NVVM::FenceProxyOp::create(
          b, loc,
          NVVM::ProxyKindAttr::get(b.getContext(),
                                   NVVM::ProxyKind::async_shared),
          NVVM::SharedSpaceAttr::get(b.getContext(),
                                     NVVM::SharedSpace::shared_cta));
      scf::YieldOp::create(b, loc);
    });
    rewriter.replaceOpWithNewOp<NVVM::Barrier0Op>(op);
    return success();
  }
};

struct BarrierArriveTxOpLowering : OpConversionPattern<BarrierArriveTxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BarrierArriveTxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Value bar = barrierAddress(e, adaptor.getBarriers(), adaptor.getIndex());
    NVVM::MBarrierArriveExpectTxOp::create(
        rewriter, op.getLoc(), Type(), bar,
        e.i32(static_cast<int64_t>(op.getBytes())), NVVM::MemScopeKind::CTA,
        /*relaxed=*/false, /*predicate=*/Value());
    rewriter.eraseOp(op);
    return success();
  }
};

struct BarrierArriveOpLowering : OpConversionPattern<BarrierArriveOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BarrierArriveOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Value bar = barrierAddress(e, adaptor.getBarriers(), adaptor.getIndex());
    NVVM::MBarrierArriveOp::create(rewriter, op.getLoc(), TypeRange(), bar,
                                   Value());
    rewriter.eraseOp(op);
    return success();
  }
};

/// mbarrier.try_wait.parity in a loop (upstream lowers the NVVM op to a PTX
/// spin loop: LLVM 22 has no intrinsic for it).
struct BarrierWaitOpLowering : OpConversionPattern<BarrierWaitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BarrierWaitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Value bar = barrierAddress(e, adaptor.getBarriers(), adaptor.getIndex());
    // The suspend-time hint of each try: 10^7 ns.
    rewriter.replaceOpWithNewOp<NVVM::MBarrierTryWaitParityOp>(
        op, bar, adaptor.getPhase(), e.i32(10000000));
    return success();
  }
};

/// One CTA-only `cp.async.bulk.tensor` per column chunk of the tile: box
/// (chunk columns, tile rows, 1, 1) at (chunk * columns, row, head, batch).
/// The `shared::cta` form is what keeps sm_120's stack frame at zero.
struct TmaLoadOpLowering : OpConversionPattern<TmaLoadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TmaLoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    SwizzledLayout layout(op.getDest().getType());
    int64_t chunks = op.getDest().getType().getCols() / layout.chunkCols;
    Value bar = barrierAddress(e, adaptor.getBarriers(), adaptor.getIndex());
    for (int64_t c = 0; c < chunks; ++c) {
      Value dst = e.gepBytes(adaptor.getDest(), e.i32(c * layout.chunkBytes));
      SmallVector<Value> coords = {e.i32(c * layout.chunkCols),
                                   adaptor.getRow(), adaptor.getHead(),
                                   adaptor.getBatch()};
      auto copy = NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
          rewriter, loc, dst, adaptor.getDesc(), coords, bar,
          /*im2colOffsets=*/ValueRange(), /*multicastMask=*/Value(),
          /*l2CacheHint=*/Value(), NVVM::TMALoadMode::TILE,
          /*isCTAOnly=*/true, /*group=*/nullptr, /*predicate=*/Value());
      (void)copy;
    }
    rewriter.eraseOp(op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Register tiles
//===----------------------------------------------------------------------===//

struct SplatOpLowering : OpConversionPattern<SplatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SplatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = getTypeConverter()->convertType(op.getType());
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(op, type,
                                                     adaptor.getValue());
    return success();
  }
};

/// ldmatrix addressing of the A fragments of a tile: lane l points at row
/// l % 16, column 8 * (l / 16) of each 16 x 16 block of its warp's rows.
static LdmatrixAddressing aFragmentAddressing(Emitter &e,
                                              const SwizzledLayout &layout,
                                              Value tile, int64_t rowsPerWarp) {
  Value lane = e.lane();
  Value warp = e.warp();
  Value warpRow = e.mul(warp, e.i32(rowsPerWarp));
  Value laneRow = e.band(lane, e.i32(15));
  Value laneUnit = e.shr(lane, 4);
  return LdmatrixAddressing(e, layout, tile, warpRow, laneRow, laneUnit);
}

/// The A fragments of a warp's rows, as 4 x i32 per (m16 tile, k16 slice):
/// from registers (!fa4.afrag) or read from shared memory on demand.
class AFragments {
public:
  /// From an !fa4.afrag value (already converted to vector<N x i32>).
  AFragments(Emitter &e, Value vec, int64_t kSlices)
      : kSlices(kSlices), values(e.unpack(vec)) {}
  /// From a shared-memory tile, read lazily with ldmatrix.x4.
  AFragments(Emitter &e, SmemTileType tile, Value base, int64_t rowsPerWarp)
      : kSlices(tile.getCols() / 16), layout(tile),
        addressing(aFragmentAddressing(e, *layout, base, rowsPerWarp)) {}

  std::array<Value, 4> get(Emitter &e, int64_t mt, int64_t kk) const {
    if (addressing)
      return e.ldmatrixX4(addressing->address(e, 16 * mt, 2 * kk),
                          /*transpose=*/false);
    int64_t base = 4 * (mt * kSlices + kk);
    return {values[base], values[base + 1], values[base + 2],
            values[base + 3]};
  }

private:
  int64_t kSlices;
  SmallVector<Value> values;
  std::optional<SwizzledLayout> layout;
  std::optional<LdmatrixAddressing> addressing;
};

struct LoadAOpLowering : OpConversionPattern<LoadAOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LoadAOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AFragType frag = op.getResult().getType();
    AFragments source(e, op.getTile().getType(), adaptor.getTile(),
                      frag.getRowsPerWarp());
    SmallVector<Value> regs;
    for (int64_t mt = 0; mt < frag.getMTiles(); ++mt)
      for (int64_t kk = 0; kk < frag.getKSlices(); ++kk)
        llvm::append_range(regs, source.get(e, mt, kk));
    rewriter.replaceOp(op, e.pack(regs));
    return success();
  }
};

/// A fragment (mt, j) of P is C fragments (mt, 2j) and (mt, 2j + 1) packed:
/// a0 = (g, 2q..) = C(2j).c0,c1; a1 = (g+8, 2q..) = C(2j).c2,c3;
/// a2 = (g, 2q+8..) = C(2j+1).c0,c1; a3 = (g+8, 2q+8..) = C(2j+1).c2,c3.
struct PackAOpLowering : OpConversionPattern<PackAOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackAOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getAcc().getType();
    AFragType frag = op.getResult().getType();
    Type elementType = frag.getElementType();
    int64_t nTiles = acc.getNTiles();
    SmallVector<Value> c = e.unpack(adaptor.getAcc());
    SmallVector<Value> regs;
    for (int64_t mt = 0; mt < frag.getMTiles(); ++mt) {
      for (int64_t j = 0; j < frag.getKSlices(); ++j) {
        for (int64_t half = 0; half < 2; ++half) {
          int64_t base = 4 * (mt * nTiles + 2 * j + half);
          regs.push_back(e.packPair(c[base], c[base + 1], elementType));
          regs.push_back(e.packPair(c[base + 2], c[base + 3], elementType));
        }
      }
    }
    // Order within a fragment: a0, a1 from n-tile 2j, a2, a3 from 2j + 1.
    rewriter.replaceOp(op, e.pack(regs));
    return success();
  }
};

/// S = Q K^T. Warp w multiplies Q rows [w * Mw, (w+1) * Mw) (fragments in
/// registers, or read per k-slice with ldmatrix) by all of K: one
/// ldmatrix.x4 per pair of n8 tiles of K gives both B fragments (lane l ->
/// key row l % 8 + 8 * (l / 16), column 8 * ((l / 8) % 2)).
struct QKMmaOpLowering : OpConversionPattern<QKMmaOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QKMmaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getResult().getType();
    SmemTileType kTile = op.getK().getType();
    SwizzledLayout kLayout(kTile);
    int64_t mTiles = acc.getMTiles(), nTiles = acc.getNTiles();
    int64_t kSlices = kTile.getCols() / 16;
    Type elementType = kTile.getElementType();

    std::optional<AFragments> q;
    if (auto tile = dyn_cast<SmemTileType>(op.getQ().getType()))
      q.emplace(e, tile, adaptor.getQ(), acc.getRowsPerWarp());
    else
      q.emplace(e, adaptor.getQ(), kSlices);
    Value lane = e.lane();
    Value kRowInTile = e.band(lane, e.i32(7));
    Value kTileRow = e.shl(e.shr(lane, 4), 3);
    Value kLaneRow = e.add(kRowInTile, kTileRow);
    Value kHalf = e.shr(lane, 3);
    Value kLaneUnit = e.band(kHalf, e.i32(1));
    LdmatrixAddressing kAddr(e, kLayout, adaptor.getK(), Value(), kLaneRow,
                             kLaneUnit);

    Value zero = e.f32(0.0);
    SmallVector<Value> s(acc.getValuesPerThread(), zero);
    for (int64_t kk = 0; kk < kSlices; ++kk) {
      SmallVector<std::array<Value, 4>> a;
      for (int64_t mt = 0; mt < mTiles; ++mt)
        a.push_back(q->get(e, mt, kk));
      SmallVector<std::array<Value, 2>> bFrags;
      for (int64_t np = 0; np < nTiles / 2; ++np) {
        auto r = e.ldmatrixX4(kAddr.address(e, 16 * np, 2 * kk),
                              /*transpose=*/false);
        bFrags.push_back({r[0], r[1]});
        bFrags.push_back({r[2], r[3]});
      }
      for (int64_t mt = 0; mt < mTiles; ++mt) {
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          int64_t base = 4 * (mt * nTiles + nt);
          auto d = e.mma(elementType, a[mt], bFrags[nt],
                         ArrayRef<Value>(s).slice(base, 4));
          llvm::copy(d, s.begin() + base);
        }
      }
    }
    rewriter.replaceOp(op, e.pack(s));
    return success();
  }
};

/// Lane l's value (mt, nt, c) is query row + w*Mw + 16 mt + g + 8 (c / 2) and
/// key col + 8 nt + 2q + c % 2. Per row slot, the first masked local column
/// is lim = min(limit - col, [causal] query + offset + 1 - col) - 2q, so each
/// value needs one compare with a constant and one select.
struct MaskOpLowering : OpConversionPattern<MaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getScores().getType();
    int64_t mTiles = acc.getMTiles(), nTiles = acc.getNTiles();
    Value lane = e.lane(), warp = e.warp();
    Value g = e.shr(lane, 2), twoQ = e.shl(e.band(lane, e.i32(3)), 1);
    // Keys are valid while local column < limit - col.
    Value keyLimit = e.sub(e.sub(adaptor.getLimit(), adaptor.getCol()), twoQ);
    Value query0 = e.add(adaptor.getRow(),
                         e.add(e.mul(warp, e.i32(acc.getRowsPerWarp())), g));
    Value negInf = e.negInf();
    SmallVector<Value> s = e.unpack(adaptor.getScores());
    for (int64_t mt = 0; mt < mTiles; ++mt) {
      for (int64_t h = 0; h < 2; ++h) {
        Value lim = keyLimit;
        if (Value offset = adaptor.getCausalOffset()) {
          // Causal: key <= query + offset, so local column <
          // query + offset + 1 - col.
          Value query = e.add(query0, e.i32(16 * mt + 8 * h));
          Value shifted = e.add(query, offset);
          Value lastKey = e.add(shifted, e.i32(1));
          Value causalLim =
              e.sub(e.sub(lastKey, adaptor.getCol()), twoQ);
          lim = e.minS(lim, causalLim);
        }
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          for (int64_t c = 2 * h; c < 2 * h + 2; ++c) {
            int64_t local = 8 * nt + (c % 2);
            Value keep = e.cmp(arith::CmpIPredicate::slt, e.i32(local), lim);
            Value &v = s[4 * (mt * nTiles + nt) + c];
            v = e.select(keep, v, negInf);
          }
        }
      }
    }
    rewriter.replaceOp(op, e.pack(s));
    return success();
  }
};

/// Row slot index of C value c of m-tile mt: rows g (c < 2) and g + 8.
static int64_t rowSlot(int64_t mt, int64_t c) { return 2 * mt + c / 2; }

struct OnlineSoftmaxOpLowering : OpConversionPattern<OnlineSoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OnlineSoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getScores().getType();
    int64_t mTiles = acc.getMTiles(), nTiles = acc.getNTiles();
    Value scale = adaptor.getScaleLog2();
    SmallVector<Value> s = e.unpack(adaptor.getScores());
    SmallVector<Value> m = e.unpack(adaptor.getMax());
    SmallVector<Value> l = e.unpack(adaptor.getSum());
    SmallVector<Value> corr(m.size());
    Value zero = e.f32(0.0), negInf = e.negInf();

    for (int64_t mt = 0; mt < mTiles; ++mt) {
      for (int64_t h = 0; h < 2; ++h) {
        int64_t slot = 2 * mt + h;
        auto value = [&](int64_t nt, int64_t c) -> Value & {
          return s[4 * (mt * nTiles + nt) + 2 * h + c];
        };
        // m' = max(m, rowmax(S)) over the quad holding the row.
        Value rowMax = value(0, 0);
        for (int64_t nt = 0; nt < nTiles; ++nt)
          for (int64_t c = 0; c < 2; ++c)
            if (nt || c)
              rowMax = e.fmax(rowMax, value(nt, c));
        Value newMax = e.fmax(m[slot], e.quadMax(rowMax));
        // base = m' * s, or 0 while the row has seen no key, so that
        // exp2(-inf - base) = 0 instead of NaN.
        Value noKey = arith::CmpFOp::create(
            rewriter, op.getLoc(), arith::CmpFPredicate::OEQ, newMax, negInf);
        Value base = e.select(noKey, zero, e.fmul(newMax, scale));
        Value negBase = e.fneg(base);
        // corr = exp2(m * s - base)
        corr[slot] = e.exp2(e.fma(m[slot], scale, negBase));
        // P = exp2(S * s - base); l' = l * corr + rowsum(P)
        Value rowSum;
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          for (int64_t c = 0; c < 2; ++c) {
            Value &v = value(nt, c);
            v = e.exp2(e.fma(v, scale, negBase));
            rowSum = rowSum ? e.fadd(rowSum, v) : v;
          }
        }
        l[slot] = e.fma(l[slot], corr[slot], rowSum);
        m[slot] = newMax;
      }
    }
    rewriter.replaceOp(op, {e.pack(s), e.pack(m), e.pack(l), e.pack(corr)});
    return success();
  }
};

struct RescaleOpLowering : OpConversionPattern<RescaleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RescaleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getAcc().getType();
    int64_t nTiles = acc.getNTiles();
    SmallVector<Value> o = e.unpack(adaptor.getAcc());
    SmallVector<Value> factor = e.unpack(adaptor.getFactor());
    for (int64_t i = 0, n = o.size(); i < n; ++i)
      o[i] = e.fmul(o[i], factor[rowSlot(i / 4 / nTiles, i % 4)]);
    rewriter.replaceOp(op, e.pack(o));
    return success();
  }
};

/// O += P V, P as A fragments in registers. V (keys x Dv, row-major) feeds
/// the `col` B operand through ldmatrix.trans: lane l points at key row
/// l % 8 + 8 * ((l / 8) % 2), column 8 * (l / 16), which yields b0, b1 of
/// two adjacent n8 tiles of Dv.
struct PVMmaOpLowering : OpConversionPattern<PVMmaOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PVMmaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AFragType pType = op.getProbs().getType();
    AccTileType oType = op.getAcc().getType();
    SmemTileType vTile = op.getV().getType();
    SwizzledLayout vLayout(vTile);
    Type elementType = vTile.getElementType();
    int64_t mTiles = pType.getMTiles(), kSlices = pType.getKSlices();
    int64_t oTiles = oType.getNTiles();

    Value lane = e.lane();
    Value vRowInTile = e.band(lane, e.i32(7));
    Value vHalf = e.shr(lane, 3);
    Value vTileRow = e.shl(e.band(vHalf, e.i32(1)), 3);
    Value vLaneRow = e.add(vRowInTile, vTileRow);
    Value vLaneUnit = e.shr(lane, 4);
    LdmatrixAddressing vAddr(e, vLayout, adaptor.getV(), Value(), vLaneRow,
                             vLaneUnit);

    AFragments p(e, adaptor.getProbs(), kSlices);
    SmallVector<Value> o = e.unpack(adaptor.getAcc());
    for (int64_t ks = 0; ks < kSlices; ++ks) {
      SmallVector<std::array<Value, 2>> bFrags;
      for (int64_t dp = 0; dp < oTiles / 2; ++dp) {
        auto r = e.ldmatrixX4(vAddr.address(e, 16 * ks, 2 * dp),
                              /*transpose=*/true);
        bFrags.push_back({r[0], r[1]});
        bFrags.push_back({r[2], r[3]});
      }
      for (int64_t mt = 0; mt < mTiles; ++mt) {
        std::array<Value, 4> a = p.get(e, mt, ks);
        for (int64_t dt = 0; dt < oTiles; ++dt) {
          int64_t base = 4 * (mt * oTiles + dt);
          auto d = e.mma(elementType, a, bFrags[dt],
                         ArrayRef<Value>(o).slice(base, 4));
          llvm::copy(d, o.begin() + base);
        }
      }
    }
    rewriter.replaceOp(op, e.pack(o));
    return success();
  }
};

struct FinalizeOpLowering : OpConversionPattern<FinalizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FinalizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getAcc().getType();
    int64_t nTiles = acc.getNTiles();
    Location loc = op.getLoc();
    SmallVector<Value> o = e.unpack(adaptor.getAcc());
    SmallVector<Value> m = e.unpack(adaptor.getMax());
    SmallVector<Value> l = e.unpack(adaptor.getSum());
    SmallVector<Value> inv(l.size()), lse(l.size());
    Value zero = e.f32(0.0), one = e.f32(1.0), negInf = e.negInf();
    Value ln2 = e.f32(0.6931471805599453);
    for (size_t slot = 0; slot < l.size(); ++slot) {
      // The lanes of a quad hold partial sums of the same row.
      Value sum = e.quadSum(l[slot]);
      Value empty = arith::CmpFOp::create(
          rewriter, loc, arith::CmpFPredicate::OEQ, sum, zero);
      Value safeSum = e.select(empty, one, sum);
      // O = O / l; a row that saw no key gets O = 0.
      inv[slot] = e.select(empty, zero,
                           arith::DivFOp::create(rewriter, loc, one, safeSum));
      // LSE = (m * s + log2(l)) * ln 2, or -inf.
      Value lse2 = e.fma(m[slot], adaptor.getScaleLog2(), e.log2(safeSum));
      lse[slot] = e.select(empty, negInf, e.fmul(lse2, ln2));
    }
    for (int64_t i = 0, n = o.size(); i < n; ++i)
      o[i] = e.fmul(o[i], inv[rowSlot(i / 4 / nTiles, i % 4)]);
    rewriter.replaceOp(op, {e.pack(o), e.pack(lse)});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Stores
//===----------------------------------------------------------------------===//

/// Lane l stores (row g + 8h, columns 8 nt + 2q, +1) of each fragment as one
/// 32-bit store; a quad covers 16 contiguous bytes of a row.
struct StoreTileOpLowering : OpConversionPattern<StoreTileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(StoreTileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Location loc = op.getLoc();
    AccTileType acc = op.getTile().getType();
    int64_t mTiles = acc.getMTiles(), nTiles = acc.getNTiles();
    Type elementType = op.getElementType();
    Value lane = e.lane(), warp = e.warp();
    Value g = e.shr(lane, 2), twoQ = e.shl(e.band(lane, e.i32(3)), 1);
    Value row0 = e.add(adaptor.getRow(),
                       e.add(e.mul(warp, e.i32(acc.getRowsPerWarp())), g));
    SmallVector<Value> o = e.unpack(adaptor.getTile());
    for (int64_t mt = 0; mt < mTiles; ++mt) {
      for (int64_t h = 0; h < 2; ++h) {
        Value row = e.add(row0, e.i32(16 * mt + 8 * h));
        SmallVector<Value> packed;
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          int64_t i = 4 * (mt * nTiles + nt) + 2 * h;
          packed.push_back(e.packPair(o[i], o[i + 1], elementType));
        }
        Value inBounds =
            e.cmp(arith::CmpIPredicate::slt, row, adaptor.getLimit());
        Value rowPtr = e.gepElements(
            adaptor.getBase(), elementType,
            e.add(e.mul(row, adaptor.getStride()), twoQ));
        scf::IfOp::create(rewriter, loc, inBounds,
                          [&](OpBuilder &b, Location) {
                            Emitter inner(b, loc);
                            for (int64_t nt = 0; nt < nTiles; ++nt) {
                              Value ptr = inner.gepElements(
                                  rowPtr, elementType, inner.i32(8 * nt));
                              LLVM::StoreOp::create(b, loc, packed[nt], ptr,
                                                    /*alignment=*/4);
                            }
                            scf::YieldOp::create(b, loc);
                          });
      }
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct StoreRowsOpLowering : OpConversionPattern<StoreRowsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(StoreRowsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Location loc = op.getLoc();
    RowStatsType rows = op.getValues().getType();
    Value lane = e.lane(), warp = e.warp();
    Value g = e.shr(lane, 2);
    Value quadLane = e.band(lane, e.i32(3));
    Value leader = e.cmp(arith::CmpIPredicate::eq, quadLane, e.i32(0));
    Value row0 = e.add(adaptor.getRow(),
                       e.add(e.mul(warp, e.i32(rows.getRows() /
                                               rows.getWarps())),
                             g));
    SmallVector<Value> values = e.unpack(adaptor.getValues());
    for (int64_t slot = 0, n = values.size(); slot < n; ++slot) {
      Value row = e.add(row0, e.i32(16 * (slot / 2) + 8 * (slot % 2)));
      Value write = arith::AndIOp::create(
          rewriter, loc, leader,
          e.cmp(arith::CmpIPredicate::slt, row, adaptor.getLimit()));
      Value ptr = e.gepElements(adaptor.getBase(), rewriter.getF32Type(), row);
      scf::IfOp::create(rewriter, loc, write, [&](OpBuilder &b, Location) {
        LLVM::StoreOp::create(b, loc, values[slot], ptr, /*alignment=*/4);
        scf::YieldOp::create(b, loc);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct ConvertFA4ToNVVMPass final
    : fa4::impl::ConvertFA4ToNVVMPassBase<ConvertFA4ToNVVMPass> {
  using Base::Base;

  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);

    // One dynamic shared-memory array per module: `.extern .shared .align
    // 1024 .b8 fa4_smem[]`, sized at launch.
    if (!module.lookupSymbol(kSharedMemorySymbol)) {
      b.setInsertionPointToStart(module.getBody());
      LLVM::GlobalOp::create(
          b, module.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), 0),
          /*isConstant=*/false, LLVM::Linkage::External, kSharedMemorySymbol,
          Attribute(), /*alignment=*/1024, /*addrSpace=*/3);
    }

    TypeConverter converter;
    converter.addConversion([](Type type) { return type; });
    populateFA4ToNVVMTypeConversions(converter);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<FA4Dialect>();
    target.addLegalDialect<arith::ArithDialect, gpu::GPUDialect,
                           LLVM::LLVMDialect, NVVM::NVVMDialect,
                           vector::VectorDialect>();
    RewritePatternSet patterns(ctx);
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                         target);
    populateFA4ToNVVMConversionPatterns(converter, patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    // Launch bounds: exactly the threads the tile configuration uses
    // (`.reqntid`; known_block_size would become the weaker `.maxntid`).
    for (auto func : module.getOps<gpu::GPUFuncOp>()) {
      if (DenseI32ArrayAttr size = func.getKnownBlockSizeAttr()) {
        func->setAttr("nvvm.reqntid", size);
        func.removeKnownBlockSizeAttr();
      }
    }
  }
};

} // namespace

void fa4::populateFA4ToNVVMTypeConversions(TypeConverter &converter) {
  converter.addConversion([](AccTileType type) -> Type {
    return VectorType::get({type.getValuesPerThread()}, type.getElementType());
  });
  converter.addConversion([](RowStatsType type) -> Type {
    return VectorType::get({type.getValuesPerThread()},
                           Float32Type::get(type.getContext()));
  });
  converter.addConversion([](AFragType type) -> Type {
    return VectorType::get({type.getRegistersPerThread()},
                           IntegerType::get(type.getContext(), 32));
  });
  converter.addConversion([](MBarriersType type) -> Type {
    return LLVM::LLVMPointerType::get(type.getContext(), 3);
  });
  converter.addConversion([](SmemTileType type) -> Type {
    return LLVM::LLVMPointerType::get(type.getContext(), 3);
  });
}

void fa4::populateFA4ToNVVMConversionPatterns(const TypeConverter &converter,
                                              RewritePatternSet &patterns) {
  patterns.add<ScopeOpLowering, SmemBufferOpLowering, LoadTileOpLowering,
               CommitLoadsOpLowering, WaitLoadsOpLowering, SplatOpLowering,
               LoadAOpLowering, PackAOpLowering, QKMmaOpLowering,
               WarpSpecializeOpLowering, SmemBarriersOpLowering,
               BarrierInitOpLowering, BarrierArriveTxOpLowering,
               BarrierArriveOpLowering, BarrierWaitOpLowering,
               TmaLoadOpLowering, MaskOpLowering, OnlineSoftmaxOpLowering,
               RescaleOpLowering, PVMmaOpLowering, FinalizeOpLowering,
               StoreTileOpLowering, StoreRowsOpLowering>(
      converter, patterns.getContext());
}
