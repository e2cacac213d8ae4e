//===- KVCache.cpp - fa4_kvcache_fwd: decode over a KV cache, split-KV ----===//
//
// FlashAttention-2's flash_attn_with_kvcache: dense queries against a
// contiguous or paged cache, with per-entry lengths, split-KV and the
// combine kernel. Validation touches no driver; the number of splits (when
// the caller leaves it to us) needs the device's SM count and the kernel's
// occupancy, and the workspace is the caller's.
//
//===----------------------------------------------------------------------===//

#include "KVCache.h"
#include "Status.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace fa4::rt;

extern "C" void fa4_kvcache_params_init(fa4_kvcache_params *params) {
  if (!params)
    return;
  std::memset(params, 0, sizeof(*params));
  params->dtype = FA4_DTYPE_BF16;
  params->window_left = params->window_right = -1;
}

extern "C" uint64_t fa4_kvcache_params_size(void) {
  return sizeof(fa4_kvcache_params);
}

static fa4_status checkIndex(const int32_t *ptr, const char *name) {
  return checkAligned(ptr, 4, name);
}

fa4_status fa4::rt::validateKVCache(const fa4_kvcache_params &p,
                                    KVCacheTensors &t) {
  int dtype = getRawEnum(p.dtype);
  if (dtype != FA4_DTYPE_BF16 && dtype != FA4_DTYPE_FP16)
    return fail(
        FA4_ERROR_INVALID_DTYPE,
        format("dtype %d is not FA4_DTYPE_BF16 or FA4_DTYPE_FP16", dtype));
  // ---- Appending and rotary: what comes with what ----
  if (static_cast<bool>(p.k_new) != static_cast<bool>(p.v_new))
    return fail(FA4_ERROR_NULL_POINTER,
                "k_new and v_new come together: one of them is NULL");
  if (!p.k_new && p.seqlen_new)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("seqlen_new is %lld but k_new and v_new are NULL",
                       static_cast<long long>(p.seqlen_new)));
  if (p.seqlen_new < 0)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("seqlen_new must be non-negative, got %lld",
                       static_cast<long long>(p.seqlen_new)));
  if (static_cast<bool>(p.rotary_cos) != static_cast<bool>(p.rotary_sin))
    return fail(FA4_ERROR_NULL_POINTER,
                "rotary_cos and rotary_sin come together: one of them is NULL");
  t.append = p.k_new != nullptr;
  t.rotary = p.rotary_cos != nullptr;
  if (t.rotary) {
    if (!t.append)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  "rotary embeddings need new keys to rotate (k_new, v_new)");
    if (p.rotary_dim <= 0 || p.rotary_dim % 2 != 0 || p.rotary_dim > p.head_dim)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  format("rotary_dim must be even, positive and at most "
                         "head_dim (%lld), got %lld",
                         static_cast<long long>(p.head_dim),
                         static_cast<long long>(p.rotary_dim)));
    for (auto [ptr, name] :
         {std::pair<const void *, const char *>{p.rotary_cos, "rotary_cos"},
          {p.rotary_sin, "rotary_sin"}})
      if (fa4_status s = checkAligned(ptr, 2, name); s != FA4_SUCCESS)
        return s;
  } else if (p.rotary_dim || p.seqlen_ro || p.rotary_interleaved) {
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                "rotary_dim, seqlen_ro or rotary_interleaved is set but "
                "rotary_cos and rotary_sin are NULL");
  }
  t.paged = p.block_table != nullptr;
  struct {
    const char *name;
    int64_t value;
    int64_t min;
  } sizes[] = {{"batch", p.batch, 0},
               {"seqlen_q", p.seqlen_q, 0},
               {"cache_seqlen", p.cache_seqlen, 0},
               {"nheads_q", p.nheads_q, 0},
               {"nheads_kv", p.nheads_kv, 0},
               {"head_dim", p.head_dim, 1},
               {"head_dim_v", p.head_dim_v, 1}};
  for (const auto &size : sizes)
    if (size.value < size.min)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("%s must be %s, got %lld", size.name,
                         size.min == 0 ? "non-negative" : "positive",
                         static_cast<long long>(size.value)));
  if (p.num_splits < 0 || p.num_splits > kMaxSplits)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("num_splits must be 0 (choose) or 1..%d, got %d",
                       kMaxSplits, p.num_splits));

  // ---- The cache: its capacity per batch entry ----
  int64_t capacity;
  if (t.paged) {
    if (p.cache_batch_idx)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  "cache_batch_idx cannot be used with a paged cache "
                  "(block_table names each entry's pages)");
    if (p.cache_leftpad)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  "cache_leftpad cannot be used with a paged cache");
    if (fa4_status s = checkAligned(p.block_table, 4, "block_table");
        s != FA4_SUCCESS)
      return s;
    if (p.page_size <= 0 || p.page_size % 16 != 0)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("page_size must be a positive multiple of 16, got "
                         "%lld",
                         static_cast<long long>(p.page_size)));
    if (p.max_pages < 1 || p.num_pages < 1)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("a paged cache needs max_pages >= 1 and num_pages "
                         ">= 1, got %lld and %lld",
                         static_cast<long long>(p.max_pages),
                         static_cast<long long>(p.num_pages)));
    int64_t tableStride =
        p.block_table_stride ? p.block_table_stride : p.max_pages;
    if (tableStride < p.max_pages)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("block_table_stride (%lld) is below max_pages "
                         "(%lld)",
                         static_cast<long long>(tableStride),
                         static_cast<long long>(p.max_pages)));
    if (p.num_pages > kMaxSliceOffset ||
        static_cast<long double>(p.max_pages) * p.page_size > kMaxSliceOffset ||
        static_cast<long double>(tableStride) * p.batch > kMaxSliceOffset)
      return fail(FA4_ERROR_OVERFLOW,
                  "num_pages, max_pages * page_size and block_table_stride * "
                  "batch must be < 2^31");
    t.tableStride = tableStride;
    capacity = p.max_pages * p.page_size;
  } else {
    if (p.block_table_stride || p.max_pages || p.num_pages || p.page_size)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  "block_table_stride, max_pages, num_pages and page_size "
                  "are set but block_table is NULL");
    if (p.batch_cache < 1 && p.batch > 0)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("batch_cache must be positive, got %lld",
                         static_cast<long long>(p.batch_cache)));
    if (p.seqlen_cache < 0)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("seqlen_cache must be non-negative, got %lld",
                         static_cast<long long>(p.seqlen_cache)));
    if (!p.cache_batch_idx && p.batch_cache < p.batch)
      return fail(FA4_ERROR_INVALID_SHAPE,
                  format("the cache has %lld entries for a batch of %lld "
                         "(without cache_batch_idx, entry b serves batch "
                         "entry b)",
                         static_cast<long long>(p.batch_cache),
                         static_cast<long long>(p.batch)));
    if (p.batch_cache > kMaxSliceOffset || p.seqlen_cache > kMaxSliceOffset)
      return fail(FA4_ERROR_OVERFLOW,
                  "batch_cache and seqlen_cache must be < 2^31");
    capacity = p.seqlen_cache;
  }
  if (!p.cache_seqlens && p.cache_seqlen > capacity)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("cache_seqlen (%lld) is past the cache's %lld rows",
                       static_cast<long long>(p.cache_seqlen),
                       static_cast<long long>(capacity)));
  // Lengths the host knows: the new tokens must fit. (Device-held
  // cache_seqlens cannot be read here; the append kernel skips rows past
  // the cache and attention clamps its keys to it.)
  if (t.append && !p.cache_seqlens && p.cache_seqlen + p.seqlen_new > capacity)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("appending %lld tokens after cache_seqlen (%lld) "
                       "overflows the cache's %lld rows",
                       static_cast<long long>(p.seqlen_new),
                       static_cast<long long>(p.cache_seqlen),
                       static_cast<long long>(capacity)));
  if (t.rotary && p.seqlen_ro < capacity)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("the rotary tables have %lld rows; they need one per "
                       "cache row (%lld)",
                       static_cast<long long>(p.seqlen_ro),
                       static_cast<long long>(capacity)));
  for (auto [ptr, name] : {std::pair<const int32_t *, const char *>{
                               p.cache_seqlens, "cache_seqlens"},
                           {p.cache_batch_idx, "cache_batch_idx"},
                           {p.cache_leftpad, "cache_leftpad"}})
    if (fa4_status s = checkIndex(ptr, name); s != FA4_SUCCESS)
      return s;
  t.capacity = capacity;

  if (fa4_status s = resolveSoftmaxScale(p.softmax_scale, p.head_dim, t.scale);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = resolveScoreMods(p.causal, p.local, p.window_left,
                                      p.window_right, p.softcap, t.scale,
                                      capacity, p.seqlen_q + capacity, t.mods);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = resolveAlibi(p.alibi_slopes, p.alibi_slopes_batch_stride,
                                  p.batch, p.nheads_q, t.mods);
      s != FA4_SUCCESS)
    return s;
  t.empty = p.batch == 0 || p.seqlen_q == 0 || p.nheads_q == 0;
  if (t.empty)
    return FA4_SUCCESS;
  if (p.nheads_kv < 1)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("nheads_kv must be positive, got %lld",
                       static_cast<long long>(p.nheads_kv)));
  if (p.nheads_q % p.nheads_kv != 0)
    return fail(FA4_ERROR_INVALID_HEAD_RATIO,
                format("nheads_q (%lld) is not a multiple of nheads_kv (%lld)",
                       static_cast<long long>(p.nheads_q),
                       static_cast<long long>(p.nheads_kv)));
  if (p.seqlen_q > kMaxSliceOffset || p.seqlen_q + capacity > kMaxSliceOffset)
    return fail(FA4_ERROR_OVERFLOW,
                "seqlen_q + the cache's rows per entry must be < 2^31");
  if (fa4_status s = checkHeadDims(p.head_dim, p.head_dim_v); s != FA4_SUCCESS)
    return s;

  // ---- Tensors ----
  t.q = {"q", p.q, p.seqlen_q, p.nheads_q, p.head_dim, {}};
  t.o = {"out", p.out, p.seqlen_q, p.nheads_q, p.head_dim_v, {}};
  int64_t rows = t.paged ? p.page_size : p.seqlen_cache;
  int64_t entries = t.paged ? p.num_pages : p.batch_cache;
  t.k = {"k_cache", p.k_cache, rows, p.nheads_kv, p.head_dim, {}};
  t.v = {"v_cache", p.v_cache, rows, p.nheads_kv, p.head_dim_v, {}};
  resolveStrides(t.q, p.q_strides);
  resolveStrides(t.o, p.out_strides);
  resolveStrides(t.k, p.k_cache_strides);
  resolveStrides(t.v, p.v_cache_strides);
  t.q.batch = t.o.batch = p.batch;
  t.k.batch = t.v.batch = entries;
  for (Tensor *tensor : {&t.q, &t.k, &t.v, &t.o})
    if (fa4_status s = checkTensor(*tensor, tensor == &t.o); s != FA4_SUCCESS)
      return s;
  if (t.append) {
    if (p.seqlen_new > kMaxSliceOffset)
      return fail(FA4_ERROR_OVERFLOW, "seqlen_new must be < 2^31");
    t.kNew = {"k_new", p.k_new, p.seqlen_new, p.nheads_kv, p.head_dim, {}};
    t.vNew = {"v_new", p.v_new, p.seqlen_new, p.nheads_kv, p.head_dim_v, {}};
    resolveStrides(t.kNew, p.k_new_strides);
    resolveStrides(t.vNew, p.v_new_strides);
    t.kNew.batch = t.vNew.batch = p.batch;
    for (Tensor *tensor : {&t.kNew, &t.vNew})
      if (fa4_status s = checkTensor(*tensor, false); s != FA4_SUCCESS)
        return s;
    // The append kernel counts its threads in 32 bits.
    int64_t dim = std::max(p.head_dim, p.head_dim_v);
    if (static_cast<long double>(p.batch) *
            std::max(p.seqlen_new * p.nheads_kv, p.seqlen_q * p.nheads_q) *
            (dim / 2) >
        kMaxSliceOffset)
      return fail(FA4_ERROR_OVERFLOW,
                  "the append's tokens x head_dim / 2 must be < 2^31");
  }
  // The tensor the append kernel reads; with rotary, attention reads the
  // rotated copy in the workspace, contiguous (batch, seqlen_q, heads, dim).
  t.qIn = t.q;
  if (t.rotary) {
    t.q.data = nullptr; // the workspace's, set at launch
    t.q.strides[3] = 1;
    t.q.strides[2] = p.head_dim;
    t.q.strides[1] = p.nheads_q * p.head_dim;
    t.q.strides[0] = p.seqlen_q * p.nheads_q * p.head_dim;
  }
  bool lseUnset =
      p.lse_strides[0] == 0 && p.lse_strides[1] == 0 && p.lse_strides[2] == 0;
  t.lseStrides[0] = lseUnset ? p.nheads_q * p.seqlen_q : p.lse_strides[0];
  t.lseStrides[1] = lseUnset ? p.seqlen_q : p.lse_strides[1];
  t.lseStrides[2] = lseUnset ? 1 : p.lse_strides[2];
  if (p.lse) {
    if (fa4_status s = checkAligned(p.lse, 4, "lse"); s != FA4_SUCCESS)
      return s;
    if (t.lseStrides[2] != 1)
      return fail(FA4_ERROR_INVALID_STRIDE,
                  format("lse: the stride of dim 2 (seq) must be 1, got %lld",
                         static_cast<long long>(t.lseStrides[2])));
    static const char *const names[3] = {"batch", "head", "seq"};
    int64_t lseSizes[3] = {p.batch, p.nheads_q, p.seqlen_q};
    if (fa4_status s = checkLayout("lse", 3, lseSizes, t.lseStrides, names,
                                   /*elementBytes=*/4, /*isOutput=*/true);
        s != FA4_SUCCESS)
      return s;
  }

  // ---- The kernel's view: GQA packing ----
  // The g = Hq / Hkv query heads of one KV head share the CTA's M tile:
  // row s * g + j is query s of head kv * g + j (the kernel's q_group), so a
  // CTA reads each KV block once for the whole group, as FlashAttention-2's
  // seqlenq_ngroups_swapped does for Sq = 1 and FA3's pack_gqa for any Sq.
  // The grid then has Hkv heads and Sq * g rows. ALiBi's slope is per query
  // head and is not packed. Causal is moot for one query (it sees every key).
  if (p.seqlen_q == 1)
    t.mods.causal = false;
  setGqaView(p, t);
  if (static_cast<long double>(p.batch) * kMaxSplits > kMaxGridYZ ||
      t.viewHeads > kMaxGridYZ)
    return fail(FA4_ERROR_INVALID_SHAPE,
                format("batch (%lld) must be at most %lld and nheads_q "
                       "(%lld) at most %lld",
                       static_cast<long long>(p.batch),
                       static_cast<long long>(kMaxGridYZ / kMaxSplits),
                       static_cast<long long>(p.nheads_q),
                       static_cast<long long>(kMaxGridYZ)));
  // The combine kernel counts output rows and threads in 32 bits.
  if (static_cast<long double>(p.batch) * p.seqlen_q * p.nheads_q *
          (p.head_dim_v / 4 + 1) >
      kMaxSliceOffset)
    return fail(FA4_ERROR_OVERFLOW,
                "batch * seqlen_q * nheads_q * head_dim_v / 4 must be < 2^31");
  return FA4_SUCCESS;
}

