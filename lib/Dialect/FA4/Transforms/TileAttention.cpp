//===- TileAttention.cpp - fa4.attention to the block-level program -------===//
//
// Rewrites each fa4.attention definition into a gpu.module holding its
// kernel. CTA (m_block, head, batch) owns queries [m_block * Mt,
// (m_block + 1) * Mt) of one sequence; the kernel is four parts, each
// stated once:
//
//   prologue   block coordinates, the sequence (dense lengths, or the varlen
//              entry's offsets and lengths), the (batch, head) bases
//   range      fa4.kv_range: the key blocks the m-block visits, and which of
//              them need the mask
//   loop       fa4.kv_loop: the math of one key block (S = Q K^T, mask,
//              online softmax, O = O * corr + P V) in its body, and where Q,
//              K and V come from as tile-source kinds
//   epilogue   O / l and the LSE, stored
//
// The prologue is built in TileAttentionPrologue.cpp, the rest here. How
// the tiles arrive (cp.async or TMA, stages, prefetch) is
// fa4-schedule-kv-loop's job; what the kernel takes is the ABI table's
// (KernelABI.cpp).
//
//===----------------------------------------------------------------------===//

#include "AttentionBuilder.h"

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/IR/FA4Target.h"
#include "fa4/Dialect/FA4/Transforms/KernelABI.h"
#include "fa4/Dialect/FA4/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <limits>

namespace mlir {
namespace fa4 {
#define GEN_PASS_DEF_FA4TILEATTENTIONPASS
#include "fa4/Dialect/FA4/Transforms/Passes.h.inc"
} // namespace fa4
} // namespace mlir

using namespace mlir;
using namespace mlir::fa4;
using mlir::fa4::detail::AttentionBuilder;

//===----------------------------------------------------------------------===//
// One m-block: range, loop, epilogue
//===----------------------------------------------------------------------===//

void AttentionBuilder::buildMBlock(Value mBlock) {
  qRow0 = named(mul(mBlock, i32(config.tileM)), "q_row");
  // Bottom-right aligned causal mask: key k is visible to query q iff
  // k <= q + (Sk - Sq).
  causalOffset = named(sub(seqlenK, seqlenQ), "causal_offset");
  if (variant.isWindow()) {
    // A size past the sequence is unbounded: left >= Sk keeps every key
    // from 0, right >= Sq every key to Sk - 1. Unsigned min maps -1 (any
    // negative) there too, and keeps q + diag +- size inside i32 for
    // lengths the runtime accepts (Sq + Sk < 2^30).
    windowLeft = named(arith::MinUIOp::create(b, loc, args["window_left"],
                                              seqlenK),
                       "window_left");
    windowRight = named(arith::MinUIOp::create(b, loc, args["window_right"],
                                               seqlenQ),
                        "window_right");
    diagMax = named(arith::AddIOp::create(b, loc, causalOffset, windowRight),
                    "diag_max");
    diagMin = named(sub(causalOffset, windowLeft), "diag_min");
  }
  buildRangeAndState();
  Value r = buildLoop();
  (void)r;
  buildEpilogue(oFinal, mFinal, lFinal);
}

Value AttentionBuilder::getOrCreateZeroWord() {
  static constexpr StringLiteral kName = "fa4_zero_dropout_offset";
  if (!module.lookupSymbol(kName)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    LLVM::GlobalOp::create(b, loc, b.getI64Type(), /*isConstant=*/false,
                           LLVM::Linkage::Internal, kName,
                           b.getI64IntegerAttr(0), /*alignment=*/8,
                           /*addrSpace=*/1);
  }
  return LLVM::AddressOfOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext(), 1), kName);
}

