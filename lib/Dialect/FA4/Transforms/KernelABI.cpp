//===- KernelABI.cpp - kernel parameters, features and launch rules -------===//
//
// The parameter table with its predicates, and the attributes that become
// a kernel's metadata.
//
//===----------------------------------------------------------------------===//

#include "fa4/Dialect/FA4/Transforms/KernelABI.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

#include <string>

using namespace mlir;
using namespace mlir::fa4;

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

namespace {
bool always(const KernelVariant &) { return true; }
/// Fixed lengths, (batch, seq, head, dim) tensors.
bool dense(const KernelVariant &v) { return !v.isVarlen(); }
/// Packed sequences: cu_seqlens, (total, head, dim) tensors.
bool varlen(const KernelVariant &v) { return v.isVarlen(); }
/// Varlen K/V that are packed rows, not pages.
bool varlenRows(const KernelVariant &v) { return v.isVarlen() && !v.isPaged(); }
bool paged(const KernelVariant &v) { return v.isPaged(); }
/// Tensors with a batch dimension of rows: dense K/V and a contiguous cache.
bool denseRows(const KernelVariant &v) { return !v.isVarlen() && !v.isPaged(); }
bool kvCache(const KernelVariant &v) { return v.isKVCache(); }
/// A contiguous cache: entries of rows, selected and offset per batch entry.
bool cacheRows(const KernelVariant &v) { return v.isKVCache() && !v.isPaged(); }
bool splitKV(const KernelVariant &v) { return v.isSplitKV(); }
/// KV-cache kernels that pack a GQA group into the M tile (ALiBi's slope is
/// per query head: its kernels do not pack).
bool packedCache(const KernelVariant &v) {
  return v.isKVCache() && !v.isAlibi();
}
bool tma(const KernelVariant &v) { return v.isTma(); }
bool window(const KernelVariant &v) { return v.isWindow(); }
bool softcap(const KernelVariant &v) { return v.isSoftcap(); }
bool alibi(const KernelVariant &v) { return v.isAlibi(); }
bool sink(const KernelVariant &v) { return v.isSink(); }
bool dropout(const KernelVariant &v) { return v.isDropout(); }
bool returnProbs(const KernelVariant &v) { return v.isReturnProbs(); }
bool varlenProbs(const KernelVariant &v) {
  return v.isReturnProbs() && v.isVarlen();
}
bool blockSparse(const KernelVariant &v) { return v.isBlockSparse(); }
} // namespace