void fa4::rt::setGqaView(const fa4_kvcache_params &p, KVCacheTensors &t) {
  int64_t group = p.nheads_q / p.nheads_kv;
  t.packGqa = group > 1 && !t.mods.alibi;
  t.qGroup = t.packGqa ? group : 1;
  t.viewSeqlenQ = p.seqlen_q * t.qGroup;
  t.viewHeads = p.nheads_q / t.qGroup;
}

FeatureMap fa4::rt::getKVCacheRequest(const fa4_kvcache_params &p,
                                      const KVCacheTensors &t) {
  FeatureMap request = {{"kernel", "attention"},
                        {"dtype", getDtypeName(p.dtype)},
                        {"head_dim", std::to_string(p.head_dim)},
                        {"head_dim_v", std::to_string(p.head_dim_v)},
                        {"varlen", "false"},
                        {"paged_kv", t.paged ? "true" : "false"},
                        {"kv_cache", "true"},
                        {"split_kv", "true"},
                        {"load_path", "cp_async"}};
  t.mods.addFeatures(request);
  return request;
}

const KernelInfo *fa4::rt::findCombineKernel(const KernelInfo &attention) {
  const std::vector<KernelInfo> *kernels;
  if (getKernels(kernels) != FA4_SUCCESS)
    return nullptr;
  for (const KernelInfo &k : *kernels)
    if (k.module == attention.module && k.feature("kernel") == "combine" &&
        k.isLaunchable())
      return &k;
  return nullptr;
}

