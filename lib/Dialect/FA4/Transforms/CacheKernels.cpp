//===- CacheKernels.cpp - the KV-cache entry point's helper kernels -------===//
//
// The two kernels flash_attn_with_kvcache launches besides attention: the
// split-KV combine (in the attention kernel's module) and the append (new
// keys and values into the cache, rotary embeddings). Both are elementwise:
// one thread per few output elements, built from arith/scf/llvm plus
// fa4.merge_splits, and lowered by the same passes as attention.
//
//===----------------------------------------------------------------------===//

#include "fa4/Dialect/FA4/IR/FA4Ops.h"
#include "fa4/Dialect/FA4/Transforms/KernelABI.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::fa4;

//===----------------------------------------------------------------------===//
// The split-KV combine kernel
//===----------------------------------------------------------------------===//

/// Thread t of the grid merges columns [4c, 4c + 4) of output row
/// r = t / (Dv / 4), c = t % (Dv / 4), where r = (batch * Sq + p) * H + h
/// walks the attention kernel's (batch, Sq, H) view rows in the partial O's
/// order (with GQA packing p and h are the view's: query p / g of head
/// h g + p % g); the thread of column block 0 also writes the row's LSE.
void fa4::buildCombineKernel(OpBuilder &b, Location loc,
                             const KernelVariant &variant,
                             gpu::GPUFuncOp func) {
  KernelArgs args(func, getCombineParams(variant));
  Type elementType = variant.def.getElementType();
  Type f32 = b.getF32Type();
  int64_t dv = variant.def.getHeadDimV();
  int64_t width = kCombineColumnsPerThread;
  auto i32 = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v).getResult();
  };
  auto i64 = [&](Value v) {
    return arith::ExtUIOp::create(b, loc, b.getI64Type(), v).getResult();
  };
  auto toI32 = [&](Value index) {
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), index)
        .getResult();
  };
  // The partials are the attention grid's output: nothing is read before
  // that grid has finished and its writes are visible (a no-op when the
  // launch was an ordinary, fully serialized one).
  NVVM::GriddepcontrolOp::create(b, loc, NVVM::GridDepActionKind::wait);
  Value block = toI32(gpu::BlockIdOp::create(b, loc, gpu::Dimension::x));
  Value tid = toI32(gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x));
  Value thread = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, block, i32(kCombineThreads)), tid);
  Value chunks = i32(dv / width);
  Value row = arith::DivUIOp::create(b, loc, thread, chunks);
  Value chunk = arith::RemUIOp::create(b, loc, thread, chunks);
  Value heads = args["nheads_q"], seqlenQ = args["seqlen_q"];
  Value rows = arith::MulIOp::create(
      b, loc, arith::MulIOp::create(b, loc, args["batch"], seqlenQ), heads);
  Value inside =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, rows);
  scf::IfOp::create(b, loc, inside, [&](OpBuilder &, Location) {
    Value viewHead = arith::RemUIOp::create(b, loc, row, heads);
    Value bq = arith::DivUIOp::create(b, loc, row, heads);
    Value viewRow = arith::RemUIOp::create(b, loc, bq, seqlenQ);
    Value batch = arith::DivUIOp::create(b, loc, bq, seqlenQ);
    // GQA packing: view row p of view head h' is query p / g of head
    // h' g + p % g.
    Value group = args["q_group"];
    Value q = arith::DivUIOp::create(b, loc, viewRow, group);
    Value headBase = arith::MulIOp::create(b, loc, viewHead, group);
    Value headInGroup = arith::RemUIOp::create(b, loc, viewRow, group);
    Value h = arith::AddIOp::create(b, loc, headBase, headInGroup);
    Value column = arith::MulIOp::create(b, loc, chunk, i32(width));
    // Split 0's entries; split i's are i * rows * Dv and i * rows further.
    Value row64 = i64(row);
    Value oRow = arith::MulIOp::create(b, loc, row64, i64(i32(dv)));
    Value oOffset = arith::AddIOp::create(b, loc, oRow, i64(column));
    Value oPartial =
        LLVM::GEPOp::create(b, loc, args["o_partial"].getType(), f32,
                            args["o_partial"], ValueRange{oOffset});
    Value lseOffset = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(
            b, loc,
            arith::AddIOp::create(
                b, loc, arith::MulIOp::create(b, loc, batch, heads), viewHead),
            seqlenQ),
        viewRow);
    Value lsePartial =
        LLVM::GEPOp::create(b, loc, args["lse_partial"].getType(), f32,
                            args["lse_partial"], ValueRange{i64(lseOffset)});
    Value rows64 = i64(rows);
    Value oStride = arith::MulIOp::create(b, loc, rows64, i64(i32(dv)));
    auto merged = MergeSplitsOp::create(b, loc, VectorType::get({width}, f32),
                                        f32, oPartial, lsePartial,
                                        args["num_splits"], oStride, rows64);
    // O[batch, q, h, column ..] in the output's dtype: one 8-byte store.
    Value out = arith::TruncFOp::create(
        b, loc, VectorType::get({width}, elementType), merged.getOut());
    Value outBatch =
        arith::MulIOp::create(b, loc, i64(batch), args["o_batch_stride"]);
    Value outHead =
        arith::MulIOp::create(b, loc, i64(h), args["o_head_stride"]);
    Value outEntry = arith::AddIOp::create(b, loc, outBatch, outHead);
    Value q64 = i64(q);
    Value outRow =
        arith::MulIOp::create(b, loc, q64, i64(args["o_row_stride"]));
    Value outColumn = arith::AddIOp::create(b, loc, outRow, i64(column));
    Value outOffset = arith::AddIOp::create(b, loc, outEntry, outColumn);
    Value outPtr = LLVM::GEPOp::create(b, loc, args["o"].getType(), elementType,
                                       args["o"], ValueRange{outOffset});
    LLVM::StoreOp::create(b, loc, out, outPtr, /*alignment=*/8);
    // The LSE, when wanted, by the row's first thread.
    Value lse = args["lse"];
    Value null = LLVM::ZeroOp::create(b, loc, lse.getType());
    Value lseSet =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, lse, null);
    Value firstChunk =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, chunk, i32(0));
    Value wanted = arith::AndIOp::create(b, loc, lseSet, firstChunk);
    scf::IfOp::create(b, loc, wanted, [&](OpBuilder &, Location) {
      Value lseBatch =
          arith::MulIOp::create(b, loc, i64(batch), args["lse_batch_stride"]);
      Value lseHead =
          arith::MulIOp::create(b, loc, i64(h), args["lse_head_stride"]);
      Value lseEntry = arith::AddIOp::create(b, loc, lseBatch, lseHead);
      Value offset = arith::AddIOp::create(b, loc, lseEntry, i64(q));
      Value ptr = LLVM::GEPOp::create(b, loc, lse.getType(), f32, lse,
                                      ValueRange{offset});
      LLVM::StoreOp::create(b, loc, merged.getLse(), ptr, /*alignment=*/4);
      scf::YieldOp::create(b, loc);
    });
    scf::YieldOp::create(b, loc);
  });
}

