//===- Softmax.cpp - masking, online softmax, rescale, finalize -----------===//
//
// The per-row math of the key loop on C fragments: each lane owns two rows
// per m-tile (g and g + 8) and two adjacent columns per n-tile, so row
// statistics are reduced over the four lanes of a quad (shfl.sync.bfly 1, 2).
//
//===----------------------------------------------------------------------===//

#include "Layouts.h"
#include "Patterns.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"

using namespace mlir;
using namespace mlir::fa4;

namespace {

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

/// Lane l's value (mt, nt, c) is query row + w*Mw + 16 mt + g + 8 (c / 2) and
/// key col + 8 nt + 2q + c % 2. Per row slot, the first masked local column
/// is hi = min(limit - col, [diag_max] query + diag_max + 1 - col) - 2q and
/// [diag_min] the first visible one lo = query + diag_min - col - 2q, so
/// each value needs one compare with a constant (two with diag_min) and one
/// select.
struct MaskOpLowering : OpConversionPattern<MaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getScores().getType();
    FragmentLayout layout = FragmentLayout::of(acc);
    Value lane = e.lane(), warp = e.warp();
    auto [g, twoQ] = FragmentLayout::laneCoordinates(e, lane);
    // Keys are valid while local column < limit - col.
    Value keyLimit = e.sub(e.sub(adaptor.getLimit(), adaptor.getCol()), twoQ);
    Value query0 = e.add(adaptor.getRow(),
                         e.add(e.mul(warp, e.i32(acc.getRowsPerWarp())), g));
    Value negInf = e.negInf();
    SmallVector<Value> s = e.unpack(adaptor.getScores());
    for (int64_t mt = 0; mt < layout.mTiles; ++mt) {
      for (int64_t h = 0; h < 2; ++h) {
        Value query = e.add(query0, e.i32(FragmentLayout::slotRow(2 * mt + h)));
        // GQA packing: tile row p is query p / g.
        if (Value group = adaptor.getGroup())
          query = arith::DivUIOp::create(rewriter, op.getLoc(), query, group);
        // Local column bound relative to this lane's first column. (An
        // init-capture: capturing a structured binding is C++20.)
        auto local = [&, twoQ = twoQ](Value key) {
          return e.sub(e.sub(key, adaptor.getCol()), twoQ);
        };
        Value hi = keyLimit;
        if (Value diagMax = adaptor.getDiagMax()) {
          // key <= query + diag_max: local column < query + diag_max + 1 - col.
          Value lastKey = e.add(e.add(query, diagMax), e.i32(1));
          hi = e.minS(hi, local(lastKey));
        }
        Value lo;
        if (Value diagMin = adaptor.getDiagMin())
          lo = local(e.add(query, diagMin));
        for (int64_t nt = 0; nt < layout.nTiles; ++nt) {
          for (int64_t c = 2 * h; c < 2 * h + 2; ++c) {
            Value column = e.i32(FragmentLayout::column(nt, c));
            Value keep = e.cmp(arith::CmpIPredicate::slt, column, hi);
            if (lo)
              keep = e.band(keep, e.cmp(arith::CmpIPredicate::sge, column, lo));
            Value &v = s[layout.index(mt, nt, c)];
            v = e.select(keep, v, negInf);
          }
        }
      }
    }
    rewriter.replaceOp(op, e.pack(s));
    return success();
  }
};

/// Per row slot, the distance's f32 base query + diag - col - 2q; per value
/// |base - column| (column a constant of the layout), then an FMA with the
/// slope.
struct AlibiOpLowering : OpConversionPattern<AlibiOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AlibiOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Emitter e(rewriter, loc);
    AccTileType acc = op.getScores().getType();
    FragmentLayout layout = FragmentLayout::of(acc);
    Value lane = e.lane(), warp = e.warp();
    auto [g, twoQ] = FragmentLayout::laneCoordinates(e, lane);
    Value query0 = e.add(adaptor.getRow(),
                         e.add(e.mul(warp, e.i32(acc.getRowsPerWarp())), g));
    // query + diag - (col + 2q), the distance to this lane's first column.
    Value shift = e.sub(e.sub(adaptor.getDiag(), adaptor.getCol()), twoQ);
    Type f32 = rewriter.getF32Type();
    SmallVector<Value> s = e.unpack(adaptor.getScores());
    for (int64_t mt = 0; mt < layout.mTiles; ++mt) {
      for (int64_t h = 0; h < 2; ++h) {
        Value query = e.add(query0, e.i32(FragmentLayout::slotRow(2 * mt + h)));
        Value base = arith::SIToFPOp::create(rewriter, loc, f32,
                                             e.add(query, shift));
        for (int64_t nt = 0; nt < layout.nTiles; ++nt) {
          for (int64_t c = 2 * h; c < 2 * h + 2; ++c) {
            Value column = e.f32(static_cast<double>(FragmentLayout::column(nt, c)));
            Value distance = e.fabs(e.fsub(base, column));
            Value &v = s[layout.index(mt, nt, c)];
            v = e.fma(adaptor.getSlope(), distance, v);
          }
        }
      }
    }
    rewriter.replaceOp(op, e.pack(s));
    return success();
  }
};