int fa4::rt::chooseNumSplits(int64_t work, int64_t slots, int64_t keyBlocks) {
  // Splits multiply the CTAs of a launch that cannot fill the GPU. `work`
  // CTAs (m-blocks x heads x batch) on `slots` (SMs x CTAs per SM): at
  // 80% full or more one split; otherwise the fewest splits whose waves are
  // at least 95% as well used as the best count's, never more than the key
  // blocks (a split of no block is pure overhead) or kMaxSplits. A count
  // that gives the same blocks per split as one fewer is skipped.
  //
  // fa4's addition: a split gets at least kMinBlocksPerSplit key blocks. A
  // split of one or two blocks is mostly prologue (Q's load, the first
  // block's wait) and adds a partial to the combine; on the H200 (run 26)
  // 32 splits of 2 blocks took 15.2 us where 16 splits of 4 took 11.5.
  constexpr int64_t kMinBlocksPerSplit = 4;
  // How full the last wave must be, relative to the best count's. FA2 uses
  // 0.85; decode is bandwidth-bound and an uneven last wave leaves SMs with
  // one CTA beside SMs with two: on the H200 (run 30, batch 1, GQA 32/8,
  // 128k keys, 8 CTAs per split, 264 slots) 0.85 chose 29 splits (232 CTAs,
  // 135.5 us) where 32 (256 CTAs) took 133.8 and 20, 40 or 48 took 174-201.
  constexpr double kWaveFill = 0.95;
  if (work <= 0 || slots <= 0 || keyBlocks <= 1 || work * 5 >= slots * 4)
    return 1;
  int64_t most = std::min<int64_t>(
      {kMaxSplits, std::max<int64_t>(keyBlocks / kMinBlocksPerSplit, 1),
       slots});
  auto efficiency = [&](int64_t n) {
    double waves = static_cast<double>(work * n) / static_cast<double>(slots);
    return waves / std::ceil(waves);
  };
  auto eligible = [&](int64_t n) {
    return n == 1 || (keyBlocks + n - 1) / n != (keyBlocks + n - 2) / (n - 1);
  };
  double best = 0;
  for (int64_t n = 1; n <= most; ++n)
    if (eligible(n))
      best = std::max(best, efficiency(n));
  for (int64_t n = 1; n <= most; ++n)
    if (eligible(n) && efficiency(n) >= kWaveFill * best)
      return static_cast<int>(n);
  return 1;
}