/// Every parameter any attention kernel takes, in order. The dense kernels'
/// parameters keep the order they had before varlen and paging existed.
static constexpr ParamSpec kAttentionParams[] = {
    {"q", ParamKind::GlobalPtr, always},
    {"k", ParamKind::GlobalPtr, always},
    {"v", ParamKind::GlobalPtr, always},
    {"o", ParamKind::GlobalPtr, always},
    // Null: the LSE is not written.
    {"lse", ParamKind::GlobalPtr, always},
    // Split-KV: with num_splits > 1, split s writes its normalized fp32
    // partial O (num_splits, batch, seqlen_q, nheads_q, head_dim_v) and LSE
    // (num_splits, batch, nheads_q, seqlen_q) here instead of o and lse.
    {"o_partial", ParamKind::GlobalPtr, splitKV},
    {"lse_partial", ParamKind::GlobalPtr, splitKV},
    {"num_splits", ParamKind::I32, splitKV},
    {"seqlen_q", ParamKind::I32, dense},
    // KV cache: the key count when cache_seqlens is null.
    {"seqlen_k", ParamKind::I32, dense},
    // KV cache: int32 (batch) lengths before the append (null: seqlen_k),
    // plus the seqlen_new appended tokens; a contiguous cache's entry
    // (cache_batch_idx, null: b) of cache_entries, its first key row
    // (cache_leftpad, null: 0) and its rows per entry.
    {"cache_seqlens", ParamKind::GlobalPtr, kvCache},
    {"seqlen_new", ParamKind::I32, kvCache},
    {"cache_batch_idx", ParamKind::GlobalPtr, cacheRows},
    {"cache_leftpad", ParamKind::GlobalPtr, cacheRows},
    {"cache_entries", ParamKind::I32, cacheRows},
    {"cache_capacity", ParamKind::I32, cacheRows},
    // KV cache: GQA packing, the query heads per CTA (1: none); the grid's
    // heads are then KV heads, head_ratio 1.
    {"q_group", ParamKind::I32, packedCache},
    // int32 (batch + 1) offsets into the packed tokens; seqused_k (batch)
    // may be null.
    {"cu_seqlens_q", ParamKind::GlobalPtr, varlen},
    {"cu_seqlens_k", ParamKind::GlobalPtr, varlen},
    {"seqused_k", ParamKind::GlobalPtr, varlen},
    // The packed tensors' token counts: cu_seqlens are clamped to them.
    {"total_q", ParamKind::I32, varlen},
    {"total_k", ParamKind::I32, varlenRows},
    {"head_ratio", ParamKind::I32, always},
    {"q_batch_stride", ParamKind::I64, dense},
    {"q_head_stride", ParamKind::I64, always},
    {"q_row_stride", ParamKind::I32, always},
    {"k_batch_stride", ParamKind::I64, denseRows},
    {"k_head_stride", ParamKind::I64, always},
    {"k_row_stride", ParamKind::I32, always},
    {"v_batch_stride", ParamKind::I64, denseRows},
    {"v_head_stride", ParamKind::I64, always},
    {"v_row_stride", ParamKind::I32, always},
    // Paged K/V (num_pages, page_size, heads, dim): int32 block table
    // (batch, max_pages) with its row stride.
    {"k_page_stride", ParamKind::I64, paged},
    {"v_page_stride", ParamKind::I64, paged},
    {"block_table", ParamKind::GlobalPtr, paged},
    {"block_table_stride", ParamKind::I32, paged},
    {"page_size", ParamKind::I32, paged},
    // x / page_size = umulhi(x, page_magic) >> page_shift for x < 2^31.
    {"page_magic", ParamKind::I32, paged},
    {"page_shift", ParamKind::I32, paged},
    {"max_pages", ParamKind::I32, paged},
    {"num_pages", ParamKind::I32, paged},
    {"o_batch_stride", ParamKind::I64, dense},
    {"o_head_stride", ParamKind::I64, always},
    {"o_row_stride", ParamKind::I32, always},
    {"lse_batch_stride", ParamKind::I64, dense},
    {"lse_head_stride", ParamKind::I64, always},
    {"softmax_scale", ParamKind::F32, always},
    // Window sizes, FlashAttention-2's: -1 (any negative) is unbounded.
    {"window_left", ParamKind::I32, window},
    {"window_right", ParamKind::I32, window},
    // The cap c > 0 of c * tanh(S / c).
    {"softcap", ParamKind::F32, softcap},
    // fp32 ALiBi slopes: entry b * alibi_batch_stride + h (stride 0: one
    // slope per head for every batch entry).
    {"alibi_slopes", ParamKind::GlobalPtr, alibi},
    {"alibi_batch_stride", ParamKind::I32, alibi},
    // fp32 (nheads_q): head h's learnable sink logit (in the units of the
    // scaled scores).
    {"learnable_sink", ParamKind::GlobalPtr, sink},
    // Dropout (fa4.dropout): the Philox key (a 64-bit seed as halves), the
    // 64-bit counter offset (the stream of (batch, head) is offset +
    // batch * nheads_q + head), the 8-bit keep threshold round((1 - p) *
    // 256) and 1 / (1 - p).
    {"dropout_seed_lo", ParamKind::I32, dropout},
    {"dropout_seed_hi", ParamKind::I32, dropout},
    {"dropout_offset_lo", ParamKind::I32, dropout},
    {"dropout_offset_hi", ParamKind::I32, dropout},
    {"dropout_keep", ParamKind::I32, dropout},
    {"dropout_scale", ParamKind::F32, dropout},
    // A u64 in device memory added to the offset (the runtime then passes
    // halves of 0), read once by each CTA; null reads a zero word of the
    // module (CUDA graph capture: a captured kernel writes it, so every
    // replay draws fresh masks).
    {"dropout_offset_ptr", ParamKind::GlobalPtr, dropout},
    // S_dmask (return_probs): (batch, nheads_q, rows, columns) in the
    // kernel's dtype, column stride 1; the rows below seqlen_q and every
    // visited key block's columns are written.
    {"probs", ParamKind::GlobalPtr, returnProbs},
    {"probs_batch_stride", ParamKind::I64, returnProbs},
    {"probs_head_stride", ParamKind::I64, returnProbs},
    {"probs_row_stride", ParamKind::I32, returnProbs},
    // Varlen: S_dmask's rows and columns (max_seqlen_q and max_seqlen_k
    // rounded up to 128); rows at or past probs_rows and key blocks at or
    // past probs_cols are not stored, so a sequence longer than the
    // max_seqlen_q / max_seqlen_k the caller gave writes nothing outside
    // S_dmask. The grid bounds the rows to gridDim.x * tile_m, which is
    // round_up(max_seqlen_q, 128) or less except for max_seqlen_q = 0 (a
    // grid of one m-block); the kernel does not rely on the grid.
    {"probs_rows", ParamKind::I32, varlenProbs},
    {"probs_cols", ParamKind::I32, varlenProbs},
    // Block-sparse (FlashAttention-4's BlockSparseTensors): int32 counts
    // (batch, heads, m_blocks) and entry lists (batch, heads, m_blocks,
    // capacity), contiguous, for the mask list and the full list. `heads`
    // is 1 (one pattern for every head) or nheads_q; query head h reads
    // pattern h % heads. Sparse q-block i holds query rows [i * rows,
    // (i + 1) * rows), a sparse key block `tiles` key tiles. A count is
    // clamped to [0, capacity]; the full list's capacity 0 means none.
    {"mask_block_cnt", ParamKind::GlobalPtr, blockSparse},
    {"mask_block_idx", ParamKind::GlobalPtr, blockSparse},
    {"full_block_cnt", ParamKind::GlobalPtr, blockSparse},
    {"full_block_idx", ParamKind::GlobalPtr, blockSparse},
    {"sparse_heads", ParamKind::I32, blockSparse},
    {"sparse_m_blocks", ParamKind::I32, blockSparse},
    {"mask_block_capacity", ParamKind::I32, blockSparse},
    {"full_block_capacity", ParamKind::I32, blockSparse},
    {"sparse_block_rows", ParamKind::I32, blockSparse},
    {"sparse_block_tiles", ParamKind::I32, blockSparse},
    // CUtensorMaps by value (128 B, grid constants): 4-D views of Q, K, V as
    // (head_dim, seq, head, batch), boxes of one swizzle chunk x tile rows.
    {"q_tma", ParamKind::TensorMap, tma},
    {"k_tma", ParamKind::TensorMap, tma},
    {"v_tma", ParamKind::TensorMap, tma},
};