void AttentionBuilder::buildRangeAndState() {
  MLIRContext *ctx = b.getContext();
  Type elementType = def.getElementType();
  int64_t d = def.getHeadDim(), dv = def.getHeadDimV();
  // Block-sparse: the lists say which blocks are visited; the range only
  // says which lie wholly below seqlen_k (no causal or window edge).
  bool listed = variant.isBlockSparse();
  MaskKind maskKind = listed               ? MaskKind::None
                      : variant.isWindow() ? MaskKind::Local
                      : variant.isCausal() ? MaskKind::Causal
                                           : MaskKind::None;
  // The range is in queries: packed rows start at query q_row / g, and
  // tile_m rows hold at most tile_m queries (a conservative right edge).
  Value rangeRow = qGroup ? named(arith::DivUIOp::create(b, loc, qRow0, qGroup),
                                  "first_query")
                          : qRow0;
  auto kvRange = KVRangeOp::create(
      b, loc, maskKind, listed ? Value() : windowLeft,
      listed ? Value() : windowRight, rangeRow, seqlenQ, seqlenK, config.tileM,
      config.tileN, splitIndex, numSplits);
  for (int i = 0; i < 4; ++i)
    range[i] = kvRange->getResult(i);
  if (listed)
    buildBlockLists();

  if (!qRows)
    qRows = seqlenQ;
  sQ = SmemBufferOp::create(b, loc, SmemTileType::get(ctx, config.tileM, d,
                                                      elementType),
                            "Q", IntegerAttr());
  // ---- Running state: O = 0, m = -inf, l = 0 ----
  accO = AccTileType::get(ctx, config.tileM, dv, b.getF32Type(),
                          config.numWarps);
  accS = AccTileType::get(ctx, config.tileM, config.tileN, b.getF32Type(),
                          config.numWarps);
  rows = RowStatsType::get(ctx, config.tileM, config.numWarps);
  o0 = SplatOp::create(b, loc, accO, f32(0.0));
  m0 = SplatOp::create(b, loc, rows,
                       f32(-std::numeric_limits<double>::infinity()));
  l0 = SplatOp::create(b, loc, rows, f32(0.0));
  // softmax(scale * S) computed with exp2: fold log2(e) into the scale.
  // Softcap: softmax(c * tanh(scale * S / c)), so the body's tanh takes
  // scale / c and the softmax scales by c * log2(e).
  Value scale = args["softmax_scale"];
  // A switchable kernel's softcap 0 is off: the scale stays the softmax's.
  if (variant.isSoftcap()) {
    softcapPre = named(arith::DivFOp::create(b, loc, scale, args["softcap"]),
                       "softcap_pre");
    if (variant.isSwitchable()) {
      softcapOn = named(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                              args["softcap"], f32(0.0)),
                        "softcap_on");
      scale = named(
          arith::SelectOp::create(b, loc, softcapOn, args["softcap"], scale),
          "softcap_scale");
    } else {
      scale = args["softcap"];
    }
  }
  scaleLog2 = named(arith::MulFOp::create(b, loc, scale,
                                          f32(1.4426950408889634)),
                    "scale_log2");
  // ALiBi: slopes[batch * alibi_batch_stride + head], in the units of the
  // scores the softmax scales: -slope / scale. A switchable kernel given
  // null slopes takes slope 0 (no bias) and reads nothing.
  if (variant.isAlibi()) {
    Value slopes = args["alibi_slopes"];
    auto loadSlope = [&](OpBuilder &b, Location loc) -> Value {
      Value index = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, batch, args["alibi_batch_stride"]),
          head);
      Value ptr = LLVM::GEPOp::create(b, loc, slopes.getType(), b.getF32Type(),
                                      slopes, ValueRange{index});
      return LLVM::LoadOp::create(b, loc, b.getF32Type(), ptr,
                                  /*alignment=*/4);
    };
    Value slope;
    if (variant.isSwitchable()) {
      Value null = LLVM::ZeroOp::create(b, loc, slopes.getType());
      Value given = named(
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, slopes, null),
          "alibi_on");
      auto ifOp = scf::IfOp::create(
          b, loc, given,
          [&](OpBuilder &b, Location loc) {
            scf::YieldOp::create(b, loc, loadSlope(b, loc));
          },
          [&](OpBuilder &b, Location loc) {
            Value zero =
                arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
            scf::YieldOp::create(b, loc, zero);
          });
      slope = named(ifOp.getResult(0), "alibi_slope");
    } else {
      slope = named(loadSlope(b, loc), "alibi_slope");
    }
    Value perScale = arith::DivFOp::create(b, loc, slope, scale);
    alibiSlope = named(arith::NegFOp::create(b, loc, perScale), "alibi_scaled");
  }
  // Dropout: offset = the parameters' halves + the u64 at
  // dropout_offset_ptr, or at a zero word of the module when it is null (the
  // runtime passes halves of 0 with a pointer); stream = offset + batch *
  // nheads_q + head, 64-bit (the grid's y is the query heads; batch is the
  // sequence for varlen). Every lane loads the same word and redux.sync
  // says so to ptxas, which then keeps the stream in uniform registers as
  // it does the parameters' alone: a plain load, or a select or branch
  // between the two sources, leaves it in two vector registers across the
  // key loop, which spilled the paged d = 256 causal dropout kernels. The
  // seed stays a parameter: the round keys derived from it are constant-bank
  // operands, not registers.
  if (variant.isDropout()) {
    Type i32 = b.getI32Type(), i64 = b.getI64Type();
    Value c32 = arith::ConstantIntOp::create(b, loc, i64, 32);
    Value offsetPtr = args["dropout_offset_ptr"];
    Value zeroWord = getOrCreateZeroWord();
    Value null = LLVM::ZeroOp::create(b, loc, offsetPtr.getType());
    Value fromMemory = named(
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, offsetPtr, null),
        "offset_from_memory");
    Value address =
        LLVM::SelectOp::create(b, loc, fromMemory, offsetPtr, zeroWord);
    Value loaded = LLVM::LoadOp::create(b, loc, i64, address, /*alignment=*/8);
    Value all = arith::ConstantIntOp::create(b, loc, i32, -1);
    auto uniform = [&](Value word) {
      return ext64(
          NVVM::ReduxOp::create(b, loc, i32, word, NVVM::ReduxKind::UMIN, all));
    };
    Value loadedLo = uniform(arith::TruncIOp::create(b, loc, i32, loaded));
    Value loadedHi = uniform(arith::TruncIOp::create(
        b, loc, i32, arith::ShRUIOp::create(b, loc, loaded, c32)));
    Value fromPointer = arith::OrIOp::create(
        b, loc, arith::ShLIOp::create(b, loc, loadedHi, c32), loadedLo);
    Value hi = ext64(args["dropout_offset_hi"]);
    Value lo = ext64(args["dropout_offset_lo"]);
    Value fromParams = arith::OrIOp::create(
        b, loc, arith::ShLIOp::create(b, loc, hi, c32), lo);
    Value offset = named(arith::AddIOp::create(b, loc, fromParams, fromPointer),
                         "dropout_offset");
    Value index = ext64(add(mul(batch, gridDim(gpu::Dimension::y)), head));
    Value stream = arith::AddIOp::create(b, loc, offset, index);
    dropoutStreamLo =
        named(arith::TruncIOp::create(b, loc, i32, stream), "stream_lo");
    Value high = arith::ShRUIOp::create(b, loc, stream, c32);
    dropoutStreamHi =
        named(arith::TruncIOp::create(b, loc, i32, high), "stream_hi");
  }
  if (variant.isReturnProbs())
    probsBase = named(headBase("probs", def.getElementType(), batch, head),
                      "probs_base");
}