uint64_t fa4::rt::getRotatedQueryBytes(const fa4_kvcache_params &p,
                                       const KVCacheTensors &t) {
  if (!t.rotary || t.empty)
    return 0;
  uint64_t bytes =
      static_cast<uint64_t>(p.batch) * p.seqlen_q * p.nheads_q * p.head_dim * 2;
  return (bytes + 255) / 256 * 256;
}

uint64_t fa4::rt::getKVCacheWorkspaceBytes(const fa4_kvcache_params &p,
                                           const KVCacheTensors &t,
                                           int numSplits) {
  if (t.empty)
    return 0;
  uint64_t partials = numSplits <= 1 ? 0
                                     : static_cast<uint64_t>(numSplits) *
                                           p.batch * t.viewSeqlenQ *
                                           t.viewHeads * (p.head_dim_v + 1) * 4;
  return getRotatedQueryBytes(p, t) + partials;
}

FeatureMap fa4::rt::getAppendRequest(const fa4_kvcache_params &p,
                                     const KVCacheTensors &t) {
  return {{"kernel", "append"},
          {"dtype", getDtypeName(p.dtype)},
          {"paged_kv", t.paged ? "true" : "false"}};
}

fa4_status fa4::rt::prepareAppend(const fa4_kvcache_params &p,
                                  const KVCacheTensors &t,
                                  const KernelInfo &kernel, Launch &launch) {
  launch.kernel = &kernel;
  launch.dtype = p.dtype;
  KernelArgs &args = launch.args;
  args.setPtr("q", t.qIn.data);
  args.setPtr("q_rot", t.q.data);
  args.setPtr("k_new", p.k_new);
  args.setPtr("v_new", p.v_new);
  args.setPtr("k", p.k_cache);
  args.setPtr("v", p.v_cache);
  args.setPtr("rotary_cos", p.rotary_cos);
  args.setPtr("rotary_sin", p.rotary_sin);
  args.setPtr("cache_seqlens", p.cache_seqlens);
  args.setI32("seqlen_k", static_cast<int32_t>(p.cache_seqlen));
  if (t.paged) {
    args.setPtr("block_table", p.block_table);
    args.setI32("block_table_stride", static_cast<int32_t>(t.tableStride));
    args.setI32("page_size", static_cast<int32_t>(p.page_size));
    args.setI32("num_pages", static_cast<int32_t>(p.num_pages));
    args.setI64("k_page_stride", t.k.strides[0]);
    args.setI64("v_page_stride", t.v.strides[0]);
  } else {
    args.setPtr("cache_batch_idx", p.cache_batch_idx);
    args.setI32("cache_entries", static_cast<int32_t>(p.batch_cache));
    args.setI64("k_batch_stride", t.k.strides[0]);
    args.setI64("v_batch_stride", t.v.strides[0]);
  }
  args.setI32("cache_capacity", static_cast<int32_t>(t.capacity));
  args.setI32("batch", static_cast<int32_t>(p.batch));
  int64_t seqlenNew = t.append ? p.seqlen_new : 0;
  // Without rotary the query region has nothing to do.
  int64_t seqlenQ = t.rotary ? p.seqlen_q : 0;
  args.setI32("seqlen_new", static_cast<int32_t>(seqlenNew));
  args.setI32("seqlen_q", static_cast<int32_t>(seqlenQ));
  args.setI32("nheads_q", static_cast<int32_t>(p.nheads_q));
  args.setI32("nheads_kv", static_cast<int32_t>(p.nheads_kv));
  args.setI32("head_dim", static_cast<int32_t>(p.head_dim));
  args.setI32("head_dim_v", static_cast<int32_t>(p.head_dim_v));
  args.setI32("rotary_dim", static_cast<int32_t>(t.rotary ? p.rotary_dim : 0));
  args.setI32("rotary_interleaved", p.rotary_interleaved ? 1 : 0);
  // Query positions: FlashAttention-2 places query s at cache_seqlens[b] + s
  // when causal or local, else every query at cache_seqlens[b].
  args.setI32("q_positions", p.causal || p.local ? 1 : 0);
  args.setI32("seqlen_ro", static_cast<int32_t>(t.rotary ? p.seqlen_ro : 1));
  const Tensor &q = t.qIn;
  args.setI64("q_batch_stride", q.strides[0]);
  args.setI64("q_row_stride", q.strides[1]);
  args.setI64("q_head_stride", q.strides[2]);
  for (const Tensor *tensor : {&t.kNew, &t.vNew}) {
    std::string prefix = tensor == &t.kNew ? "k_new" : "v_new";
    args.setI64(prefix + "_batch_stride", tensor->strides[0]);
    args.setI64(prefix + "_row_stride", tensor->strides[1]);
    args.setI64(prefix + "_head_stride", tensor->strides[2]);
  }
  args.setI64("k_row_stride", t.k.strides[1]);
  args.setI64("k_head_stride", t.k.strides[2]);
  args.setI64("v_row_stride", t.v.strides[1]);
  args.setI64("v_head_stride", t.v.strides[2]);
  int64_t units =
      std::max({p.batch * seqlenNew * p.nheads_kv *
                    (std::max(p.head_dim, p.head_dim_v) / 2),
                p.batch * seqlenQ * p.nheads_q * (p.head_dim / 2), int64_t{1}});
  launch.sizes = {{"append_units", units}};
  return FA4_SUCCESS;
}