/// tanh(pre * x) per value: a multiply and tanh.approx.f32, one MUFU op
/// (the softmax's exp2 is the other). Measured on the H200 (bench/RESULTS.md,
/// run 20): the exact-to-2^-22 form 1 - 2 / (exp2(2 log2(e) pre x) + 1)
/// takes two MUFU ops and cost 1.36x the plain kernel at d = 64; this one
/// passes the same correctness rule (FlashAttention-2 uses it too).
struct SoftcapOpLowering : OpConversionPattern<SoftcapOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftcapOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    SmallVector<Value> s = e.unpack(adaptor.getScores());
    Value on = adaptor.getOn();
    for (Value &v : s) {
      Value capped = e.tanh(e.fmul(v, adaptor.getPre()));
      v = on ? LLVM::SelectOp::create(rewriter, op.getLoc(), on, capped, v)
                   .getResult()
             : capped;
    }
    rewriter.replaceOp(op, e.pack(s));
    return success();
  }
};

struct OnlineSoftmaxOpLowering : OpConversionPattern<OnlineSoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OnlineSoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    FragmentLayout layout = FragmentLayout::of(op.getScores().getType());
    Value scale = adaptor.getScaleLog2();
    SmallVector<Value> s = e.unpack(adaptor.getScores());
    SmallVector<Value> m = e.unpack(adaptor.getMax());
    SmallVector<Value> l = e.unpack(adaptor.getSum());
    SmallVector<Value> corr(m.size());
    Value zero = e.f32(0.0), negInf = e.negInf();

    for (int64_t mt = 0; mt < layout.mTiles; ++mt) {
      for (int64_t h = 0; h < 2; ++h) {
        int64_t slot = FragmentLayout::rowSlot(mt, 2 * h);
        auto value = [&](int64_t nt, int64_t c) -> Value & {
          return s[layout.index(mt, nt, 2 * h + c)];
        };
        // m' = max(m, rowmax(S)) over the quad holding the row.
        Value rowMax = value(0, 0);
        for (int64_t nt = 0; nt < layout.nTiles; ++nt)
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
        for (int64_t nt = 0; nt < layout.nTiles; ++nt) {
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
    FragmentLayout layout = FragmentLayout::of(op.getAcc().getType());
    SmallVector<Value> o = e.unpack(adaptor.getAcc());
    SmallVector<Value> factor = e.unpack(adaptor.getFactor());
    for (int64_t i = 0, n = o.size(); i < n; ++i)
      o[i] = e.fmul(o[i],
                    factor[FragmentLayout::rowSlot(layout.mTileOf(i), i % 4)]);
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
    FragmentLayout layout = FragmentLayout::of(op.getAcc().getType());
    Location loc = op.getLoc();
    SmallVector<Value> o = e.unpack(adaptor.getAcc());
    SmallVector<Value> m = e.unpack(adaptor.getMax());
    SmallVector<Value> l = e.unpack(adaptor.getSum());
    SmallVector<Value> inv(l.size()), lse(l.size());
    Value zero = e.f32(0.0), one = e.f32(1.0), negInf = e.negInf();
    Value ln2 = e.f32(0.6931471805599453);
    Value sink = adaptor.getSink();
    for (size_t slot = 0; slot < l.size(); ++slot) {
      // The lanes of a quad hold partial sums of the same row.
      Value sum = e.quadSum(l[slot]);
      if (sink) {
        // The sink joins the denominator: mx = max(m2, sink), l' = l *
        // 2^(m2 - mx) + 2^(sink - mx) > 0; O scales by 2^(m2 - mx) / l'.
        Value m2 = e.fmul(m[slot], adaptor.getScaleLog2());
        Value mx = e.fmax(m2, sink);
        Value keep = e.exp2(e.fsub(m2, mx));
        Value total = e.fma(sum, keep, e.exp2(e.fsub(sink, mx)));
        inv[slot] =
            e.fmul(keep, arith::DivFOp::create(rewriter, loc, one, total));
        lse[slot] = e.fmul(e.fadd(mx, e.log2(total)), ln2);
        continue;
      }
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
    // Dropout's 1 / (1 - p) joins the per-row factor: one multiply per row.
    if (Value outScale = adaptor.getOutScale())
      for (Value &factor : inv)
        factor = e.fmul(factor, outScale);
    for (int64_t i = 0, n = o.size(); i < n; ++i)
      o[i] = e.fmul(o[i], inv[FragmentLayout::rowSlot(layout.mTileOf(i), i % 4)]);
    rewriter.replaceOp(op, {e.pack(o), e.pack(lse)});
    return success();
  }
};

} // namespace

void fa4::populateSoftmaxPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns) {
  patterns.add<SplatOpLowering, MaskOpLowering, AlibiOpLowering, SoftcapOpLowering, OnlineSoftmaxOpLowering,
               RescaleOpLowering, FinalizeOpLowering>(converter,
                                                      patterns.getContext());
}
