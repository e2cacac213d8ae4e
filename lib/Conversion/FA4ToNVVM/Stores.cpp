//===- Stores.cpp - register tiles and row values to global memory --------===//
//
// The epilogue's stores: an accumulator tile rounded to 16 bits, and one f32
// per row (the LSE), each predicated on the row limit.
//
//===----------------------------------------------------------------------===//

#include "Layouts.h"
#include "Patterns.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::fa4;

namespace {

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
    FragmentLayout layout = FragmentLayout::of(acc);
    Type elementType = op.getElementType();
    Value lane = e.lane(), warp = e.warp();
    auto [g, twoQ] = FragmentLayout::laneCoordinates(e, lane);
    Value row0 = e.add(adaptor.getRow(),
                       e.add(e.mul(warp, e.i32(acc.getRowsPerWarp())), g));
    SmallVector<Value> o = e.unpack(adaptor.getTile());
    for (int64_t mt = 0; mt < layout.mTiles; ++mt) {
      for (int64_t h = 0; h < 2; ++h) {
        Value row = e.add(row0, e.i32(FragmentLayout::slotRow(2 * mt + h)));
        // 16-bit outputs: a pair packed into 32 bits; f32 (split-KV's
        // partials): the pair as one 8-byte vector.
        bool wide = elementType.isF32();
        SmallVector<Value> packed;
        for (int64_t nt = 0; nt < layout.nTiles; ++nt) {
          int64_t i = layout.index(mt, nt, 2 * h);
          if (wide) {
            Value pair = LLVM::PoisonOp::create(
                rewriter, loc, VectorType::get({2}, rewriter.getF32Type()));
            pair = LLVM::InsertElementOp::create(rewriter, loc, pair, o[i],
                                                 e.i32(0));
            pair = LLVM::InsertElementOp::create(rewriter, loc, pair, o[i + 1],
                                                 e.i32(1));
            packed.push_back(pair);
          } else {
            packed.push_back(e.packPair(o[i], o[i + 1], elementType));
          }
        }
        Value inBounds =
            e.cmp(arith::CmpIPredicate::slt, row, adaptor.getLimit());
        Value rowPtr;
        if (Value group = adaptor.getGroup()) {
          // GQA packing: row p is head p % g of sequence row p / g.
          Value query = arith::DivUIOp::create(rewriter, loc, row, group);
          Value head = arith::RemUIOp::create(rewriter, loc, row, group);
          Value headOffset = arith::MulIOp::create(
              rewriter, loc,
              arith::ExtUIOp::create(rewriter, loc, rewriter.getI64Type(),
                                     head),
              adaptor.getHeadStride());
          Value headBase = LLVM::GEPOp::create(
              rewriter, loc, adaptor.getBase().getType(), elementType,
              adaptor.getBase(), ValueRange{headOffset});
          rowPtr =
              e.gepElements(headBase, elementType,
                            e.add(e.mul(query, adaptor.getStride()), twoQ));
        } else {
          rowPtr = e.gepElements(adaptor.getBase(), elementType,
                                 e.add(e.mul(row, adaptor.getStride()), twoQ));
        }
        scf::IfOp::create(rewriter, loc, inBounds, [&](OpBuilder &b, Location) {
          Emitter inner(b, loc);
          for (int64_t nt = 0; nt < layout.nTiles; ++nt) {
            Value ptr = inner.gepElements(rowPtr, elementType,
                                          inner.i32(FragmentLayout::column(nt, 0)));
            LLVM::StoreOp::create(b, loc, packed[nt], ptr,
                                  /*alignment=*/wide ? 8 : 4);
          }
          scf::YieldOp::create(b, loc);
        });
      }
    }
    rewriter.eraseOp(op);
    return success();
  }
};

/// One lane of each quad writes its rows' values.
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
    Value row0 = e.add(
        adaptor.getRow(),
        e.add(e.mul(warp, e.i32(rows.getRows() / rows.getWarps())), g));
    SmallVector<Value> values = e.unpack(adaptor.getValues());
    for (int64_t slot = 0, n = values.size(); slot < n; ++slot) {
      Value row = e.add(row0, e.i32(FragmentLayout::slotRow(slot)));
      Value write = arith::AndIOp::create(
          rewriter, loc, leader,
          e.cmp(arith::CmpIPredicate::slt, row, adaptor.getLimit()));
      Value ptr;
      if (Value group = adaptor.getGroup()) {
        Value query = arith::DivUIOp::create(rewriter, loc, row, group);
        Value head = arith::RemUIOp::create(rewriter, loc, row, group);
        Value headOffset = arith::MulIOp::create(
            rewriter, loc,
            arith::ExtUIOp::create(rewriter, loc, rewriter.getI64Type(), head),
            adaptor.getHeadStride());
        Value headBase = LLVM::GEPOp::create(
            rewriter, loc, adaptor.getBase().getType(), rewriter.getF32Type(),
            adaptor.getBase(), ValueRange{headOffset});
        ptr = e.gepElements(headBase, rewriter.getF32Type(), query);
      } else {
        ptr = e.gepElements(adaptor.getBase(), rewriter.getF32Type(), row);
      }
      scf::IfOp::create(rewriter, loc, write, [&](OpBuilder &b, Location) {
        LLVM::StoreOp::create(b, loc, values[slot], ptr, /*alignment=*/4);
        scf::YieldOp::create(b, loc);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }
};

/// Warp w sets rows from + w, from + w + W, ...; lane l columns l, l + 32,
/// ... of each: plain element stores (a path for bad input, not for speed).
struct FillNaNOpLowering : OpConversionPattern<FillNaNOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FillNaNOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<int64_t> threads = getNumThreads(op);
    if (failed(threads))
      return failure();
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    auto elementType = cast<FloatType>(op.getElementType());
    Value nan = arith::ConstantFloatOp::create(
        rewriter, loc, elementType,
        APFloat::getQNaN(elementType.getFloatSemantics()));
    Value lane = e.lane(), warp = e.warp();
    Value firstRow = e.add(adaptor.getFrom(), warp);
    Value rowStep = e.i32((*threads + 31) / 32);
    Value cols = e.i32(static_cast<int64_t>(op.getCols()));
    Value colStep = e.i32(32);
    scf::ForOp::create(
        rewriter, loc, firstRow, adaptor.getLimit(), rowStep, ValueRange(),
        [&](OpBuilder &b, Location, Value row, ValueRange) {
          Emitter re(b, loc);
          Value rowPtr = re.gepElements(adaptor.getBase(), elementType,
                                        re.mul(row, adaptor.getStride()));
          scf::ForOp::create(
              b, loc, lane, cols, colStep, ValueRange(),
              [&](OpBuilder &cb, Location, Value col, ValueRange) {
                Emitter ce(cb, loc);
                Value ptr = ce.gepElements(rowPtr, elementType, col);
                LLVM::StoreOp::create(cb, loc, nan, ptr);
                scf::YieldOp::create(cb, loc);
              });
          scf::YieldOp::create(b, loc);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void fa4::populateStorePatterns(const TypeConverter &converter,
                                RewritePatternSet &patterns) {
  patterns.add<StoreTileOpLowering, StoreRowsOpLowering, FillNaNOpLowering>(
      converter, patterns.getContext());
}