//===----------------------------------------------------------------------===//
// The append (and rotary) kernel
//===----------------------------------------------------------------------===//

namespace {

/// Builds fa4.kv_append's kernel. Grid (x, 3): y = 0 new keys, 1 new
/// values, 2 rotated queries; along x, thread u of a region handles pair
/// u % (dim / 2) of token u / (dim / 2), tokens ordered (batch, row, head).
class AppendBuilder {
public:
  AppendBuilder(OpBuilder &b, Location loc, KVAppendOp def, gpu::GPUFuncOp func)
      : b(b), loc(loc), def(def), args(func, getAppendParams(def)) {}

  void build();

private:
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value divU(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value remU(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value i64(Value v) {
    return arith::ExtSIOp::create(b, loc, b.getI64Type(), v);
  }
  /// Prints as %name under --mlir-use-nameloc-as-prefix.
  Value named(Value v, StringRef name) {
    if (Operation *op = v.getDefiningOp())
      op->setLoc(NameLoc::get(b.getStringAttr(name), loc));
    return v;
  }
  /// base + (x0 * s0 + x1 * s1 + x2 * s2) elements, in 64 bits.
  Value address(Value base, Type element,
                ArrayRef<std::pair<Value, Value>> terms) {
    Value offset;
    for (auto [index, stride] : terms) {
      Value term = arith::MulIOp::create(b, loc, i64(index), stride);
      offset = offset ? arith::AddIOp::create(b, loc, offset, term) : term;
    }
    return LLVM::GEPOp::create(b, loc, base.getType(), element, base,
                               ValueRange{offset});
  }
  Value isSet(Value ptr) {
    Value null = LLVM::ZeroOp::create(b, loc, ptr.getType());
    return LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, ptr, null);
  }
  /// ptr ? ptr[index] : otherwise (int32).
  Value loadOr(Value ptr, Value index, Value otherwise);
  Value loadElement(Value ptr, Value column);
  void storeElement(Value value, Value ptr, Value column);

  /// One region: new keys (rotated), new values, or queries (rotated).
  enum class Region { Keys, Values, Queries };
  void buildRegion(Region region, Value unit);
  /// Where cache row `row` of batch entry `batch`, head `head` starts.
  Value cacheRow(StringRef tensor, Value batch, Value row, Value head);

  OpBuilder &b;
  Location loc;
  KVAppendOp def;
  KernelArgs args;
};

} // namespace

Value AppendBuilder::loadOr(Value ptr, Value index, Value otherwise) {
  auto ifOp = scf::IfOp::create(
      b, loc, isSet(ptr),
      [&](OpBuilder &, Location) {
        Value at = LLVM::GEPOp::create(b, loc, ptr.getType(), b.getI32Type(),
                                       ptr, ValueRange{index});
        Value value =
            LLVM::LoadOp::create(b, loc, b.getI32Type(), at, /*alignment=*/4);
        scf::YieldOp::create(b, loc, value);
      },
      [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, otherwise); });
  return ifOp.getResult(0);
}