fa4_status fa4::rt::prepareKVCache(const fa4_kvcache_params &p,
                                   const KVCacheTensors &t,
                                   const KernelInfo &kernel, int numSplits,
                                   void *workspace, uint64_t workspaceBytes,
                                   Launch &launch) {
  launch.kernel = &kernel;
  launch.dtype = p.dtype;
  // The kernel's rule covers the partials, which follow the rotated Q.
  uint64_t rotated = getRotatedQueryBytes(p, t);
  launch.workspaceProvided = true;
  launch.workspaceBytes =
      workspaceBytes > rotated ? workspaceBytes - rotated : 0;
  KernelArgs &args = launch.args;
  args.setPtr("q", t.q.data);
  args.setPtr("k", t.k.data);
  args.setPtr("v", t.v.data);
  args.setPtr("o", t.o.data);
  args.setPtr("lse", p.lse);
  // Partial O, then partial LSE (both fp32; O's size keeps the LSE 16-byte
  // aligned: head_dim_v is a multiple of 32).
  uint64_t oBytes = static_cast<uint64_t>(numSplits) * p.batch * t.viewSeqlenQ *
                    t.viewHeads * p.head_dim_v * 4;
  void *lsePartial = numSplits > 1 && workspace
                         ? static_cast<char *>(workspace) + oBytes
                         : nullptr;
  args.setPtr("o_partial", numSplits > 1 ? workspace : nullptr);
  args.setPtr("lse_partial", lsePartial);
  args.setI32("num_splits", numSplits);
  args.setI32("seqlen_q", static_cast<int32_t>(p.seqlen_q));
  args.setI32("q_group", static_cast<int32_t>(t.qGroup));
  args.setI32("seqlen_k", static_cast<int32_t>(p.cache_seqlen));
  args.setPtr("cache_seqlens", p.cache_seqlens);
  args.setI32("seqlen_new", static_cast<int32_t>(t.append ? p.seqlen_new : 0));
  args.setI32("head_ratio", static_cast<int32_t>(t.viewHeads / p.nheads_kv));
  for (const Tensor *tensor : {&t.q, &t.k, &t.v, &t.o}) {
    std::string prefix = tensor == &t.o   ? "o"
                         : tensor == &t.k ? "k"
                         : tensor == &t.v ? "v"
                                          : "q";
    args.setI64(prefix + "_batch_stride", tensor->strides[0]);
    args.setI64(prefix + "_head_stride", tensor->strides[2]);
    args.setI32(prefix + "_row_stride",
                static_cast<int32_t>(tensor->strides[1]));
  }
  if (t.paged) {
    args.setI64("k_page_stride", t.k.strides[0]);
    args.setI64("v_page_stride", t.v.strides[0]);
    args.setPtr("block_table", p.block_table);
    args.setI32("block_table_stride", static_cast<int32_t>(t.tableStride));
    args.setI32("page_size", static_cast<int32_t>(p.page_size));
    DivisionReciprocal page = getDivisionReciprocal(p.page_size);
    args.setI32("page_magic", static_cast<int32_t>(page.magic));
    args.setI32("page_shift", page.shift);
    args.setI32("max_pages", static_cast<int32_t>(p.max_pages));
    args.setI32("num_pages", static_cast<int32_t>(p.num_pages));
  } else {
    args.setPtr("cache_batch_idx", p.cache_batch_idx);
    args.setPtr("cache_leftpad", p.cache_leftpad);
    args.setI32("cache_entries", static_cast<int32_t>(p.batch_cache));
    args.setI32("cache_capacity", static_cast<int32_t>(p.seqlen_cache));
  }
  args.setI64("lse_batch_stride", t.lseStrides[0]);
  args.setI64("lse_head_stride", t.lseStrides[1]);
  args.setF32("softmax_scale", t.scale);
  t.mods.setArgs(launch);
  launch.sizes = {{"batch", p.batch},
                  {"nheads_q", t.viewHeads},
                  {"nheads_kv", p.nheads_kv},
                  {"seqlen_q", t.viewSeqlenQ},
                  {"num_splits", numSplits},
                  {"split_partials", numSplits > 1 ? numSplits : 0}};
  return FA4_SUCCESS;
}

