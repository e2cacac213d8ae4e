//===- Dropout.cpp - fa4.dropout_mask and fa4.dropout: Philox draws ------===//
//
// fa4.dropout_mask: one Philox 4x32-10 call per lane per 16 x 32 block of
// the probabilities gives the lane's sixteen 8-bit draws, compared with the
// keep threshold into one bit each. Integer work only: two 32 x 32 -> 64-bit
// multiplies and four XORs per round, ten rounds. fa4.dropout: one select per
// value on its bit. The bits travel as i32 words bitcast from a vector of i1,
// so when the two ops are adjacent the words fold away and each select takes
// its compare.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "Layouts.h"
#include "Patterns.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"

#include <array>

using namespace mlir;
using namespace mlir::fa4;

namespace {

/// Philox 4x32 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
/// 3", SC'11): the multipliers and the Weyl key increments.
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;
constexpr int kPhiloxRounds = 10;

/// Ten rounds of
///   (hi0, lo0) = M0 * c0, (hi1, lo1) = M1 * c2   (32 x 32 -> 64 bits)
///   c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
/// with the key bumped by (W0, W1) between rounds. `keys` holds the ten
/// round keys (the same for every call of a kernel, so computed once).
std::array<Value, 4> philox(Emitter &e, std::array<Value, 4> c,
                            ArrayRef<std::pair<Value, Value>> keys) {
  Value m0 = e.i32(static_cast<int32_t>(kPhiloxM0));
  Value m1 = e.i32(static_cast<int32_t>(kPhiloxM1));
  for (auto [k0, k1] : keys) {
    auto p0 = arith::MulUIExtendedOp::create(e.b, e.loc, c[0], m0);
    auto p1 = arith::MulUIExtendedOp::create(e.b, e.loc, c[2], m1);
    Value x0 = e.bxor(e.bxor(p1.getHigh(), c[1]), k0);
    Value x2 = e.bxor(e.bxor(p0.getHigh(), c[3]), k1);
    c = {x0, p1.getLow(), x2, p0.getLow()};
  }
  return c;
}

/// Bit of value c of C fragment (mt, nt): the lane's values in row order of
/// the fragments, four per fragment.
int64_t keepBit(const FragmentLayout &layout, int64_t mt, int64_t nt,
                int64_t c) {
  return 4 * (mt * layout.nTiles + nt) + c;
}

/// The lane's keep bits as one i1 per bit: `words` i32s seen as a
/// vector<32 x words x i1> (bit i of word w is element 32 w + i).
VectorType getBitsType(Emitter &e, VectorType words) {
  return VectorType::get({32 * words.getNumElements()}, e.b.getI1Type());
}

struct DropoutMaskOpLowering : OpConversionPattern<DropoutMaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DropoutMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getTile();
    FragmentLayout layout = FragmentLayout::of(acc);
    Value lane = e.lane(), warp = e.warp();
    // The round keys.
    SmallVector<std::pair<Value, Value>> keys = {
        {adaptor.getSeedLo(), adaptor.getSeedHi()}};
    while (keys.size() < static_cast<size_t>(kPhiloxRounds)) {
      auto [k0, k1] = keys.back();
      Value next0 = e.add(k0, e.i32(static_cast<int32_t>(kPhiloxW0)));
      Value next1 = e.add(k1, e.i32(static_cast<int32_t>(kPhiloxW1)));
      keys.push_back({next0, next1});
    }
    // Row block of m-tile 0 (rows of a warp start at a multiple of 16) and
    // counter word 0 of the tile's first 32 columns: 32 (col / 32) + lane.
    Value rowBlock0 = e.shr(
        e.add(adaptor.getRow(), e.mul(warp, e.i32(acc.getRowsPerWarp()))), 4);
    Value word0 = e.add(e.shl(e.shr(adaptor.getCol(), 5), 5), lane);
    // Byte c of a word is below keep exactly when the word shifted left by
    // 24 - 8c is at most keep * 2^24 - 1: no byte extraction. keep is in
    // [1, 256] (the runtime's rule); mod 2^32, 256 gives 0xffffffff, every
    // draw kept.
    Value threshold = e.sub(e.shl(adaptor.getKeep(), 24), e.i32(1));
    // The bit string is built as a vector of i1 bitcast to i32 words, and
    // fa4.dropout bitcasts it back, so next to each other the two fold to
    // the compares. (Words or-ed from shifted bits fold as well, but only
    // partly and through LLVM InstCombine's demanded-bits walk over the or
    // chains: 20-60 ms of compile time per dropout kernel, and a select, an
    // or, an and and a compare left per value in the PTX.)
    VectorType wordsType = op.getBits().getType();
    Value no = arith::ConstantIntOp::create(e.b, e.loc, e.b.getI1Type(), 0);
    SmallVector<Value> bits(getBitsType(e, wordsType).getNumElements(), no);
    for (int64_t mt = 0; mt < layout.mTiles; ++mt) {
      Value rowBlock = e.add(rowBlock0, e.i32(mt));
      for (int64_t nt = 0; nt < layout.nTiles; nt += 4) {
        std::array<Value, 4> counter = {e.add(word0, e.i32(32 * (nt / 4))),
                                        rowBlock, adaptor.getStreamLo(),
                                        adaptor.getStreamHi()};
        std::array<Value, 4> w = philox(e, counter, keys);
        // Fragment nt + t takes word t; its value c takes byte c.
        for (int64_t t = 0; t < 4; ++t) {
          for (int64_t c = 0; c < 4; ++c) {
            Value draw = c == 3 ? w[t] : e.shl(w[t], 24 - 8 * c);
            bits[keepBit(layout, mt, nt + t, c)] =
                e.cmp(arith::CmpIPredicate::ule, draw, threshold);
          }
        }
      }
    }
    Value vec = vector::FromElementsOp::create(e.b, e.loc,
                                               getBitsType(e, wordsType), bits);
    rewriter.replaceOp(op,
                       vector::BitCastOp::create(e.b, e.loc, wordsType, vec));
    return success();
  }
};

struct DropoutOpLowering : OpConversionPattern<DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    FragmentLayout layout = FragmentLayout::of(op.getProbs().getType());
    auto wordsType = cast<VectorType>(adaptor.getBits().getType());
    SmallVector<Value> bits = e.unpack(vector::BitCastOp::create(
        e.b, e.loc, getBitsType(e, wordsType), adaptor.getBits()));
    SmallVector<Value> p = e.unpack(adaptor.getProbs());
    Value zeroF = e.f32(0.0);
    for (int64_t mt = 0; mt < layout.mTiles; ++mt) {
      for (int64_t nt = 0; nt < layout.nTiles; ++nt) {
        for (int64_t c = 0; c < 4; ++c) {
          Value &v = p[layout.index(mt, nt, c)];
          Value dropped =
              op.getNegated() ? arith::NegFOp::create(e.b, e.loc, v) : zeroF;
          v = e.select(bits[keepBit(layout, mt, nt, c)], v, dropped);
        }
      }
    }
    rewriter.replaceOp(op, e.pack(p));
    return success();
  }
};

} // namespace

void fa4::populateDropoutPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns) {
  patterns.add<DropoutMaskOpLowering, DropoutOpLowering>(converter,
                                                         patterns.getContext());
}