/// The split-KV combine kernel's parameters: the attention kernel's
/// partials in, the final O and LSE out, with the sizes of the attention
/// kernel's (batch, seqlen_q, nheads_q) view.
static constexpr ParamSpec kCombineParams[] = {
    {"o_partial", ParamKind::GlobalPtr, always},
    {"lse_partial", ParamKind::GlobalPtr, always},
    {"o", ParamKind::GlobalPtr, always},
    {"lse", ParamKind::GlobalPtr, always},
    {"num_splits", ParamKind::I32, always},
    {"batch", ParamKind::I32, always},
    {"seqlen_q", ParamKind::I32, always},
    {"nheads_q", ParamKind::I32, always},
    // The attention kernel's GQA packing: view row p of view head h is
    // query p / q_group of head h * q_group + p % q_group.
    {"q_group", ParamKind::I32, always},
    {"o_batch_stride", ParamKind::I64, always},
    {"o_head_stride", ParamKind::I64, always},
    {"o_row_stride", ParamKind::I32, always},
    {"lse_batch_stride", ParamKind::I64, always},
    {"lse_head_stride", ParamKind::I64, always},
};

SmallVector<ParamSpec> fa4::getKernelParams(const KernelVariant &variant) {
  SmallVector<ParamSpec> params;
  for (const ParamSpec &spec : kAttentionParams)
    if (spec.takes(variant))
      params.push_back(spec);
  return params;
}

namespace {
/// The append kernel's predicates: its variant is only the cache layout.
bool appendAlways(const KernelVariant &) { return true; }
} // namespace