fa4_status fa4::rt::prepareCombine(const fa4_kvcache_params &p,
                                   const KVCacheTensors &t,
                                   const KernelInfo &kernel,
                                   const Launch &attention, Launch &launch) {
  launch.kernel = &kernel;
  launch.dtype = p.dtype;
  KernelArgs &args = launch.args;
  uint64_t oBytes = static_cast<uint64_t>(attention.sizes.at("num_splits")) *
                    p.batch * t.viewSeqlenQ * t.viewHeads * p.head_dim_v * 4;
  const void *workspace = t.workspace;
  args.setPtr("o_partial", workspace);
  args.setPtr("lse_partial", workspace
                                 ? static_cast<const char *>(workspace) + oBytes
                                 : nullptr);
  args.setPtr("o", t.o.data);
  args.setPtr("lse", p.lse);
  args.setI32("num_splits",
              static_cast<int32_t>(attention.sizes.at("num_splits")));
  args.setI32("batch", static_cast<int32_t>(p.batch));
  args.setI32("seqlen_q", static_cast<int32_t>(t.viewSeqlenQ));
  args.setI32("nheads_q", static_cast<int32_t>(t.viewHeads));
  args.setI32("q_group", static_cast<int32_t>(t.qGroup));
  args.setI64("o_batch_stride", t.o.strides[0]);
  args.setI64("o_head_stride", t.o.strides[2]);
  args.setI32("o_row_stride", static_cast<int32_t>(t.o.strides[1]));
  args.setI64("lse_batch_stride", t.lseStrides[0]);
  args.setI64("lse_head_stride", t.lseStrides[1]);
  launch.sizes = {{"batch", p.batch},
                  {"nheads_q", t.viewHeads},
                  {"seqlen_q", t.viewSeqlenQ}};
  return FA4_SUCCESS;
}