/// Row (batch, head % heads, q_row / rows) of the count tensors, (batch,
/// heads, m_blocks); the entry lists hold `capacity` entries per row. A
/// q-block past m_blocks (varlen lengths only the device holds) has none;
/// a count is clamped to [0, capacity], so no value read here moves a load
/// outside the lists.
void AttentionBuilder::buildBlockLists() {
  Type i32Type = b.getI32Type();
  Value qBlock =
      named(arith::DivUIOp::create(b, loc, qRow0, args["sparse_block_rows"]),
            "sparse_q_block");
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        qBlock, args["sparse_m_blocks"]);
  Value zero = i32(0);
  Value safeBlock = arith::SelectOp::create(b, loc, inRange, qBlock, zero);
  Value patternHead =
      arith::RemUIOp::create(b, loc, head, args["sparse_heads"]);
  Value heads64 = ext64(args["sparse_heads"]);
  Value entryHeads = arith::MulIOp::create(b, loc, ext64(batch), heads64);
  Value headRow = arith::AddIOp::create(b, loc, entryHeads, ext64(patternHead));
  Value mBlocks64 = ext64(args["sparse_m_blocks"]);
  Value rowStart = arith::MulIOp::create(b, loc, headRow, mBlocks64);
  Value row = named(arith::AddIOp::create(b, loc, rowStart, ext64(safeBlock)),
                    "sparse_row");
  auto buildList = [&](StringRef kind, Value &list, Value &count) {
    std::string name = kind.str();
    Value counts = args[name + "_block_cnt"];
    Value capacity = args[name + "_block_capacity"];
    Value countPtr = LLVM::GEPOp::create(b, loc, counts.getType(), i32Type,
                                         counts, ValueRange{row});
    Value raw = LLVM::LoadOp::create(b, loc, i32Type, countPtr,
                                     /*alignment=*/4);
    Value clamped = arith::MaxSIOp::create(
        b, loc, arith::MinSIOp::create(b, loc, raw, capacity), zero);
    count = named(arith::SelectOp::create(b, loc, inRange, clamped, zero),
                  name + "_count");
    Value entries = args[name + "_block_idx"];
    Value offset = arith::MulIOp::create(b, loc, row, ext64(capacity));
    list = named(LLVM::GEPOp::create(b, loc, entries.getType(), i32Type,
                                     entries, ValueRange{offset}),
                 name + "_list");
  };
  buildList("mask", maskList, maskCount);
  buildList("full", fullList, fullCount);
  listRatio = args["sparse_block_tiles"];
}

