//===- Loads.cpp - global-to-shared loads and A-fragment reads ------------===//
//
// cp.async tile copies (contiguous and paged rows), their commit / wait
// groups, TMA tile loads, and the ldmatrix read of a tile's A fragments.
//
//===----------------------------------------------------------------------===//

#include "Layouts.h"
#include "Patterns.h"
#include "WarpGemm.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::fa4;

namespace {

/// How the threads of a CTA split a tile copy. In a chunk of W 16-byte units
/// per row, thread t copies unit t % W of rows t / W + i * (T / W): W
/// consecutive threads read one contiguous 64- or 128-byte row segment
/// (coalesced), and because T / W is a multiple of 8 every row a thread
/// copies has the same swizzle, so its shared-memory addresses differ by
/// constants only (checkCpAsyncCopy states the rule). A tile shorter than
/// one pass (32 K rows at D = 224: 64 rows per pass) is copied in one pass
/// by the threads whose row lies in it; the others copy nothing.
struct CopyPlan {
  SwizzledLayout layout;
  int64_t rows, rowsPerPass, passes, chunks, elementsPerUnit;
  // Per thread: its row and unit within a pass, and its shared address of
  // (row, unit) in chunk 0 (passes and chunks add constants).
  Value laneRow, laneUnit, threadDest;

  CopyPlan(Emitter &e, SmemTileType tile, int64_t threads, Value dest)
      : layout(tile), rows(tile.getRows()),
        rowsPerPass(threads / layout.unitsPerChunk),
        passes(std::max<int64_t>(rows / rowsPerPass, 1)),
        chunks(tile.getCols() / layout.chunkCols),
        elementsPerUnit(16 / layout.elementBytes) {
    Value tid = e.tid();
    laneRow = e.divU(tid, layout.unitsPerChunk);
    laneUnit = e.remU(tid, layout.unitsPerChunk);
    Value destRow = e.mul(laneRow, e.i32(layout.rowBytes));
    Value destUnit = e.shl(e.bxor(laneUnit, layout.swizzle(e, laneRow)), 4);
    threadDest = e.gepBytes(dest, e.add(destRow, destUnit));
  }

