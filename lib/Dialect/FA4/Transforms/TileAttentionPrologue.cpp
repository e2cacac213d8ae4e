//===- TileAttentionPrologue.cpp - an attention kernel's prologue ---------===//
//
// The first part of the kernel fa4-tile-attention builds: the CTA's block
// coordinates, its sequence (fixed lengths, a varlen entry's offsets and
// lengths, or a KV-cache entry's keys) and the (batch, head) bases of Q, K,
// V and O. Each prologue ends by building its m-block (TileAttention.cpp).
//
//===----------------------------------------------------------------------===//

#include "AttentionBuilder.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace mlir::fa4;
using mlir::fa4::detail::AttentionBuilder;

Value AttentionBuilder::headBase(StringRef tensor, Type elementType,
                                 Value batch, Value head) {
  Value b64 = ext64(batch);
  Value h64 = ext64(head);
  std::string name = tensor.str();
  Value batchOffset =
      arith::MulIOp::create(b, loc, b64, args[name + "_batch_stride"]);
  Value headOffset =
      arith::MulIOp::create(b, loc, h64, args[name + "_head_stride"]);
  Value offset = arith::AddIOp::create(b, loc, batchOffset, headOffset);
  return LLVM::GEPOp::create(b, loc, args[name].getType(), elementType,
                             args[name], ValueRange{offset});
}

Value AttentionBuilder::sequenceBase(StringRef tensor, Type elementType,
                                     Value start, Value head) {
  std::string name = tensor.str();
  Value s64 = ext64(start);
  Value stride64 = ext64(args[name + "_row_stride"]);
  Value h64 = ext64(head);
  Value rowOffset = arith::MulIOp::create(b, loc, s64, stride64);
  Value headOffset =
      arith::MulIOp::create(b, loc, h64, args[name + "_head_stride"]);
  Value offset = arith::AddIOp::create(b, loc, rowOffset, headOffset);
  return LLVM::GEPOp::create(b, loc, args[name].getType(), elementType,
                             args[name], ValueRange{offset});
}

/// The m-block of CTA x: causal CTAs run longest-first (m-blocks near the
/// end see the most keys), so CTA x computes the x-th from the last.
Value AttentionBuilder::buildGridMBlock() {
  Value mBlock = blockId(gpu::Dimension::x);
  if (variant.isCausal()) {
    Value numMBlocks = gridDim(gpu::Dimension::x);
    mBlock = sub(sub(numMBlocks, i32(1)), mBlock);
  }
  return named(mBlock, "m_block");
}

/// Paged K/V: the pages hold every sequence, so the bases are the KV
/// head's first element, and the batch entry's row of the block table.
void AttentionBuilder::buildPagedBases() {
  Type elementType = def.getElementType();
  Value zero = i32(0);
  kBase = named(sequenceBase("k", elementType, zero, kvHead), "k_base");
  vBase = named(sequenceBase("v", elementType, zero, kvHead), "v_base");
  Value rowOffset = mul(batch, args["block_table_stride"]);
  blockTable = named(LLVM::GEPOp::create(b, loc, args["block_table"].getType(),
                                         b.getI32Type(), args["block_table"],
                                         ValueRange{rowOffset}),
                     "table");
}

//===----------------------------------------------------------------------===//
// Prologue
//===----------------------------------------------------------------------===//

/// Fixed lengths: one CTA per (m-block, head, batch); causal CTAs run
/// longest-first (m-blocks near the end see the most keys).
void AttentionBuilder::buildDensePrologue() {
  Type elementType = def.getElementType();
  Value mBlock = buildGridMBlock();
  head = named(blockId(gpu::Dimension::y), "head");
  batch = named(blockId(gpu::Dimension::z), "batch");
  // GQA/MQA: query head h reads key/value head h / (Hq / Hkv).
  kvHead = named(arith::DivUIOp::create(b, loc, head, args["head_ratio"]),
                 "kv_head");
  qBase = named(headBase("q", elementType, batch, head), "q_base");
  kBase = named(headBase("k", elementType, batch, kvHead), "k_base");
  vBase = named(headBase("v", elementType, batch, kvHead), "v_base");
  oBase = named(headBase("o", elementType, batch, head), "o_base");
  seqlenQ = args["seqlen_q"];
  seqlenK = args["seqlen_k"];
  buildMBlock(mBlock);
}