Value AttentionBuilder::buildLoop() {
  MLIRContext *ctx = b.getContext();
  Type elementType = def.getElementType();
  int64_t d = def.getHeadDim(), dv = def.getHeadDimV();
  auto kTile = SmemTileType::get(ctx, config.tileN, d, elementType);
  auto vTile = SmemTileType::get(ctx, config.tileN, dv, elementType);
  Type qArg = sQ.getType();
  if (config.qInRegisters)
    qArg = AFragType::get(ctx, config.tileM, d, elementType, config.numWarps);

  // ---- Where Q, K and V come from ----
  Attribute qSource, kvSource;
  SmallVector<Value> qOps, kOps, vOps;
  if (variant.isTma()) {
    qSource = kvSource = TmaSourceAttr::get(ctx);
    qOps = {args["q_tma"], head, batch};
    kOps = {args["k_tma"], kvHead, batch};
    vOps = {args["v_tma"], kvHead, batch};
  } else {
    if (qGroup) {
      qSource = GroupedSourceAttr::get(ctx);
      qOps = {qBase, args["q_row_stride"], qRows, qGroup,
              args["q_head_stride"]};
    } else {
      qSource = ContiguousSourceAttr::get(ctx);
      qOps = {qBase, args["q_row_stride"], qRows};
    }
    if (variant.isPaged()) {
      kvSource = PagedSourceAttr::get(ctx);
      auto pagedOps = [&](const std::string &tensor, Value base) {
        return SmallVector<Value>{
            base,           args[tensor + "_row_stride"], seqlenK,
            blockTable,     args["page_size"],            args["page_magic"],
            args["page_shift"], args[tensor + "_page_stride"],
            args["num_pages"]};
      };
      kOps = pagedOps("k", kBase);
      vOps = pagedOps("v", vBase);
    } else {
      kvSource = ContiguousSourceAttr::get(ctx);
      kOps = {kBase, args["k_row_stride"], seqlenK};
      vOps = {vBase, args["v_row_stride"], seqlenK};
    }
  }
  auto loop = KVLoopOp::create(
      b, loc, TypeRange{accO, rows, rows}, range[0], range[1], range[2],
      range[3], b.getI64IntegerAttr(config.numStages), sQ, qRow0,
      cast<TileSourceAttrInterface>(qSource), qOps,
      cast<TileSourceAttrInterface>(kvSource), kOps,
      cast<TileSourceAttrInterface>(kvSource), vOps, maskList, maskCount,
      fullList, fullCount, listRatio,
      // S_dmask's entries are relative to the running max in
      // FlashAttention-2's order.
      variant.isReturnProbs() ? b.getUnitAttr() : UnitAttr(),
      ValueRange{o0, m0, l0});
  Block *body = b.createBlock(&loop.getBody(), {},
                              {b.getI32Type(), qArg, kTile, vTile, accO, rows,
                               rows},
                              SmallVector<Location>(7, loc));
  buildLoopBody(body, body->getArgument(1));
  b.setInsertionPointAfter(loop);
  oFinal = loop.getResult(0);
  mFinal = loop.getResult(1);
  lFinal = loop.getResult(2);
  return loop.getResult(0);
}

