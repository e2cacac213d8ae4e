//===- Layouts.h - register-fragment and shared-memory layouts --*- C++ -*-===//
//
// The two layouts every fa4 lowering shares, each stated once:
//
// FragmentLayout: how a warp's share of a register tile is laid out as
// mma.sync.m16n8k16 fragments (PTX ISA, "Matrix fragments for
// mma.m16n8k16"). Per lane l, g = l / 4 and q = l % 4:
//   A (16x16, row):  a0 = (g, 2q..2q+1)   a1 = (g+8, 2q..)   a2 = (g, 2q+8..)
//                    a3 = (g+8, 2q+8..)                        (16-bit pairs)
//   B (16x8, col):   b0 = (k = 2q..2q+1, n = g)   b1 = (k = 2q+8.., n = g)
//   C (16x8, f32):   c0, c1 = (g, 2q), (g, 2q+1)   c2, c3 = (g+8, 2q), (g+8, 2q+1)
// An !fa4.acc value of warp w is a grid of C fragments (mt, nt) over its rows
// [w * Mw, (w+1) * Mw), held as vector element 4 * (mt * NT + nt) + c; an
// !fa4.rows value holds rows g and g + 8 of m-tile mt at slot 2 * mt + h.
// The C fragments of n-tiles 2j and 2j+1 are, once packed to 16 bits, the A
// fragment of k-slice j: P never leaves registers between the two GEMMs.
//
// SwizzledLayout: an !fa4.smem tile is column chunks of 64 (128-byte rows)
// or 32 (64-byte rows) elements, each a rows x chunk block whose 16-byte unit
// u of row r lives at u ^ (r % 8) or u ^ ((r / 2) % 4): each 8x8 ldmatrix
// phase and each cp.async row touches eight different bank groups, and it is
// exactly what a TMA box with 128B / 64B swizzle writes.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_CONVERSION_FA4TONVVM_LAYOUTS_H
#define FA4_LIB_CONVERSION_FA4TONVVM_LAYOUTS_H

#include "Emitter.h"
#include "fa4/Dialect/FA4/IR/FA4Types.h"

#include <utility>

namespace mlir {
namespace fa4 {

//===----------------------------------------------------------------------===//
// FragmentLayout
//===----------------------------------------------------------------------===//

/// The mma.sync fragment grid of one warp's share of a register tile.
struct FragmentLayout {
  /// m16 tiles along the warp's rows.
  int64_t mTiles;
  /// n8 tiles (C fragments) or k16 slices (A fragments) along the columns.
  int64_t nTiles;

  static FragmentLayout of(AccTileType type) {
    return {type.getMTiles(), type.getNTiles()};
  }
  static FragmentLayout of(AFragType type) {
    return {type.getMTiles(), type.getKSlices()};
  }

  /// Vector index of value (or packed register) `c` of fragment (mt, nt).
  int64_t index(int64_t mt, int64_t nt, int64_t c) const {
    return 4 * (mt * nTiles + nt) + c;
  }
  /// The m-tile and value of vector index `i` of a C-fragment vector.
  int64_t mTileOf(int64_t i) const { return i / 4 / nTiles; }

  /// Row slot (index into !fa4.rows) of C value `c` of m-tile `mt`: values
  /// 0 and 1 are row g, values 2 and 3 row g + 8.
  static int64_t rowSlot(int64_t mt, int64_t c) { return 2 * mt + c / 2; }
  /// Row of slot `slot` within the warp's rows, relative to the lane's g.
  static int64_t slotRow(int64_t slot) { return 16 * (slot / 2) + 8 * (slot % 2); }
  /// Column of C value `c` of n-tile `nt`, relative to the lane's 2q.
  static int64_t column(int64_t nt, int64_t c) { return 8 * nt + c % 2; }

  /// The C values that form packed A register `r` (0..3) of k-slice `j` of
  /// m-tile `mt`: a0 = C(2j).c0,c1; a1 = C(2j).c2,c3; a2 = C(2j+1).c0,c1;
  /// a3 = C(2j+1).c2,c3. Returns the vector index of the first of the pair.
  int64_t packedSource(int64_t mt, int64_t j, int64_t r) const {
    return index(mt, 2 * j + r / 2, 2 * (r % 2));
  }