/// Packed sequences: batch entry b's queries and keys start at
/// cu_seqlens_q/k[b]. The grid's x dimension is sized from max_seqlen_q
/// (FlashAttention-2's grid); CTA x computes m-block x of its sequence
/// (causal: the x-th from the last, heaviest first) if the sequence has
/// one. A sequence longer than gridDim.x m-blocks (max_seqlen_q below the
/// real maximum, which only the device can see) gets its rows past the grid
/// set to NaN by its last CTA: a loud error, never unwritten rows.
void AttentionBuilder::buildVarlenPrologue() {
  head = named(blockId(gpu::Dimension::y), "head");
  batch = named(blockId(gpu::Dimension::z), "batch");
  buildVarlenSequence();
  Value numMBlocks = named(
      arith::CeilDivSIOp::create(b, loc, seqlenQ, i32(config.tileM)),
      "m_blocks");
  Value x = blockId(gpu::Dimension::x);
  Value gridX = gridDim(gpu::Dimension::x);
  // Rows [gridDim.x * Mt, seqlen_q) have no CTA.
  Value covered = mul(gridX, i32(config.tileM));
  Value uncovered = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                          seqlenQ, covered);
  Value lastX = sub(gridX, i32(1));
  Value isLast =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, lastX);
  Value poison = arith::AndIOp::create(b, loc, uncovered, isLast);
  scf::IfOp::create(b, loc, poison, [&](OpBuilder &, Location) {
    Value outBase = sequenceBase("o", def.getElementType(), qStart, head);
    FillNaNOp::create(b, loc, outBase, covered, seqlenQ, args["o_row_stride"],
                      b.getI64IntegerAttr(def.getHeadDimV()),
                      TypeAttr::get(def.getElementType()));
    Value lse = args["lse"];
    Value null = LLVM::ZeroOp::create(b, loc, lse.getType());
    Value wanted =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, lse, null);
    scf::IfOp::create(b, loc, wanted, [&](OpBuilder &, Location) {
      Value one = i32(1);
      FillNaNOp::create(b, loc, varlenLseBase(), covered, seqlenQ, one,
                        b.getI64IntegerAttr(1), TypeAttr::get(b.getF32Type()));
      scf::YieldOp::create(b, loc);
    });
    scf::YieldOp::create(b, loc);
  });
  Value valid =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, numMBlocks);
  scf::IfOp::create(b, loc, valid, [&](OpBuilder &, Location) {
    Value mBlock = x;
    // Causal: longest-first over the m-blocks the grid covers (a sequence
    // longer than max_seqlen_q has more; its rows past the grid are the
    // NaN-filled ones above, so the CTAs must compute the first).
    // One op per statement: the IR's order must not depend on the host
    // compiler's argument evaluation order.
    if (variant.isCausal()) {
      Value one = i32(1);
      Value covered = minS(numMBlocks, gridX);
      mBlock = sub(sub(covered, one), x);
    }
    buildMBlock(named(mBlock, "m_block"));
    scf::YieldOp::create(b, loc);
  });
}

Value AttentionBuilder::buildVarlenSequence() {
  Type elementType = def.getElementType();
  kvHead = named(arith::DivUIOp::create(b, loc, head, args["head_ratio"]),
                 "kv_head");
  // Paged K/V has no packed token dimension to clamp keys to; its
  // capacity is the table's (max_pages * page_size) instead.
  Value totalK = variant.isPaged()
                     ? i32(std::numeric_limits<int32_t>::max())
                     : args["total_k"];
  auto seq = VarlenSeqlensOp::create(b, loc, batch, args["cu_seqlens_q"],
                                     args["cu_seqlens_k"], args["seqused_k"],
                                     args["total_q"], totalK);
  seqlenQ = seq.getSeqlenQ();
  seqlenK = seq.getSeqlenK();
  qStart = seq.getQStart();
  qBase = named(sequenceBase("q", elementType, qStart, head), "q_base");
  if (variant.isPaged()) {
    Value capacity = mul(args["max_pages"], args["page_size"]);
    seqlenK = named(minS(seqlenK, capacity), "seqlen_k");
    // Pages hold every sequence: the base is the head's first element.
    buildPagedBases();
  } else {
    kBase = named(sequenceBase("k", elementType, seq.getKStart(), kvHead),
                  "k_base");
    vBase = named(sequenceBase("v", elementType, seq.getKStart(), kvHead),
                  "v_base");
  }
  return seqlenQ;
}

