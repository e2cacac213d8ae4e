//===- Mma.cpp - the two GEMMs of the key loop and P's repacking ----------===//
//
// fa4.qk_mma and fa4.pv_mma are the one warp GEMM of WarpGemm.h with their
// operands; fa4.pack_a turns the softmax's f32 C fragments into the 16-bit
// A fragments of P V without moving data between lanes.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"
#include "WarpGemm.h"
#include "fa4/Dialect/FA4/IR/FA4Ops.h"

#include <optional>

using namespace mlir;
using namespace mlir::fa4;

namespace {

/// A fragment (mt, j) of P is C fragments (mt, 2j) and (mt, 2j + 1) packed
/// (FragmentLayout::packedSource).
struct PackAOpLowering : OpConversionPattern<PackAOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackAOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    FragmentLayout acc = FragmentLayout::of(op.getAcc().getType());
    AFragType frag = op.getResult().getType();
    Type elementType = frag.getElementType();
    SmallVector<Value> c = e.unpack(adaptor.getAcc());
    SmallVector<Value> regs;
    for (int64_t mt = 0; mt < frag.getMTiles(); ++mt) {
      for (int64_t j = 0; j < frag.getKSlices(); ++j) {
        for (int64_t r = 0; r < 4; ++r) {
          int64_t first = acc.packedSource(mt, j, r);
          regs.push_back(e.packPair(c[first], c[first + 1], elementType));
        }
      }
    }
    rewriter.replaceOp(op, e.pack(regs));
    return success();
  }
};

/// S = Q K^T: A = Q (fragments in registers, or read per k-slice with
/// ldmatrix), B = K whose rows are the n of S.
struct QKMmaOpLowering : OpConversionPattern<QKMmaOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QKMmaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AccTileType acc = op.getResult().getType();
    SmemTileType kTile = op.getK().getType();
    int64_t kSlices = kTile.getCols() / 16;
    std::optional<AFragments> q;
    if (auto tile = dyn_cast<SmemTileType>(op.getQ().getType()))
      q.emplace(e, tile, adaptor.getQ(), acc.getRowsPerWarp());
    else
      q.emplace(e, adaptor.getQ(), kSlices);
    BFragments k = BFragments::rowsAreN(e, kTile, adaptor.getK(),
                                        getLdmatrixForm(acc.getMTiles()));
    Value zero = e.f32(0.0);
    SmallVector<Value> s(acc.getValuesPerThread(), zero);
    emitWarpGemm(e, kTile.getElementType(), *q, k, FragmentLayout::of(acc),
                 kSlices, s);
    rewriter.replaceOp(op, e.pack(s));
    return success();
  }
};

/// O += P V: A = P in registers (from fa4.pack_a), B = V whose rows are the
/// k of the product, read with ldmatrix.trans.
struct PVMmaOpLowering : OpConversionPattern<PVMmaOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PVMmaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    AFragType pType = op.getProbs().getType();
    SmemTileType vTile = op.getV().getType();
    BFragments v = BFragments::rowsAreK(
        e, vTile, adaptor.getV(),
        getLdmatrixForm(op.getAcc().getType().getMTiles()));
    AFragments p(e, adaptor.getProbs(), pType.getKSlices());
    SmallVector<Value> o = e.unpack(adaptor.getAcc());
    emitWarpGemm(e, vTile.getElementType(), p, v,
                 FragmentLayout::of(op.getAcc().getType()), pType.getKSlices(),
                 o);
    rewriter.replaceOp(op, e.pack(o));
    return success();
  }
};

} // namespace

void fa4::populateMmaPatterns(const TypeConverter &converter,
                              RewritePatternSet &patterns) {
  patterns.add<PackAOpLowering, QKMmaOpLowering, PVMmaOpLowering>(
      converter, patterns.getContext());
}