  /// Emits `copy` for the threads that copy: all of them, or for a tile
  /// shorter than a pass, those whose row is in it.
  void forCopyingThreads(Emitter &e, llvm::function_ref<void()> copy) const {
    OpBuilder &b = e.b;
    if (rows >= rowsPerPass)
      return copy();
    Value copies = e.cmp(arith::CmpIPredicate::ult, laneRow, e.i32(rows));
    auto branch = scf::IfOp::create(b, e.loc, copies, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(branch.thenBlock()->getTerminator());
    copy();
  }

  /// The shared address of pass `i`, chunk `c`.
  Value dest(Emitter &e, int64_t c, int64_t i) const {
    return e.gepBytes(threadDest, e.i32(c * layout.chunkBytes +
                                        i * rowsPerPass * layout.rowBytes));
  }
};

/// Checks the copy can be spread over the kernel's threads; the rule is the
/// one the tile configuration was checked against.
static FailureOr<int64_t> getCopyThreads(Operation *op, SmemTileType tile) {
  FailureOr<int64_t> threads = getNumThreads(op);
  if (failed(threads))
    return failure();
  int64_t elementBytes = tile.getElementType().getIntOrFloatBitWidth() / 8;
  if (std::string problem = checkCpAsyncCopy(tile.getRows(), tile.getCols(),
                                             elementBytes, *threads);
      !problem.empty())
    return op->emitOpError() << "a " << tile.getRows() << "x" << tile.getCols()
                             << " tile " << problem;
  return *threads;
}

/// Rows at or past the limit get a zero source size: cp.async fills them
/// with zeros without reading memory, which keeps P = 0 times V finite for
/// the ragged last block.
struct LoadTileOpLowering : OpConversionPattern<LoadTileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LoadTileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmemTileType tile = op.getDest().getType();
    FailureOr<int64_t> threads = getCopyThreads(op, tile);
    if (failed(threads))
      return failure();
    Emitter e(rewriter, op.getLoc());
    CopyPlan plan(e, tile, *threads, adaptor.getDest());
    Type elementType = tile.getElementType();
    // Global: element (row + laneRow, laneUnit * 8).
    Value firstRow = e.add(adaptor.getRow(), plan.laneRow);
    Value sourceColumn = e.mul(plan.laneUnit, e.i32(plan.elementsPerUnit));
    Value group = adaptor.getGroup();
    // Grouped rows (GQA packing): row r at (r / g) * stride + (r % g) *
    // head_stride, one 64-bit address per pass (Q, once per CTA).
    auto groupedRow = [&](Value r) {
      Value query = arith::DivUIOp::create(rewriter, op.getLoc(), r, group);
      Value head = arith::RemUIOp::create(rewriter, op.getLoc(), r, group);
      Type i64 = rewriter.getI64Type();
      Value rowOffset = arith::ExtUIOp::create(
          rewriter, op.getLoc(), i64, e.mul(query, adaptor.getStride()));
      Value headOffset = arith::MulIOp::create(
          rewriter, op.getLoc(),
          arith::ExtUIOp::create(rewriter, op.getLoc(), i64, head),
          adaptor.getHeadStride());
      Value offset =
          arith::AddIOp::create(rewriter, op.getLoc(), rowOffset, headOffset);
      Value rowBase = LLVM::GEPOp::create(
          rewriter, op.getLoc(), adaptor.getBase().getType(), elementType,
          adaptor.getBase(), ValueRange{offset});
      return e.gepElements(rowBase, elementType, sourceColumn);
    };
    Value threadSource;
    if (!group) {
      Value sourceRow = e.mul(firstRow, adaptor.getStride());
      threadSource = e.gepElements(adaptor.getBase(), elementType,
                                   e.add(sourceRow, sourceColumn));
    }
    // Pass i is in bounds iff i * rowsPerPass < limit - (row + laneRow).
    Value rowsLeft = e.sub(adaptor.getLimit(), firstRow);
    Value passStride = e.mul(adaptor.getStride(), e.i32(plan.rowsPerPass));
    plan.forCopyingThreads(e, [&] {
      for (int64_t c = 0; c < plan.chunks; ++c) {
        for (int64_t i = 0; i < plan.passes; ++i) {
          Value dest = plan.dest(e, c, i);
          Value chunkOffset = e.i32(c * plan.layout.chunkCols);
          Value source;
          if (group) {
            // Rows past the limit copy zeros; their address stays in row 0.
            Value r = e.add(firstRow, e.i32(i * plan.rowsPerPass));
            Value inside =
                e.cmp(arith::CmpIPredicate::slt, r, adaptor.getLimit());
            source = e.gepElements(groupedRow(e.select(inside, r, e.i32(0))),
                                   elementType, chunkOffset);
          } else {
            Value passOffset = e.mul(passStride, e.i32(i));
            source = e.gepElements(threadSource, elementType,
                                   e.add(passOffset, chunkOffset));
          }
          Value inBounds = e.cmp(arith::CmpIPredicate::slt,
                                 e.i32(i * plan.rowsPerPass), rowsLeft);
          Value full = e.i32(16);
          Value bytes = e.select(inBounds, full, e.i32(0));
          NVVM::CpAsyncOp::create(rewriter, op.getLoc(), dest, source, 16,
                                  NVVM::LoadCacheModifierKind::CG, bytes);
        }
      }
    });
    rewriter.eraseOp(op);
    return success();
  }
};