/// The math of one key block, written once: the schedule clones it into a
/// masked and an unmasked loop (the latter without fa4.mask).
void AttentionBuilder::buildLoopBody(Block *body, Value q) {
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(body);
  Value n = body->getArgument(0);
  Value k = body->getArgument(2), v = body->getArgument(3);
  Value o = body->getArgument(4), m = body->getArgument(5),
        l = body->getArgument(6);
  Value col = named(mul(n, i32(config.tileN)), "key_col");
  // ---- QK Matmul: S = Q K^T ----
  Value s = QKMmaOp::create(b, loc, accS, q, k);
  // ---- Softcap: S = tanh(S * scale / c), before the mask keeps -inf ----
  if (variant.isSoftcap())
    s = SoftcapOp::create(b, loc, s, softcapPre, softcapOn);
  // ---- Mask: keys past seqlen_k [and outside the causal diagonal or the
  // window's two diagonals] ----
  Value maxDiag = variant.isCausal() ? causalOffset : diagMax;
  s = MaskOp::create(b, loc, s, qRow0, col, seqlenK, maxDiag, diagMin, qGroup);
  // ---- ALiBi: S += slope * |q + Sk - Sq - k| (after the mask: -inf stays) ----
  if (variant.isAlibi())
    s = AlibiOp::create(b, loc, s, qRow0, col, causalOffset, alibiSlope);
  // ---- Online Softmax ----
  // m' = max(m, rowmax(S)); P = exp2(S*s - m'*s);
  // corr = exp2((m - m')*s); l' = l*corr + rowsum(P)
  auto softmax = OnlineSoftmaxOp::create(b, loc, s, m, l, scaleLog2);
  // ---- Dropout: P = keep ? P : 0, after the row sums (the epilogue scales
  // O by 1 / (1 - p)) ----
  // The keep bits depend only on the block's coordinates; drawn here, next
  // to their one use, they fold into the compares. (Drawn before the QK
  // matmul, to overlap it, they held Philox state beside the S
  // accumulators: D = 64 went from 128-odd registers to 163 and one CTA per
  // SM, and measured 1.80x its plain kernel against 1.50x here; run 40.)
  Value probs = softmax.getProbs();
  if (variant.isDropout()) {
    auto bitsType =
        VectorType::get({DropoutMaskOp::getNumWords(accS)}, b.getI32Type());
    Value keepBits = DropoutMaskOp::create(
        b, loc, bitsType, qRow0, col, args["dropout_seed_lo"],
        args["dropout_seed_hi"], dropoutStreamLo, dropoutStreamHi,
        args["dropout_keep"], accS);
    // ---- S_dmask: P as computed, negated where dropped, to columns
    // [col, col + N) of rows [q_row, q_row + M) below seqlen_q ----
    if (variant.isReturnProbs()) {
      Value encoded = DropoutOp::create(b, loc, probs, keepBits,
                                        /*negated=*/true);
      Value columns =
          LLVM::GEPOp::create(b, loc, probsBase.getType(), def.getElementType(),
                              probsBase, ValueRange{col});
      // Varlen: rows below S_dmask's rows only, and a block past its
      // columns stores no row (the tile divides 128, so a block below them
      // fits whole).
      Value rows = seqlenQ;
      if (variant.isVarlen()) {
        // One statement per op: the IR's order must not depend on the host
        // compiler's argument evaluation order.
        Value inside = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::slt, col, args["probs_cols"]);
        Value zero = i32(0);
        Value limit = minS(seqlenQ, args["probs_rows"]);
        rows = arith::SelectOp::create(b, loc, inside, limit, zero);
      }
      StoreTileOp::create(b, loc, encoded, columns, qRow0, rows,
                          args["probs_row_stride"], def.getElementType());
    }
    probs = DropoutOp::create(b, loc, probs, keepBits);
  }
  // ---- PV Matmul: O = O * corr + P V, P packed in registers ----
  Value o1 = RescaleOp::create(b, loc, o, softmax.getCorrection());
  auto pType = AFragType::get(b.getContext(), config.tileM, config.tileN,
                              def.getElementType(), config.numWarps);
  Value p = PackAOp::create(b, loc, pType, probs);
  Value o2 = PVMmaOp::create(b, loc, p, v, o1);
  YieldOp::create(b, loc,
                  ValueRange{o2, softmax.getNewMax(), softmax.getNewSum()});
}