/// fa4.kv_append's parameters. Strides are in elements, 64-bit; sizes i32.
/// `paged` selects the block-table group, otherwise the entry group.
static SmallVector<ParamSpec> appendParams(bool paged) {
  auto p = [](const char *name, ParamKind kind) {
    return ParamSpec{name, kind, appendAlways};
  };
  SmallVector<ParamSpec> params = {
      p("q", ParamKind::GlobalPtr),
      // Rotated queries, (batch, seqlen_q, nheads_q, head_dim) contiguous.
      p("q_rot", ParamKind::GlobalPtr),
      p("k_new", ParamKind::GlobalPtr),
      p("v_new", ParamKind::GlobalPtr),
      p("k", ParamKind::GlobalPtr),
      p("v", ParamKind::GlobalPtr),
      // (seqlen_ro, rotary_dim / 2) in the dtype; unused at rotary_dim 0.
      p("rotary_cos", ParamKind::GlobalPtr),
      p("rotary_sin", ParamKind::GlobalPtr),
      // int32 (batch) lengths before the append; null: seqlen_k.
      p("cache_seqlens", ParamKind::GlobalPtr),
      p("seqlen_k", ParamKind::I32),
  };
  if (paged)
    params.append({p("block_table", ParamKind::GlobalPtr),
                   p("block_table_stride", ParamKind::I32),
                   p("page_size", ParamKind::I32),
                   p("num_pages", ParamKind::I32),
                   p("k_page_stride", ParamKind::I64),
                   p("v_page_stride", ParamKind::I64)});
  else
    params.append({p("cache_batch_idx", ParamKind::GlobalPtr),
                   p("cache_entries", ParamKind::I32),
                   p("k_batch_stride", ParamKind::I64),
                   p("v_batch_stride", ParamKind::I64)});
  params.append({
      // Rows per entry: rows at or past it are not written.
      p("cache_capacity", ParamKind::I32),
      p("batch", ParamKind::I32),
      p("seqlen_new", ParamKind::I32),
      // 0 when there is no rotary: the query region has nothing to do.
      p("seqlen_q", ParamKind::I32),
      p("nheads_q", ParamKind::I32),
      p("nheads_kv", ParamKind::I32),
      p("head_dim", ParamKind::I32),
      p("head_dim_v", ParamKind::I32),
      p("rotary_dim", ParamKind::I32),
      p("rotary_interleaved", ParamKind::I32),
      // 1: query s at cache_seqlens[b] + s (causal, local); 0: all at
      // cache_seqlens[b].
      p("q_positions", ParamKind::I32),
      p("seqlen_ro", ParamKind::I32),
      p("q_batch_stride", ParamKind::I64),
      p("q_row_stride", ParamKind::I64),
      p("q_head_stride", ParamKind::I64),
      p("k_new_batch_stride", ParamKind::I64),
      p("k_new_row_stride", ParamKind::I64),
      p("k_new_head_stride", ParamKind::I64),
      p("v_new_batch_stride", ParamKind::I64),
      p("v_new_row_stride", ParamKind::I64),
      p("v_new_head_stride", ParamKind::I64),
      p("k_row_stride", ParamKind::I64),
      p("k_head_stride", ParamKind::I64),
      p("v_row_stride", ParamKind::I64),
      p("v_head_stride", ParamKind::I64),
  });
  return params;
}

SmallVector<ParamSpec> fa4::getAppendParams(KVAppendOp def) {
  return appendParams(def.getPagedKv());
}

SmallVector<ParamSpec> fa4::getCombineParams(const KernelVariant &variant) {
  SmallVector<ParamSpec> params;
  for (const ParamSpec &spec : kCombineParams)
    if (spec.takes(variant))
      params.push_back(spec);
  return params;
}

KernelArgs::KernelArgs(gpu::GPUFuncOp func, ArrayRef<ParamSpec> params) {
  for (auto [spec, arg] : llvm::zip(params, func.getArguments()))
    args[spec.name] = arg;
}

Value KernelArgs::operator[](StringRef name) const {
  auto it = args.find(name);
  assert(it != args.end() && "the variant does not take this parameter");
  return it->second;
}

//===----------------------------------------------------------------------===//
// Metadata attributes
//===----------------------------------------------------------------------===//