/// Row r is row r % page_size of page table[r / page_size]. Each thread
/// looks up the page of each row it copies, once for all column chunks;
/// rows at or past the limit read no table entry (row 0's stands in) and
/// copy zeros, and a page index outside [0, num_pages) is clamped into it.
struct LoadPagedTileOpLowering : OpConversionPattern<LoadPagedTileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LoadPagedTileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmemTileType tile = op.getDest().getType();
    FailureOr<int64_t> threads = getCopyThreads(op, tile);
    if (failed(threads))
      return failure();
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    CopyPlan plan(e, tile, *threads, adaptor.getDest());
    Type elementType = tile.getElementType();
    Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    Value firstRow = e.add(adaptor.getRow(), plan.laneRow);
    Value rowsLeft = e.sub(adaptor.getLimit(), firstRow);
    Value sourceColumn = e.mul(plan.laneUnit, e.i32(plan.elementsPerUnit));
    Value lastPage = e.sub(adaptor.getNumPages(), e.i32(1));
    plan.forCopyingThreads(e, [&] {
      for (int64_t i = 0; i < plan.passes; ++i) {
        Value inBounds = e.cmp(arith::CmpIPredicate::slt,
                               e.i32(i * plan.rowsPerPass), rowsLeft);
        Value row = e.add(firstRow, e.i32(i * plan.rowsPerPass));
        Value lookup = e.select(inBounds, row, e.i32(0));
        // lookup / page_size by the runtime's reciprocal: one mul.hi, one
        // shift.
        auto wide = arith::MulUIExtendedOp::create(rewriter, loc, lookup,
                                                   adaptor.getPageMagic());
        Value pageIndex = arith::ShRUIOp::create(rewriter, loc, wide.getHigh(),
                                                 adaptor.getPageShift());
        Value inPage = e.sub(lookup, e.mul(pageIndex, adaptor.getPageSize()));
        Value entry = e.gepElements(adaptor.getTable(), i32, pageIndex);
        Value page = LLVM::LoadOp::create(rewriter, loc, i32, entry,
                                          /*alignment=*/4);
        page = arith::MinUIOp::create(rewriter, loc, page, lastPage);
        Value page64 = arith::ExtUIOp::create(rewriter, loc, i64, page);
        Value pageOffset = arith::MulIOp::create(rewriter, loc, page64,
                                                 adaptor.getPageStride());
        Value inPageOffset =
            e.add(e.mul(inPage, adaptor.getStride()), sourceColumn);
        Value inPage64 =
            arith::ExtUIOp::create(rewriter, loc, i64, inPageOffset);
        Value offset =
            arith::AddIOp::create(rewriter, loc, pageOffset, inPage64);
        Value rowSource = e.gepElements(adaptor.getBase(), elementType, offset);
        Value full = e.i32(16);
        Value bytes = e.select(inBounds, full, e.i32(0));
        for (int64_t c = 0; c < plan.chunks; ++c) {
          Value dest = plan.dest(e, c, i);
          Value source = e.gepElements(rowSource, elementType,
                                       e.i32(c * plan.layout.chunkCols));
          NVVM::CpAsyncOp::create(rewriter, loc, dest, source, 16,
                                  NVVM::LoadCacheModifierKind::CG, bytes);
        }
      }
    });
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
    Value bar = e.gepBytes(adaptor.getBarriers(),
                           e.shl(adaptor.getIndex(),
                                 llvm::Log2_64(kMBarrierBytes)));
    for (int64_t c = 0; c < chunks; ++c) {
      Value dst = e.gepBytes(adaptor.getDest(), e.i32(c * layout.chunkBytes));
      SmallVector<Value> coords = {e.i32(c * layout.chunkCols),
                                   adaptor.getRow(), adaptor.getHead(),
                                   adaptor.getBatch()};
      NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
          rewriter, loc, dst, adaptor.getDesc(), coords, bar,
          /*im2colOffsets=*/ValueRange(), /*multicastMask=*/Value(),
          /*l2CacheHint=*/Value(), NVVM::TMALoadMode::TILE,
          /*isCTAOnly=*/true, /*group=*/nullptr, /*predicate=*/Value());
    }
    rewriter.eraseOp(op);
    return success();
  }
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

} // namespace

void fa4::populateLoadPatterns(const TypeConverter &converter,
                               RewritePatternSet &patterns) {
  patterns.add<LoadTileOpLowering, LoadPagedTileOpLowering,
               CommitLoadsOpLowering, WaitLoadsOpLowering,
               TmaLoadOpLowering, LoadAOpLowering>(converter,
                                                   patterns.getContext());
}