Value AttentionBuilder::varlenLseBase() {
  Value lse = args["lse"];
  Value h64 = ext64(head);
  Value headOffset =
      arith::MulIOp::create(b, loc, h64, args["lse_head_stride"]);
  Value q64 = ext64(qStart);
  Value offset = arith::AddIOp::create(b, loc, headOffset, q64);
  return LLVM::GEPOp::create(b, loc, lse.getType(), b.getF32Type(), lse,
                             ValueRange{offset});
}

void AttentionBuilder::buildEpilogue(Value o, Value m, Value l) {
  // ---- Epilogue: O = O / l, LSE = (m * s + log2(l)) * ln 2 ----
  // A learnable sink: the head's logit, in base 2, joins the denominator.
  Value sink;
  if (variant.isSink()) {
    Value ptr = LLVM::GEPOp::create(b, loc, args["learnable_sink"].getType(),
                                    b.getF32Type(), args["learnable_sink"],
                                    ValueRange{head});
    Value logit = LLVM::LoadOp::create(b, loc, b.getF32Type(), ptr,
                                       /*alignment=*/4);
    sink = named(arith::MulFOp::create(b, loc, logit, f32(1.4426950408889634)),
                 "sink_log2");
  }
  // Dropout: the kept probabilities' 1 / (1 - p), once per output value.
  Value outScale = variant.isDropout() ? args["dropout_scale"] : Value();
  auto final = FinalizeOp::create(b, loc, o, m, l, scaleLog2, sink, outScale);
  // Split-KV: more than one split writes partials for the combine kernel;
  // one split is the whole range and writes O and the LSE itself.
  if (variant.isSplitKV()) {
    Value partial = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                          numSplits, i32(1));
    auto ifOp = scf::IfOp::create(b, loc, partial, /*withElseRegion=*/true);
    b.setInsertionPointToStart(ifOp.thenBlock());
    buildPartialStores(final);
    b.setInsertionPointToStart(ifOp.elseBlock());
  }
  // Varlen: O's base is computed here, from q_start, so that no 64-bit
  // pointer is live across the key loop.
  Value outBase = qStart ? named(sequenceBase("o", def.getElementType(), qStart,
                                              head),
                                 "o_base")
                         : oBase;
  if (qGroup)
    StoreTileOp::create(b, loc, final.getOut(), outBase, qRow0, qRows,
                        args["o_row_stride"], def.getElementType(), qGroup,
                        args["o_head_stride"]);
  else
    StoreTileOp::create(b, loc, final.getOut(), outBase, qRow0, seqlenQ,
                        args["o_row_stride"], def.getElementType());
  // The LSE is optional at run time: a null pointer skips it.
  Value lse = args["lse"];
  Value null = LLVM::ZeroOp::create(b, loc, lse.getType());
  Value wanted =
      LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, lse, null);
  Value lseHead = qGroup ? mul(head, qGroup) : head;
  Value base = qStart ? varlenLseBase()
                      : headBase("lse", b.getF32Type(), batch, lseHead);
  scf::IfOp::create(b, loc, wanted, [&](OpBuilder &, Location) {
    if (qGroup)
      StoreRowsOp::create(b, loc, final.getLse(), base, qRow0, qRows, qGroup,
                          args["lse_head_stride"]);
    else
      StoreRowsOp::create(b, loc, final.getLse(), base, qRow0, seqlenQ);
    scf::YieldOp::create(b, loc);
  });
}

