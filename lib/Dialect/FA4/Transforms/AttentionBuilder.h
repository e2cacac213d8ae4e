//===- AttentionBuilder.h - one attention kernel's body ---------*- C++ -*-===//
//
// fa4-tile-attention's builder of the block-level program: the prologue
// (TileAttentionPrologue.cpp), then the range, loop and epilogue
// (TileAttention.cpp). Private to lib/Dialect/FA4/Transforms.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_DIALECT_FA4_TRANSFORMS_ATTENTIONBUILDER_H
#define FA4_LIB_DIALECT_FA4_TRANSFORMS_ATTENTIONBUILDER_H

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"
#include "fa4/Dialect/FA4/Transforms/KernelABI.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace fa4 {
namespace detail {

/// Builds the body of one attention kernel.
class AttentionBuilder {
public:
  AttentionBuilder(OpBuilder &b, Location loc, const KernelVariant &variant,
                   gpu::GPUFuncOp func)
      : b(b), loc(loc), variant(variant), def(variant.def),
        config(variant.config), args(func, getKernelParams(variant)),
        module(func->getParentOfType<gpu::GPUModuleOp>()) {}

  void build();

private:
  // ---- Small arithmetic helpers (i32 unless named otherwise) ----
  // Each creates an op; a call never takes two of them as arguments (their
  // evaluation order is unspecified in C++, so the IR would depend on the
  // host compiler).
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value f32(double v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(static_cast<float>(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value minS(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value ext64(Value x) {
    return arith::ExtUIOp::create(b, loc, b.getI64Type(), x);
  }
  Value blockId(gpu::Dimension dim) {
    Value id = gpu::BlockIdOp::create(b, loc, dim);
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), id);
  }
  Value gridDim(gpu::Dimension dim) {
    Value n = gpu::GridDimOp::create(b, loc, dim);
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), n);
  }
  /// Gives `v` a NameLoc, so that `--mlir-use-nameloc-as-prefix` prints it
  /// as %name.
  Value named(Value v, StringRef name) {
    if (Operation *op = v.getDefiningOp())
      op->setLoc(NameLoc::get(b.getStringAttr(name), loc));
    return v;
  }

  /// `ptr + batch * batchStride + head * headStride` elements, in 64 bits.
  Value headBase(StringRef tensor, Type elementType, Value batch, Value head);
  /// `ptr + start * rowStride + head * headStride` elements, in 64 bits:
  /// the first row of a packed (varlen) sequence.
  Value sequenceBase(StringRef tensor, Type elementType, Value start,
                     Value head);
  /// CTA x's m-block, heaviest first when causal.
  Value buildGridMBlock();
  /// Paged K/V: kBase, vBase (the KV head's first element) and blockTable
  /// (the batch entry's row).
  void buildPagedBases();

  // ---- The four parts ----
  void buildDensePrologue();
  void buildVarlenPrologue();
  /// KV cache: dense queries, keys from the batch entry's cache rows or
  /// pages; split-KV's split index from the grid.
  void buildCachePrologue();
  /// The varlen sequence of this CTA's batch entry: lengths, bases; returns
  /// seqlen_q.
  Value buildVarlenSequence();
  void buildMBlock(Value mBlock);
  void buildRangeAndState();
  /// Block-sparse: this m-block's mask and full lists and their counts.
  void buildBlockLists();
  Value buildLoop();
  /// The address of a zero u64 in the module's global memory (created on
  /// first use): what dropout reads when dropout_offset_ptr is null.
  Value getOrCreateZeroWord();
  void buildLoopBody(Block *body, Value q);
  void buildEpilogue(Value o, Value m, Value l);
  /// Split-KV with num_splits > 1: this split's normalized O and LSE, fp32,
  /// to the partial buffers.
  void buildPartialStores(FinalizeOp final);
  /// The LSE of a varlen sequence, (heads, total_q): row r is at
  /// lse + head * lse_head_stride + q_start + r. Computed in the epilogue,
  /// so that no 64-bit pointer stays live across the key loop.
  Value varlenLseBase();

  OpBuilder &b;
  Location loc;
  const KernelVariant &variant;
  AttentionOp def;
  const KernelConfig &config;
  KernelArgs args;
  /// The kernel's module (module-level globals go there).
  gpu::GPUModuleOp module;

  // Set by the prologue.
  Value head, batch, kvHead;
  Value qBase, kBase, vBase, oBase, blockTable;
  /// Varlen: the sequence's first query row in the packed tensors.
  Value qStart;
  Value seqlenQ, seqlenK;
  /// The M tile's rows of the sequence: seqlenQ, or with GQA packing
  /// (KV cache) seqlenQ * qGroup, query s's head j at row s * qGroup + j.
  Value qRows, qGroup;
  /// Split-KV: this CTA's split and the number of splits.
  Value splitIndex, numSplits;
  // Set per m-block.
  Value qRow0, causalOffset, scaleLog2;
  /// Window: the normalized sizes and the diagonals of the mask's edges
  /// (keys q + diag_min .. q + diag_max are visible).
  Value windowLeft, windowRight, diagMin, diagMax;
  /// Softcap: scores become tanh(softcapPre * S); in a switchable kernel
  /// only where softcapOn (softcap != 0).
  Value softcapPre, softcapOn;
  /// ALiBi: the head's slope over the softmax's scale, negated.
  Value alibiSlope;
  /// Dropout: the Philox stream of this (batch, head), offset +
  /// batch * nheads_q + head in 64 bits, as halves.
  Value dropoutStreamLo, dropoutStreamHi;
  /// return_probs: this (batch, head)'s S_dmask matrix.
  Value probsBase;
  /// Block-sparse: the m-block's entry lists, their clamped counts, and the
  /// key tiles per entry.
  Value maskList, maskCount, fullList, fullCount, listRatio;
  Value range[4];
  Value sQ, o0, m0, l0;
  AccTileType accO, accS;
  RowStatsType rows;
  // The kv_loop's results.
  Value oFinal, mFinal, lFinal;
};

} // namespace detail
} // namespace fa4
} // namespace mlir

#endif // FA4_LIB_DIALECT_FA4_TRANSFORMS_ATTENTIONBUILDER_H
