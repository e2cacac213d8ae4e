//===- WarpGemm.h - one warp-level GEMM for Q K^T and P V -------*- C++ -*-===//
//
// Both products of the attention loop are the same warp GEMM: each warp
// multiplies its rows of an A operand (M x K, as mma.sync A fragments, in
// registers or read from shared memory with ldmatrix) by a B operand read
// from a shared-memory tile with ldmatrix.x4 (two n8 tiles per load), into
// f32 C fragments. They differ only in their operands:
//   S = Q K^T   A = Q (registers or shared memory), B = K, whose rows are n;
//   O += P V    A = P (registers, from fa4.pack_a),  B = V, whose rows are k
//               (read with ldmatrix.trans).
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_CONVERSION_FA4TONVVM_WARPGEMM_H
#define FA4_LIB_CONVERSION_FA4TONVVM_WARPGEMM_H

#include "Layouts.h"

#include <optional>

namespace mlir {
namespace fa4 {

/// The A fragments of a warp's rows, 4 x i32 per (m16 tile, k16 slice):
/// from registers (!fa4.afrag) or read from shared memory on demand.
class AFragments {
public:
  /// From an !fa4.afrag value (already converted to vector<N x i32>).
  AFragments(Emitter &e, Value vec, int64_t kSlices);
  /// From a shared-memory tile, read lazily with ldmatrix.x4: lane l points
  /// at row l % 16, column 8 * (l / 16) of each 16 x 16 block.
  AFragments(Emitter &e, SmemTileType tile, Value base, int64_t rowsPerWarp);

  std::array<Value, 4> get(Emitter &e, int64_t mt, int64_t kk) const;

private:
  FragmentLayout layout;
  SmallVector<Value> values;
  std::optional<LdmatrixAddressing> addressing;
};

/// The B fragments of a shared-memory tile, read with ldmatrix.x4: one load
/// gives b0, b1 of n8 tiles 2p and 2p + 1 at one k16 slice.
class BFragments {
public:
  /// The tile's rows are n (K in Q K^T, stored n x k): lane l points at row
  /// l % 8 + 8 * (l / 16), column 8 * ((l / 8) % 2).
  static BFragments rowsAreN(Emitter &e, SmemTileType tile, Value base,
                             LdmatrixAddressing::Form form);
  /// The tile's rows are k (V in P V, stored k x n), read transposed: lane l
  /// points at row l % 8 + 8 * ((l / 8) % 2), column 8 * (l / 16).
  static BFragments rowsAreK(Emitter &e, SmemTileType tile, Value base,
                             LdmatrixAddressing::Form form);

  /// b0, b1 of n-tiles 2 * pair and 2 * pair + 1 at k-slice `kk`.
  std::array<std::array<Value, 2>, 2> loadPair(Emitter &e, int64_t kk,
                                               int64_t pair) const;

private:
  BFragments(LdmatrixAddressing addressing, bool rowsAreK)
      : addressing(addressing), transposed(rowsAreK) {}
  LdmatrixAddressing addressing;
  bool transposed;
};

/// acc += A B for each warp's rows: for each k16 slice, the A fragments of
/// every m-tile, then the B fragments of every n-tile pair, then one
/// mma.sync per (m-tile, n-tile). `acc` holds the C values in FragmentLayout
/// order over `acc` = mTiles x nTiles fragments.
void emitWarpGemm(Emitter &e, Type elementType, const AFragments &a,
                  const BFragments &b, FragmentLayout accLayout,
                  int64_t kSlices, SmallVectorImpl<Value> &acc);

} // namespace fa4
} // namespace mlir

#endif // FA4_LIB_CONVERSION_FA4TONVVM_WARPGEMM_H