/// What the kernel computes: the runtime selects a kernel whose features
/// equal the request's, key by key.
static DictionaryAttr buildFeatures(Builder &b, const KernelVariant &v) {
  AttentionOp def = v.def;
  SmallVector<NamedAttribute> entries = {
      b.getNamedAttr("kernel", b.getStringAttr("attention")),
      b.getNamedAttr("dtype", TypeAttr::get(def.getElementType())),
      b.getNamedAttr("head_dim", b.getI64IntegerAttr(def.getHeadDim())),
      b.getNamedAttr("head_dim_v", b.getI64IntegerAttr(def.getHeadDimV())),
      b.getNamedAttr("causal", b.getBoolAttr(v.isCausal())),
      b.getNamedAttr("window", b.getBoolAttr(v.isWindow())),
      b.getNamedAttr("softcap", b.getBoolAttr(v.isSoftcap())),
      b.getNamedAttr("alibi", b.getBoolAttr(v.isAlibi())),
      b.getNamedAttr("sink", b.getBoolAttr(v.isSink())),
      b.getNamedAttr("varlen", b.getBoolAttr(v.isVarlen())),
      b.getNamedAttr("paged_kv", b.getBoolAttr(v.isPaged())),
      b.getNamedAttr("kv_cache", b.getBoolAttr(v.isKVCache())),
      b.getNamedAttr("split_kv", b.getBoolAttr(v.isSplitKV())),
      b.getNamedAttr("dropout", b.getBoolAttr(v.isDropout())),
      b.getNamedAttr("return_probs", b.getBoolAttr(v.isReturnProbs())),
      b.getNamedAttr("block_sparse", b.getBoolAttr(v.isBlockSparse())),
      b.getNamedAttr("load_path",
                     b.getStringAttr(stringifyLoadPath(def.getLoadPath()))),
  };
  // Present only when true, so the other kernels' metadata (and the
  // requests that select them) stay as they were.
  if (v.isSwitchable())
    entries.push_back(b.getNamedAttr("switchable", b.getBoolAttr(true)));
  return b.getDictionaryAttr(entries);
}

/// How it computes it (informational: tools and benchmarks print it).
static DictionaryAttr buildConfig(Builder &b, const KernelConfig &config) {
  return b.getDictionaryAttr({
      b.getNamedAttr("tile_m", b.getI64IntegerAttr(config.tileM)),
      b.getNamedAttr("tile_n", b.getI64IntegerAttr(config.tileN)),
      b.getNamedAttr("num_warps", b.getI64IntegerAttr(config.numWarps)),
      b.getNamedAttr("num_stages", b.getI64IntegerAttr(config.numStages)),
      b.getNamedAttr("q_in_registers", b.getBoolAttr(config.qInRegisters)),
  });
}

/// The launch grid as expressions over the request's sizes (the runtime's
/// names: batch, nheads_q, seqlen_q, max_seqlen_q, ...), one per dimension:
/// x = m-blocks, y = query heads, z = batch entries. A varlen sequence
/// longer than max_seqlen_q has rows no CTA covers; the last CTA fills them
/// with NaN (never stale), and causal CTAs count longest-first over the
/// covered m-blocks.
static ArrayAttr buildGrid(Builder &b, const KernelVariant &v) {
  std::string tileM = std::to_string(v.config.tileM);
  std::string x = v.isVarlen() ? "max(cdiv(max_seqlen_q, " + tileM + "), 1)"
                               : "cdiv(seqlen_q, " + tileM + ")";
  // Split-KV: z = batch * num_splits, split = z % num_splits.
  return b.getStrArrayAttr(
      {x, "nheads_q", v.isSplitKV() ? "batch * num_splits" : "batch"});
}

/// Bytes of partial O and LSE: `split_partials` is the request's
/// num_splits when it is above 1 (the kernel then writes partials), else 0.
static std::string buildWorkspace(const KernelVariant &v) {
  if (!v.isSplitKV())
    return "0";
  return "split_partials * batch * seqlen_q * nheads_q * " +
         std::to_string((v.def.getHeadDimV() + 1) * 4);
}

