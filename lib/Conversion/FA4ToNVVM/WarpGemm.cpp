//===- WarpGemm.cpp - one warp-level GEMM for Q K^T and P V ---------------===//
//
// Operand addressing and the mma.sync loop nest shared by fa4.qk_mma and
// fa4.pv_mma.
//
//===----------------------------------------------------------------------===//

#include "WarpGemm.h"

using namespace mlir;
using namespace mlir::fa4;

//===----------------------------------------------------------------------===//
// AFragments
//===----------------------------------------------------------------------===//

AFragments::AFragments(Emitter &e, Value vec, int64_t kSlices)
    : layout{/*mTiles=*/0, kSlices}, values(e.unpack(vec)) {}

/// ldmatrix addressing of the A fragments of a tile: lane l points at row
/// l % 16, column 8 * (l / 16) of each 16 x 16 block of its warp's rows.
static LdmatrixAddressing aFragmentAddressing(Emitter &e, SmemTileType tile,
                                              Value base, int64_t rowsPerWarp) {
  Value lane = e.lane();
  Value warp = e.warp();
  Value warpRow = e.mul(warp, e.i32(rowsPerWarp));
  Value laneRow = e.band(lane, e.i32(15));
  Value laneUnit = e.shr(lane, 4);
  return LdmatrixAddressing(e, SwizzledLayout(tile), base, warpRow, laneRow,
                            laneUnit, getLdmatrixForm(rowsPerWarp / 16));
}

AFragments::AFragments(Emitter &e, SmemTileType tile, Value base,
                       int64_t rowsPerWarp)
    : layout{/*mTiles=*/0, tile.getCols() / 16},
      addressing(aFragmentAddressing(e, tile, base, rowsPerWarp)) {}

std::array<Value, 4> AFragments::get(Emitter &e, int64_t mt,
                                     int64_t kk) const {
  if (addressing)
    return e.ldmatrixX4(addressing->address(e, 16 * mt, 2 * kk),
                        /*transpose=*/false);
  int64_t base = layout.index(mt, kk, 0);
  return {values[base], values[base + 1], values[base + 2], values[base + 3]};
}

//===----------------------------------------------------------------------===//
// BFragments
//===----------------------------------------------------------------------===//

BFragments BFragments::rowsAreN(Emitter &e, SmemTileType tile, Value base,
                                LdmatrixAddressing::Form form) {
  Value lane = e.lane();
  Value rowInTile = e.band(lane, e.i32(7));
  Value tileRow = e.shl(e.shr(lane, 4), 3);
  Value laneRow = e.add(rowInTile, tileRow);
  Value half = e.shr(lane, 3);
  Value laneUnit = e.band(half, e.i32(1));
  return BFragments(LdmatrixAddressing(e, SwizzledLayout(tile), base, Value(),
                                       laneRow, laneUnit, form),
                    /*rowsAreK=*/false);
}

BFragments BFragments::rowsAreK(Emitter &e, SmemTileType tile, Value base,
                                LdmatrixAddressing::Form form) {
  Value lane = e.lane();
  Value rowInTile = e.band(lane, e.i32(7));
  Value half = e.shr(lane, 3);
  Value tileRow = e.shl(e.band(half, e.i32(1)), 3);
  Value laneRow = e.add(rowInTile, tileRow);
  Value laneUnit = e.shr(lane, 4);
  return BFragments(LdmatrixAddressing(e, SwizzledLayout(tile), base, Value(),
                                       laneRow, laneUnit, form),
                    /*rowsAreK=*/true);
}

std::array<std::array<Value, 2>, 2>
BFragments::loadPair(Emitter &e, int64_t kk, int64_t pair) const {
  // Rows are n: the pair's 16 rows at the slice's two 8-column units.
  // Rows are k: the slice's 16 rows at the pair's two 8-column units.
  Value address = transposed ? addressing.address(e, 16 * kk, 2 * pair)
                             : addressing.address(e, 16 * pair, 2 * kk);
  std::array<Value, 4> r = e.ldmatrixX4(address, transposed);
  return {{{r[0], r[1]}, {r[2], r[3]}}};
}

//===----------------------------------------------------------------------===//
// The GEMM
//===----------------------------------------------------------------------===//

void fa4::emitWarpGemm(Emitter &e, Type elementType, const AFragments &a,
                       const BFragments &b, FragmentLayout accLayout,
                       int64_t kSlices, SmallVectorImpl<Value> &acc) {
  for (int64_t kk = 0; kk < kSlices; ++kk) {
    SmallVector<std::array<Value, 4>> aFrags;
    for (int64_t mt = 0; mt < accLayout.mTiles; ++mt)
      aFrags.push_back(a.get(e, mt, kk));
    SmallVector<std::array<Value, 2>> bFrags;
    for (int64_t pair = 0; pair < accLayout.nTiles / 2; ++pair)
      for (const std::array<Value, 2> &frag : b.loadPair(e, kk, pair))
        bFrags.push_back(frag);
    for (int64_t mt = 0; mt < accLayout.mTiles; ++mt) {
      for (int64_t nt = 0; nt < accLayout.nTiles; ++nt) {
        int64_t base = accLayout.index(mt, nt, 0);
        std::array<Value, 4> d =
            e.mma(elementType, aFrags[mt], bFrags[nt],
                  ArrayRef<Value>(acc.begin(), acc.end()).slice(base, 4));
        llvm::copy(d, acc.begin() + base);
      }
    }
  }
}