/// FlashAttention-2's KV-cache layout: Q, O and the LSE dense (batch, Sq,
/// heads); the keys of batch entry b are rows [k_start, k_start +
/// seqlen_k) of its cache entry (contiguous) or of its pages. With split-KV
/// the grid's z is batch * num_splits.
void AttentionBuilder::buildCachePrologue() {
  Type elementType = def.getElementType();
  Value mBlock = buildGridMBlock();
  head = named(blockId(gpu::Dimension::y), "head");
  Value z = blockId(gpu::Dimension::z);
  if (variant.isSplitKV()) {
    numSplits = args["num_splits"];
    batch = named(arith::DivUIOp::create(b, loc, z, numSplits), "batch");
    splitIndex = named(arith::RemUIOp::create(b, loc, z, numSplits), "split");
  } else {
    batch = named(z, "batch");
  }
  kvHead = named(arith::DivUIOp::create(b, loc, head, args["head_ratio"]),
                 "kv_head");
  auto ptrType = cast<LLVM::LLVMPointerType>(args["q"].getType());
  Value batchIdx, leftpad, entries, capacity;
  if (variant.isPaged()) {
    // One entry per batch entry: its pages. No index, no left padding
    // (FlashAttention-2 refuses both with a block table).
    batchIdx = LLVM::ZeroOp::create(b, loc, ptrType);
    leftpad = LLVM::ZeroOp::create(b, loc, ptrType);
    entries = i32(1);
    capacity = named(mul(args["max_pages"], args["page_size"]), "capacity");
  } else {
    batchIdx = args["cache_batch_idx"];
    leftpad = args["cache_leftpad"];
    entries = args["cache_entries"];
    capacity = args["cache_capacity"];
  }
  auto cache = CacheSeqlensOp::create(b, loc, batch, args["cache_seqlens"],
                                      args["seqlen_k"], args["seqlen_new"],
                                      batchIdx, leftpad, entries, capacity);
  seqlenQ = args["seqlen_q"];
  seqlenK = cache.getSeqlenK();
  // GQA packing: CTA `head` holds query heads [head * g, head * g + g) of
  // its KV head, interleaved per query row (g = 1: one head).
  Value firstHead = head;
  if (!variant.isAlibi()) {
    qGroup = args["q_group"];
    qRows = named(mul(seqlenQ, qGroup), "q_rows");
    firstHead = named(mul(head, qGroup), "first_head");
  }
  qBase = named(headBase("q", elementType, batch, firstHead), "q_base");
  oBase = named(headBase("o", elementType, batch, firstHead), "o_base");
  if (variant.isPaged()) {
    buildPagedBases();
  } else {
    // The entry's first key row: entry * batch stride + k_start * row stride.
    Value entry = cache.getEntry();
    Value kStart = cache.getKStart();
    auto cacheRow = [&](StringRef tensor) {
      std::string name = tensor.str();
      Value base = headBase(tensor, elementType, entry, kvHead);
      Value start64 = ext64(kStart);
      Value rows = arith::MulIOp::create(b, loc, start64,
                                         ext64(args[name + "_row_stride"]));
      return LLVM::GEPOp::create(b, loc, base.getType(), elementType, base,
                                 ValueRange{rows});
    };
    kBase = named(cacheRow("k"), "k_base");
    vBase = named(cacheRow("v"), "v_base");
  }
  buildMBlock(mBlock);
}