Value AppendBuilder::loadElement(Value ptr, Value column) {
  Type element = def.getElementType();
  Value at = LLVM::GEPOp::create(b, loc, ptr.getType(), element, ptr,
                                 ValueRange{column});
  Value value = LLVM::LoadOp::create(b, loc, element, at, /*alignment=*/2);
  return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
}

void AppendBuilder::storeElement(Value value, Value ptr, Value column) {
  Type element = def.getElementType();
  Value at = LLVM::GEPOp::create(b, loc, ptr.getType(), element, ptr,
                                 ValueRange{column});
  Value rounded = arith::TruncFOp::create(b, loc, element, value);
  LLVM::StoreOp::create(b, loc, rounded, at, /*alignment=*/2);
}

Value AppendBuilder::cacheRow(StringRef tensor, Value batch, Value row,
                              Value head) {
  std::string name = tensor.str();
  Type element = def.getElementType();
  Value base = args[name];
  if (def.getPagedKv()) {
    // Row r of entry b: page block_table[b * stride + r / page_size],
    // clamped into the cache's pages, row r % page_size of it.
    Value pageSize = args["page_size"];
    Value tableRow = mul(batch, args["block_table_stride"]);
    Value slot = add(tableRow, divU(row, pageSize));
    Value tableEntry = LLVM::GEPOp::create(
        b, loc, args["block_table"].getType(), b.getI32Type(),
        args["block_table"], ValueRange{slot});
    Value page = LLVM::LoadOp::create(b, loc, b.getI32Type(), tableEntry,
                                      /*alignment=*/4);
    Value lastPage = sub(args["num_pages"], i32(1));
    page = arith::MinSIOp::create(
        b, loc, arith::MaxSIOp::create(b, loc, page, i32(0)), lastPage);
    return address(base, element,
                   {{page, args[name + "_page_stride"]},
                    {remU(row, pageSize), args[name + "_row_stride"]},
                    {head, args[name + "_head_stride"]}});
  }
  // Entry cache_batch_idx[b] (clamped below cache_entries), or b.
  Value entry = loadOr(args["cache_batch_idx"], batch, batch);
  Value lastEntry = sub(args["cache_entries"], i32(1));
  entry = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, entry, i32(0)), lastEntry);
  return address(base, element,
                 {{entry, args[name + "_batch_stride"]},
                  {row, args[name + "_row_stride"]},
                  {head, args[name + "_head_stride"]}});
}