/// What the runtime needs to encode each tensor-map parameter: the tensor it
/// views and the box (tile rows x one swizzle chunk of columns).
static DictionaryAttr buildTensorMaps(Builder &b, const KernelVariant &v) {
  AttentionOp def = v.def;
  int64_t elementBytes = def.getElementType().getIntOrFloatBitWidth() / 8;
  auto entry = [&](StringRef param, StringRef tensor, int64_t rows,
                   int64_t cols) {
    int64_t chunk = cols % 64 == 0 ? 64 : 32;
    return b.getNamedAttr(
        param, b.getDictionaryAttr({
                   b.getNamedAttr("tensor", b.getStringAttr(tensor)),
                   b.getNamedAttr("box_rows", b.getI64IntegerAttr(rows)),
                   b.getNamedAttr("box_cols", b.getI64IntegerAttr(chunk)),
                   b.getNamedAttr("swizzle",
                                  b.getI64IntegerAttr(chunk * elementBytes)),
               }));
  };
  return b.getDictionaryAttr(
      {entry("q_tma", "q", v.config.tileM, def.getHeadDim()),
       entry("k_tma", "k", v.config.tileN, def.getHeadDim()),
       entry("v_tma", "v", v.config.tileN, def.getHeadDimV())});
}

static Type getParamType(MLIRContext *ctx, ParamKind kind) {
  switch (kind) {
  case ParamKind::GlobalPtr:
    return LLVM::LLVMPointerType::get(ctx, 1);
  case ParamKind::TensorMap:
    // A generic pointer to the by-value parameter (fa4-emit-ptx marks it
    // byval / grid_constant on the final llvm.func).
    return LLVM::LLVMPointerType::get(ctx, 0);
  case ParamKind::I32:
    return IntegerType::get(ctx, 32);
  case ParamKind::I64:
    return IntegerType::get(ctx, 64);
  case ParamKind::F32:
    return Float32Type::get(ctx);
  }
  llvm_unreachable("unknown parameter kind");
}

gpu::GPUFuncOp fa4::createKernelFunc(OpBuilder &b, Location loc,
                                     const KernelVariant &variant) {
  MLIRContext *ctx = b.getContext();
  SmallVector<ParamSpec> params = getKernelParams(variant);
  SmallVector<Type> types;
  SmallVector<Attribute> names;
  for (const ParamSpec &spec : params) {
    types.push_back(getParamType(ctx, spec.kind));
    names.push_back(b.getStringAttr(spec.name));
  }
  StringRef symbol = variant.def.getSymName();
  auto func =
      gpu::GPUFuncOp::create(b, loc, symbol, b.getFunctionType(types, {}));
  // Named arguments: `--mlir-use-nameloc-as-prefix` prints them as %q, %k...
  for (auto [spec, arg] : llvm::zip(params, func.getArguments()))
    arg.setLoc(NameLoc::get(b.getStringAttr(spec.name), loc));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  const KernelConfig &config = variant.config;
  int32_t threads = static_cast<int32_t>(config.numCtaThreads());
  func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({threads, 1, 1}));
  func->setAttr("fa4.abi", b.getArrayAttr(names));
  func->setAttr("fa4.features", buildFeatures(b, variant));
  func->setAttr("fa4.config", buildConfig(b, config));
  func->setAttr("fa4.grid", buildGrid(b, variant));
  func->setAttr("fa4.workspace", b.getStringAttr(buildWorkspace(variant)));
  if (variant.isTma())
    func->setAttr("fa4.tensor_maps", buildTensorMaps(b, variant));
  // Registers at entry: every thread of the CTA must fit one SM. A
  // warp-specialized kernel states its cap even at 255: without one, ptxas
  // aims a 256-thread CTA at 128 registers (two CTAs per SM) and the
  // 4-MMA-warp D = 96 kernel spilled; with `.maxnreg 255` it takes 147.
  // The same holds for the kernels with a window, softcap or ALiBi:
  // without a stated cap, ptxas squeezes the sm_90 build of the D = 64 ones
  // into 128 registers (two CTAs per SM) and spills 12 bytes; with it, it
  // takes 150-170, as the sm_120a build does even without (153-161), so the
  // validation build runs the SM120 occupancy too. Dropout likewise (the
  // sm_121a build of D = 64 causal dropout spilled 20 bytes at 128). The
  // plain and causal kernels keep their measured PTX.
  int64_t cap = getRegisterCap(config, *variant.target);
  bool scoreMods = variant.isWindow() || variant.isSoftcap() ||
                   variant.isAlibi() || variant.isDropout();
  if (cap < 255 || config.warpSpecialized || scoreMods || variant.isKVCache())
    func->setAttr("nvvm.maxnreg",
                  b.getI32IntegerAttr(static_cast<int32_t>(cap)));
  return func;
}