void AttentionBuilder::buildPartialStores(FinalizeOp final) {
  // Partial O (num_splits, batch, Sq, H, Dv): this (split, batch, head)'s
  // row 0 at ((split * B + batch) * Sq * H + head) * Dv, rows H * Dv apart;
  // partial LSE (num_splits, batch, H, Sq): at ((split * B + batch) * H +
  // head) * Sq. B = gridDim.z / num_splits, H = gridDim.y. In 64 bits: the
  // workspace of every split may pass 2^31 elements.
  Value numBatch =
      arith::DivUIOp::create(b, loc, gridDim(gpu::Dimension::z), numSplits);
  Value numHeads = gridDim(gpu::Dimension::y);
  Value entry =
      ext64(arith::AddIOp::create(b, loc, mul(splitIndex, numBatch), batch));
  Value heads64 = ext64(numHeads);
  Value sq64 = ext64(qRows);
  Value dv = i32(def.getHeadDimV());
  Value dv64 = ext64(dv);
  Value entryHeads = arith::MulIOp::create(b, loc, entry, heads64);
  Value head64 = ext64(head);
  Value headRows = arith::AddIOp::create(b, loc, entryHeads, head64);
  // O: (entry * Sq * H + head) * Dv = ((entry * Sq) * H + head) * Dv.
  Value rowBlock = arith::MulIOp::create(
      b, loc, arith::MulIOp::create(b, loc, entry, sq64), heads64);
  Value headRow = arith::AddIOp::create(b, loc, rowBlock, head64);
  Value oOffset = arith::MulIOp::create(b, loc, headRow, dv64);
  Value oPartial = named(
      LLVM::GEPOp::create(b, loc, args["o_partial"].getType(), b.getF32Type(),
                          args["o_partial"], ValueRange{oOffset}),
      "o_partial_base");
  Value rowStride = mul(numHeads, dv);
  StoreTileOp::create(b, loc, final.getOut(), oPartial, qRow0, qRows, rowStride,
                      b.getF32Type());
  Value lseOffset = arith::MulIOp::create(b, loc, headRows, sq64);
  Value lsePartial = named(
      LLVM::GEPOp::create(b, loc, args["lse_partial"].getType(), b.getF32Type(),
                          args["lse_partial"], ValueRange{lseOffset}),
      "lse_partial_base");
  StoreRowsOp::create(b, loc, final.getLse(), lsePartial, qRow0, qRows);
}

void AttentionBuilder::build() {
  auto scope = ScopeOp::create(b, loc, variant.getLayoutName());
  b.createBlock(&scope.getBody());
  if (variant.isKVCache())
    buildCachePrologue();
  else if (variant.isVarlen())
    buildVarlenPrologue();
  else
    buildDensePrologue();
  b.setInsertionPointAfter(scope);
}

