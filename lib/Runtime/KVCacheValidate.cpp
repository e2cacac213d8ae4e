//===- KVCacheValidate.cpp - fa4_kvcache_fwd's parameters, checked --------===//
//
// The KV-cache entry point's parameter block (init, size) and its
// validation: every shape, stride, dtype, alignment and pointer of a
// fa4_kvcache_params, checked without the driver, each failure named.
//
//===----------------------------------------------------------------------===//

#include "KVCache.h"
#include "Status.h"

#include <algorithm>
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