  /// The lane's row and column within a fragment: g = lane / 4 and
  /// 2q = 2 * (lane % 4), created in that order.
  static std::pair<Value, Value> laneCoordinates(Emitter &e, Value lane) {
    Value g = e.shr(lane, 2);
    Value twoQ = e.shl(e.band(lane, e.i32(3)), 1);
    return {g, twoQ};
  }
};

//===----------------------------------------------------------------------===//
// SwizzledLayout
//===----------------------------------------------------------------------===//

/// The byte layout of an !fa4.smem tile.
struct SwizzledLayout {
  explicit SwizzledLayout(SmemTileType type)
      : type(type),
        elementBytes(type.getElementType().getIntOrFloatBitWidth() / 8),
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

  SmemTileType type;
  int64_t elementBytes, chunkCols, unitsPerChunk, rowBytes, chunkBytes;
};

/// ldmatrix addressing: lane l points at unit (rowConst + laneRow(l),
/// unitConst + laneUnit(l)) with rowConst a multiple of 8 and unitConst even.
/// The row's swizzle is then the lane's own, and since unitConst has bit 0
/// clear, (unitConst | laneUnit) ^ swz = unitConst ^ (laneUnit ^ swz). Two
/// forms of the same addresses:
///
///   PerUnit:   laneBase + 16 * (laneX ^ inChunk) + constant, with
///              laneBase = base + row * rowBytes and laneX = laneUnit ^ swz;
///   XorOffset: base + (laneOffset ^ 16 * inChunk) + constant, with
///              laneOffset = row * rowBytes + 16 * laneX: the lane's unit
///              sits in bits 4-6 (4-5 for 64-byte rows) of its byte offset
///              and the row above them, and a constant that is a multiple
///              of the row size leaves those bits alone, so XOR and add
///              commute.
///
/// After LICM both keep one register per distinct unit within a chunk, but
/// ptxas allocates them differently: the warps of two m16 row groups (128
/// or 160 accumulators per thread) assembled spill-free only with XorOffset
/// (the D = 96 kernel: 48 bytes of spill on sm_120a with PerUnit), while
/// 26 of the 16-row-warp kernel builds (D = 128 windowed decode, D = 256
/// paged, D = 192 / 128 causal on sm_121a) spilled 8-56 bytes with it. Each
/// kernel keeps the form it assembles spill-free with: getLdmatrixForm.
class LdmatrixAddressing {
public:
  enum class Form { PerUnit, XorOffset };

  /// `rowBase` is an extra run-time row offset that is a multiple of 8.
  LdmatrixAddressing(Emitter &e, const SwizzledLayout &layout, Value base,
                     Value rowBase, Value laneRow, Value laneUnit, Form form)
      : layout(layout), form(form), base(base) {
    laneX = e.bxor(laneUnit, layout.swizzle(e, laneRow));
    Value row = rowBase ? e.add(rowBase, laneRow) : laneRow;
    Value rowOffset = e.mul(row, e.i32(layout.rowBytes));
    if (form == Form::PerUnit)
      laneBase = e.gepBytes(base, rowOffset);
    else
      laneOffset = e.add(rowOffset, e.shl(laneX, 4));
  }

  Value address(Emitter &e, int64_t rowConst, int64_t unitConst) const {
    assert(rowConst % 8 == 0 && unitConst % 2 == 0 && "misaligned ldmatrix");
    int64_t chunk = unitConst / layout.unitsPerChunk;
    int64_t inChunk = unitConst % layout.unitsPerChunk;
    int64_t constant = chunk * layout.chunkBytes + rowConst * layout.rowBytes;
    if (form == Form::XorOffset) {
      Value offset =
          inChunk ? e.bxor(laneOffset, e.i32(16 * inChunk)) : laneOffset;
      return e.gepBytes(e.gepBytes(base, offset), e.i32(constant));
    }
    Value unit = e.shl(e.bxor(laneX, e.i32(inChunk)), 4);
    Value laneAddress = e.gepBytes(laneBase, unit);
    return e.gepBytes(laneAddress, e.i32(constant));
  }

private:
  SwizzledLayout layout;
  Form form;
  Value base, laneX, laneBase, laneOffset;
};

/// The ldmatrix address form of a kernel whose warps hold `mTiles` m16 row
/// groups (see LdmatrixAddressing).
inline LdmatrixAddressing::Form getLdmatrixForm(int64_t mTiles) {
  return mTiles > 1 ? LdmatrixAddressing::Form::XorOffset
                    : LdmatrixAddressing::Form::PerUnit;
}

} // namespace fa4
} // namespace mlir

#endif // FA4_LIB_CONVERSION_FA4TONVVM_LAYOUTS_H