namespace {

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct FA4TileAttentionPass final
    : fa4::impl::FA4TileAttentionPassBase<FA4TileAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Chip> parsed = parseChip(chip);
    if (!parsed) {
      getOperation().emitError() << "fa4-tile-attention: unknown chip '"
                                 << chip << "' (sm_120a, sm_121a, sm_90)";
      return signalPassFailure();
    }
    const TargetInfo &target = getTargetInfo(*parsed);

    // The append kernels: elementwise, no tile configuration.
    for (KVAppendOp def :
         llvm::make_early_inc_range(getOperation().getOps<KVAppendOp>())) {
      if (def.getTarget() && *def.getTarget() != *parsed) {
        def.emitOpError() << "is pinned to " << stringifyChip(*def.getTarget())
                          << " but is being compiled for " << target.cpu;
        return signalPassFailure();
      }
      OpBuilder b(def);
      Location loc = def.getLoc();
      auto module = gpu::GPUModuleOp::create(
          b, loc, def.getSymName(),
          b.getArrayAttr({NVVM::NVVMTargetAttr::get(
              b.getContext(), /*optLevel=*/3, "nvptx64-nvidia-cuda", target.cpu,
              target.ptxFeatures)}));
      b.setInsertionPointToStart(module.getBody());
      gpu::GPUFuncOp func = createAppendFunc(b, loc, def);
      b.setInsertionPointToStart(&func.getBody().front());
      buildAppendKernel(b, loc, def, func);
      gpu::ReturnOp::create(b, loc);
      def.erase();
    }
    SmallVector<AttentionOp> defs(getOperation().getOps<AttentionOp>());
    for (AttentionOp def : defs) {
      if (def.getTarget() && *def.getTarget() != *parsed) {
        def.emitOpError() << "is pinned to "
                          << stringifyChip(*def.getTarget())
                          << " but is being compiled for " << target.cpu;
        return signalPassFailure();
      }
      KernelConfig config = chooseKernelConfig(def, target);
      if (std::string problem = checkKernelConfig(def, config, target);
          !problem.empty()) {
        def.emitOpError() << problem;
        return signalPassFailure();
      }
      tile(KernelVariant{def, config, &target});
    }
  }

  /// Replaces the definition with a gpu.module holding its kernel, the
  /// target attached as upstream's nvvm-attach-target would.
  void tile(const KernelVariant &variant) {
    AttentionOp def = variant.def;
    OpBuilder b(def);
    Location loc = def.getLoc();
    const TargetInfo &target = *variant.target;
    auto nvvmTarget = NVVM::NVVMTargetAttr::get(
        b.getContext(), /*optLevel=*/3, "nvptx64-nvidia-cuda", target.cpu,
        target.ptxFeatures);
    auto module = gpu::GPUModuleOp::create(b, loc, def.getSymName(),
                                           b.getArrayAttr({nvvmTarget}));
    b.setInsertionPointToStart(module.getBody());
    gpu::GPUFuncOp func = createKernelFunc(b, loc, variant);
    b.setInsertionPointToStart(&func.getBody().front());
    // Split-KV: the combine may start its CTAs (they wait in
    // griddepcontrol.wait) once every CTA of this grid has started, which
    // hides its launch behind this kernel's last wave.
    if (variant.isSplitKV())
      NVVM::GriddepcontrolOp::create(
          b, loc, NVVM::GridDepActionKind::launch_dependents);
    AttentionBuilder(b, loc, variant, func).build();
    gpu::ReturnOp::create(b, loc);
    // Split-KV: the combine kernel lives in the attention kernel's module.
    if (variant.isSplitKV()) {
      b.setInsertionPointAfter(func);
      gpu::GPUFuncOp combine = createCombineFunc(b, loc, variant);
      b.setInsertionPointToStart(&combine.getBody().front());
      buildCombineKernel(b, loc, variant, combine);
      gpu::ReturnOp::create(b, loc);
    }
    def.erase();
  }
};

} // namespace