void AppendBuilder::buildRegion(Region region, Value unit) {
  bool queries = region == Region::Queries;
  bool values = region == Region::Values;
  Value heads = queries ? args["nheads_q"] : args["nheads_kv"];
  Value rows = queries ? args["seqlen_q"] : args["seqlen_new"];
  Value dim = values ? args["head_dim_v"] : args["head_dim"];
  Value pairs = arith::ShRUIOp::create(b, loc, dim, i32(1));
  Value tokens = mul(mul(args["batch"], rows), heads);
  Value total = mul(tokens, pairs);
  Value inside = cmp(arith::CmpIPredicate::ult, unit, total);
  scf::IfOp::create(b, loc, inside, [&](OpBuilder &, Location) {
    Value pair = named(remU(unit, pairs), "pair");
    Value token = divU(unit, pairs);
    Value head = named(remU(token, heads), "head");
    Value batchRow = divU(token, heads);
    Value row = named(remU(batchRow, rows), "row");
    Value batch = named(divU(batchRow, rows), "batch");
    // ---- The token's position: cache_seqlens[b] (+ its row) ----
    Value cached = loadOr(args["cache_seqlens"], batch, args["seqlen_k"]);
    Value offset = row;
    if (queries)
      offset =
          select(cmp(arith::CmpIPredicate::ne, args["q_positions"], i32(0)),
                 row, i32(0));
    Value position = named(add(cached, offset), "position");
    // ---- The pair's columns: rotated (i, i + rd/2) or (2i, 2i + 1), or
    // copied two at a time past the rotary dim ----
    Value rotaryDim = values ? i32(0) : args["rotary_dim"];
    Value half = arith::ShRUIOp::create(b, loc, rotaryDim, i32(1));
    Value rotating = cmp(arith::CmpIPredicate::ult, pair, half);
    Value interleaved =
        cmp(arith::CmpIPredicate::ne, args["rotary_interleaved"], i32(0));
    Value twice = mul(pair, i32(2));
    Value copyFirst = add(rotaryDim, mul(sub(pair, half), i32(2)));
    Value col1 = named(
        select(rotating, select(interleaved, twice, pair), copyFirst), "col1");
    Value twicePlusOne = add(twice, i32(1));
    Value pairPlusHalf = add(pair, half);
    Value rotating2 = select(interleaved, twicePlusOne, pairPlusHalf);
    Value col2 =
        named(select(rotating, rotating2, add(copyFirst, i32(1))), "col2");
    Value source;
    if (queries)
      source = address(args["q"], def.getElementType(),
                       {{batch, args["q_batch_stride"]},
                        {row, args["q_row_stride"]},
                        {head, args["q_head_stride"]}});
    else {
      std::string name = values ? "v_new" : "k_new";
      source = address(args[name], def.getElementType(),
                       {{batch, args[name + "_batch_stride"]},
                        {row, args[name + "_row_stride"]},
                        {head, args[name + "_head_stride"]}});
    }
    Value x1 = loadElement(source, col1);
    Value x2 = loadElement(source, col2);
    // ---- y1 = x1 cos - x2 sin, y2 = x1 sin + x2 cos at the position's
    // row of the tables (clamped into them) ----
    Type f32 = b.getF32Type();
    auto rotated = scf::IfOp::create(
        b, loc, rotating,
        [&](OpBuilder &, Location) {
          Value lastRow = sub(args["seqlen_ro"], i32(1));
          Value tableRow = arith::MinSIOp::create(
              b, loc, arith::MaxSIOp::create(b, loc, position, i32(0)),
              lastRow);
          Value index = add(mul(tableRow, half), pair);
          Value cos = loadElement(args["rotary_cos"], index);
          Value sin = loadElement(args["rotary_sin"], index);
          Value x1Cos = arith::MulFOp::create(b, loc, x1, cos);
          Value x2Sin = arith::MulFOp::create(b, loc, x2, sin);
          Value y1 = arith::SubFOp::create(b, loc, x1Cos, x2Sin);
          Value x1Sin = arith::MulFOp::create(b, loc, x1, sin);
          Value x2Cos = arith::MulFOp::create(b, loc, x2, cos);
          Value y2 = arith::AddFOp::create(b, loc, x1Sin, x2Cos);
          scf::YieldOp::create(b, loc, ValueRange{y1, y2});
        },
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(b, loc, ValueRange{x1, x2});
        });
    (void)f32;
    Value y1 = rotated.getResult(0), y2 = rotated.getResult(1);
    // ---- Where it goes ----
    if (queries) {
      // q_rot (B, Sq, Hq, D), contiguous.
      Value qRowIndex = add(mul(add(mul(batch, rows), row), heads), head);
      Value dest =
          address(args["q_rot"], def.getElementType(), {{qRowIndex, i64(dim)}});
      storeElement(y1, dest, col1);
      storeElement(y2, dest, col2);
      scf::YieldOp::create(b, loc);
      return;
    }
    // A row past the cache's capacity (a device-held length too large) is
    // not written.
    Value nonNegative = cmp(arith::CmpIPredicate::sge, position, i32(0));
    Value belowCapacity =
        cmp(arith::CmpIPredicate::slt, position, args["cache_capacity"]);
    Value fits = arith::AndIOp::create(b, loc, nonNegative, belowCapacity);
    scf::IfOp::create(b, loc, fits, [&](OpBuilder &, Location) {
      Value dest = cacheRow(values ? "v" : "k", batch, position, head);
      storeElement(y1, dest, col1);
      storeElement(y2, dest, col2);
      scf::YieldOp::create(b, loc);
    });
    scf::YieldOp::create(b, loc);
  });
}

void AppendBuilder::build() {
  auto toI32 = [&](Value index) {
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), index)
        .getResult();
  };
  Value block = toI32(gpu::BlockIdOp::create(b, loc, gpu::Dimension::x));
  Value tid = toI32(gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x));
  Value unit = add(mul(block, i32(kAppendThreads)), tid);
  Value region = toI32(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y));
  for (auto entry : {std::pair<int, Region>{0, Region::Keys},
                     {1, Region::Values},
                     {2, Region::Queries}}) {
    Region kind = entry.second;
    Value here = cmp(arith::CmpIPredicate::eq, region, i32(entry.first));
    scf::IfOp::create(b, loc, here, [&](OpBuilder &, Location) {
      buildRegion(kind, unit);
      scf::YieldOp::create(b, loc);
    });
  }
}

void fa4::buildAppendKernel(OpBuilder &b, Location loc, KVAppendOp def,
                            gpu::GPUFuncOp func) {
  AppendBuilder(b, loc, def, func).build();
}