gpu::GPUFuncOp fa4::createCombineFunc(OpBuilder &b, Location loc,
                                      const KernelVariant &variant) {
  MLIRContext *ctx = b.getContext();
  SmallVector<ParamSpec> params = getCombineParams(variant);
  SmallVector<Type> types;
  SmallVector<Attribute> names;
  for (const ParamSpec &spec : params) {
    types.push_back(getParamType(ctx, spec.kind));
    names.push_back(b.getStringAttr(spec.name));
  }
  std::string symbol = (variant.def.getSymName() + "_combine").str();
  auto func =
      gpu::GPUFuncOp::create(b, loc, symbol, b.getFunctionType(types, {}));
  for (auto [spec, arg] : llvm::zip(params, func.getArguments()))
    arg.setLoc(NameLoc::get(b.getStringAttr(spec.name), loc));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(kCombineThreads), 1, 1}));
  AttentionOp def = variant.def;
  func->setAttr("fa4.abi", b.getArrayAttr(names));
  func->setAttr(
      "fa4.features",
      b.getDictionaryAttr({
          b.getNamedAttr("kernel", b.getStringAttr("combine")),
          b.getNamedAttr("dtype", TypeAttr::get(def.getElementType())),
          b.getNamedAttr("head_dim_v", b.getI64IntegerAttr(def.getHeadDimV())),
      }));
  // programmatic_wait: the kernel waits for the grid before it in the
  // stream (griddepcontrol.wait) before it reads, so the runtime may launch
  // it with programmatic stream serialization.
  func->setAttr(
      "fa4.config",
      b.getDictionaryAttr(
          {b.getNamedAttr("columns_per_thread",
                          b.getI64IntegerAttr(kCombineColumnsPerThread)),
           b.getNamedAttr("programmatic_wait", b.getBoolAttr(true))}));
  // One thread per kCombineColumnsPerThread columns of each output row.
  std::string threads =
      "batch * seqlen_q * nheads_q * " +
      std::to_string(def.getHeadDimV() / kCombineColumnsPerThread);
  func->setAttr("fa4.grid",
                b.getStrArrayAttr({"cdiv(" + threads + ", " +
                                       std::to_string(kCombineThreads) + ")",
                                   "1", "1"}));
  func->setAttr("fa4.workspace", b.getStringAttr("0"));
  return func;
}

gpu::GPUFuncOp fa4::createAppendFunc(OpBuilder &b, Location loc,
                                     KVAppendOp def) {
  MLIRContext *ctx = b.getContext();
  SmallVector<ParamSpec> params = getAppendParams(def);
  SmallVector<Type> types;
  SmallVector<Attribute> names;
  for (const ParamSpec &spec : params) {
    types.push_back(getParamType(ctx, spec.kind));
    names.push_back(b.getStringAttr(spec.name));
  }
  auto func = gpu::GPUFuncOp::create(b, loc, def.getSymName(),
                                     b.getFunctionType(types, {}));
  for (auto [spec, arg] : llvm::zip(params, func.getArguments()))
    arg.setLoc(NameLoc::get(b.getStringAttr(spec.name), loc));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(kAppendThreads), 1, 1}));
  func->setAttr("fa4.abi", b.getArrayAttr(names));
  func->setAttr(
      "fa4.features",
      b.getDictionaryAttr({
          b.getNamedAttr("kernel", b.getStringAttr("append")),
          b.getNamedAttr("dtype", TypeAttr::get(def.getElementType())),
          b.getNamedAttr("paged_kv", b.getBoolAttr(def.getPagedKv())),
      }));
  // x: the largest region's threads (append_units, the runtime's size);
  // y: keys, values, queries.
  func->setAttr("fa4.grid",
                b.getStrArrayAttr({"cdiv(append_units, " +
                                       std::to_string(kAppendThreads) + ")",
                                   "3", "1"}));
  func->setAttr("fa4.workspace", b.getStringAttr("0"));
  return func;
}