namespace {
/// Validation, kernel choice and the split count: what both the workspace
/// query and the launch need.
struct KVCachePlan {
  KVCacheTensors t;
  const KernelInfo *kernel = nullptr;
  const KernelInfo *combine = nullptr;
  const KernelInfo *append = nullptr;
  int numSplits = 1;
  const CudaDriver *driver = nullptr;
  CUcontext context = nullptr;
};
} // namespace

static fa4_status planKVCache(const fa4_kvcache_params &p, KVCachePlan &plan) {
  if (fa4_status s = validateKVCache(p, plan.t); s != FA4_SUCCESS)
    return s;
  if (plan.t.empty)
    return FA4_SUCCESS;
  const char *target;
  if (fa4_status s = getDevice(plan.driver, plan.context, target);
      s != FA4_SUCCESS)
    return s;
  std::vector<const KernelInfo *> found =
      findKernels(target, getKVCacheRequest(p, plan.t));
  // A combination without a kernel of its own: the switchable kernel. It
  // has ALiBi compiled in, so it does not pack a GQA group (its slope is
  // per query head): the view is one query head per CTA row block.
  const ScoreMods asked = plan.t.mods;
  if (found.empty() && plan.t.mods.makeSwitchable()) {
    found = findKernels(target, getKVCacheRequest(p, plan.t));
    if (found.empty()) {
      plan.t.mods = asked;
    } else if (plan.t.packGqa) {
      if (p.nheads_q > kMaxGridYZ)
        return fail(FA4_ERROR_INVALID_SHAPE,
                    format("nheads_q (%lld) must be at most %lld with %s",
                           static_cast<long long>(p.nheads_q),
                           static_cast<long long>(kMaxGridYZ),
                           asked.describe().c_str()));
      setGqaView(p, plan.t);
    }
  }
  if (found.empty())
    return fail(
        FA4_ERROR_NO_KERNEL,
        format("no embedded KV-cache kernel for %s head_dim %lld "
               "(head_dim_v %lld) %s, %s cache, on %s",
               getDtypeName(p.dtype), static_cast<long long>(p.head_dim),
               static_cast<long long>(p.head_dim_v), asked.describe().c_str(),
               plan.t.paged ? "paged" : "contiguous", target));
  plan.kernel = found.front();
  if (plan.t.append) {
    std::vector<const KernelInfo *> appenders =
        findKernels(target, getAppendRequest(p, plan.t));
    if (appenders.empty())
      return fail(FA4_ERROR_NO_KERNEL,
                  format("no embedded append kernel for %s, %s cache, on %s",
                         getDtypeName(p.dtype),
                         plan.t.paged ? "paged" : "contiguous", target));
    plan.append = appenders.front();
  }
  plan.combine = findCombineKernel(*plan.kernel);
  if (!plan.combine)
    return fail(FA4_ERROR_INTERNAL, "kernel " + plan.kernel->name +
                                        " has no combine kernel in its module");
  plan.numSplits = p.num_splits;
  if (plan.numSplits == 0) {
    // The heuristic: CTAs of one split against the CTAs the device holds
    // at once (SMs x this kernel's occupancy).
    const CudaDriver &d = *plan.driver;
    CUdevice device;
    FA4_CUDA_CHECK(d, cuCtxGetDevice, &device);
    int sms = 0;
    FA4_CUDA_CHECK(d, cuDeviceGetAttribute, &sms,
                   CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
    CUfunction function;
    if (fa4_status s = getFunction(d, plan.context, *plan.kernel, function);
        s != FA4_SUCCESS)
      return s;
    int perSM = 0;
    FA4_CUDA_CHECK(d, cuOccupancyMaxActiveBlocksPerMultiprocessor, &perSM,
                   function, static_cast<int>(plan.kernel->threads),
                   static_cast<size_t>(plan.kernel->smemBytes));
    auto tile = [&](const char *key) {
      auto it = plan.kernel->config.find(key);
      return it == plan.kernel->config.end() ? 64 : it->second;
    };
    int64_t mBlocks =
        (plan.t.viewSeqlenQ + tile("tile_m") - 1) / tile("tile_m");
    int64_t keyBlocks = (plan.t.capacity + tile("tile_n") - 1) / tile("tile_n");
    plan.numSplits = chooseNumSplits(
        p.batch * plan.t.viewHeads * mBlocks,
        static_cast<int64_t>(sms) * std::max(perSM, 1), keyBlocks);
  }
  return FA4_SUCCESS;
}

extern "C" fa4_status
fa4_kvcache_workspace_size(const fa4_kvcache_params *params, uint64_t *bytes) {
  clearError();
  if (!params)
    return fail(FA4_ERROR_NULL_POINTER, "params is NULL");
  if (!bytes)
    return fail(FA4_ERROR_NULL_POINTER, "bytes is NULL");
  *bytes = 0;
  KVCachePlan plan;
  if (fa4_status s = planKVCache(*params, plan); s != FA4_SUCCESS)
    return s;
  *bytes = getKVCacheWorkspaceBytes(*params, plan.t, plan.numSplits);
  return FA4_SUCCESS;
}

extern "C" fa4_status fa4_kvcache_fwd(const fa4_kvcache_params *params,
                                      void *workspace, uint64_t workspaceBytes,
                                      void *stream) {
  clearError();
  if (!params)
    return fail(FA4_ERROR_NULL_POINTER, "params is NULL");
  const fa4_kvcache_params &p = *params;
  KVCachePlan plan;
  if (fa4_status s = planKVCache(p, plan); s != FA4_SUCCESS)
    return s;
  if (plan.t.empty)
    return FA4_SUCCESS;
  uint64_t needed = getKVCacheWorkspaceBytes(p, plan.t, plan.numSplits);
  if (needed > 0) {
    if (!workspace)
      return fail(FA4_ERROR_NULL_POINTER,
                  format("workspace is NULL; %d splits need %llu bytes "
                         "(fa4_kvcache_workspace_size)",
                         plan.numSplits,
                         static_cast<unsigned long long>(needed)));
    if (workspaceBytes < needed)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  format("workspace holds %llu bytes; %d splits need %llu "
                         "(fa4_kvcache_workspace_size)",
                         static_cast<unsigned long long>(workspaceBytes),
                         plan.numSplits,
                         static_cast<unsigned long long>(needed)));
    if (fa4_status s = checkAligned(workspace, 16, "workspace");
        s != FA4_SUCCESS)
      return s;
  }
  plan.t.workspace = workspace;
  CUstream cuStream = static_cast<CUstream>(stream);
  if (plan.t.rotary)
    plan.t.q.data = workspace;
  if (plan.append) {
    Launch append;
    if (fa4_status s = prepareAppend(p, plan.t, *plan.append, append);
        s != FA4_SUCCESS)
      return s;
    if (fa4_status s =
            launchKernel(*plan.driver, plan.context, append, cuStream);
        s != FA4_SUCCESS)
      return s;
  }
  Launch launch;
  if (fa4_status s = prepareKVCache(p, plan.t, *plan.kernel, plan.numSplits,
                                    workspace, workspaceBytes, launch);
      s != FA4_SUCCESS)
    return s;
  if (fa4_status s = launchKernel(*plan.driver, plan.context, launch, cuStream);
      s != FA4_SUCCESS)
    return s;
  if (plan.numSplits <= 1)
    return FA4_SUCCESS;
  Launch combine;
  if (fa4_status s = prepareCombine(p, plan.t, *plan.combine, launch, combine);
      s != FA4_SUCCESS)
    return s;
  return launchKernel(*plan.driver, plan.context, combine, cuStream);
}
