//===- KVCacheTest.cpp - fa4_kvcache_fwd's argument checks, without a GPU -===//
//
// Every bad argument of the KV-cache entry point that the host can see gets
// its own status and a message naming it: the cache's geometry, lengths that
// overflow it, appending and rotary arguments, the split count; a valid
// request reaches the driver (and fails there on a machine without one).
// The workspace checks are KernelTableTest's (every KV-cache kernel).
//
//===----------------------------------------------------------------------===//

#include "KVCache.h"
#include "TestUtil.h"
#include "fa4/Runtime/fa4.h"

#include <cstdint>
#include <functional>
#include <string>

using namespace fa4::rt;

/// A valid decode request: batch 2, one query, GQA 32/8, d = 128, a
/// contiguous cache of 4 entries x 1024 rows, fake (aligned) pointers.
static fa4_kvcache_params validCache() {
  fa4_kvcache_params p;
  fa4_kvcache_params_init(&p);
  p.q = reinterpret_cast<const void *>(0x10000);
  p.k_cache = reinterpret_cast<const void *>(0x20000);
  p.v_cache = reinterpret_cast<const void *>(0x30000);
  p.out = reinterpret_cast<void *>(0x40000);
  p.cache_seqlens = reinterpret_cast<const int32_t *>(0x60000);
  p.batch = 2;
  p.seqlen_q = 1;
  p.batch_cache = 4;
  p.seqlen_cache = 1024;
  p.nheads_q = 32;
  p.nheads_kv = 8;
  p.head_dim = p.head_dim_v = 128;
  return p;
}

static void expectCacheError(const fa4_kvcache_params &p, fa4_status status,
                             const char *text) {
  uint64_t bytes = 1;
  fa4_status got = fa4_kvcache_workspace_size(&p, &bytes);
  std::string message = fa4_last_error();
  EXPECT(got == status, "(%s: status %d, want %d: %s)", text, got, status,
         message.c_str());
  EXPECT(message.find(text) != std::string::npos, "(message '%s' lacks '%s')",
         message.c_str(), text);
  EXPECT(bytes == 0, "(%s: bytes %llu on failure)", text,
         static_cast<unsigned long long>(bytes));
}

FA4_TEST(kvcacheArguments) {
  uint64_t bytes;
  EXPECT(fa4_kvcache_workspace_size(nullptr, &bytes) == FA4_ERROR_NULL_POINTER);
  fa4_kvcache_params valid = validCache();
  EXPECT(fa4_kvcache_workspace_size(&valid, nullptr) == FA4_ERROR_NULL_POINTER);
  EXPECT(fa4_kvcache_fwd(nullptr, nullptr, 0, nullptr) ==
         FA4_ERROR_NULL_POINTER);
  const void *const kPtr = reinterpret_cast<const void *>(0x70000);
  struct {
    std::function<void(fa4_kvcache_params &)> edit;
    fa4_status status;
    const char *text;
  } cases[] = {
      {[](auto &p) { p.num_splits = 129; }, FA4_ERROR_INVALID_ARGUMENT,
       "num_splits must be 0 (choose) or 1..128, got 129"},
      {[](auto &p) { p.num_splits = -1; }, FA4_ERROR_INVALID_ARGUMENT,
       "num_splits must be 0"},
      {[](auto &p) { p.k_cache = nullptr; }, FA4_ERROR_NULL_POINTER,
       "k_cache is NULL"},
      {[](auto &p) {
         p.cache_seqlens = reinterpret_cast<const int32_t *>(0x60002);
       },
       FA4_ERROR_MISALIGNED, "cache_seqlens"},
      {[](auto &p) { p.batch_cache = 1; }, FA4_ERROR_INVALID_SHAPE,
       "the cache has 1 entries for a batch of 2"},
      {[](auto &p) {
         p.cache_seqlens = nullptr;
         p.cache_seqlen = 1025;
       },
       FA4_ERROR_INVALID_SHAPE,
       "cache_seqlen (1025) is past the cache's 1024 rows"},
      {[](auto &p) { p.nheads_kv = 5; }, FA4_ERROR_INVALID_HEAD_RATIO,
       "nheads_q (32) is not a multiple of nheads_kv (5)"},
      {[](auto &p) { p.head_dim = p.head_dim_v = 80; },
       FA4_ERROR_UNSUPPORTED_HEAD_DIM, "80"},
      // Paged geometry.
      {[](auto &p) {
         p.block_table = reinterpret_cast<const int32_t *>(0x63000);
         p.max_pages = 4, p.num_pages = 8, p.page_size = 24;
       },
       FA4_ERROR_INVALID_SHAPE, "page_size must be a positive multiple of 16"},
      {[](auto &p) {
         p.block_table = reinterpret_cast<const int32_t *>(0x63000);
         p.max_pages = 4, p.num_pages = 8, p.page_size = 64;
         p.cache_batch_idx = reinterpret_cast<const int32_t *>(0x64000);
       },
       FA4_ERROR_INVALID_ARGUMENT,
       "cache_batch_idx cannot be used with a paged cache"},
      {[](auto &p) { p.max_pages = 3; }, FA4_ERROR_INVALID_ARGUMENT,
       "set but block_table is NULL"},
      // Appending and rotary.
      {[kPtr](auto &p) { p.k_new = kPtr; }, FA4_ERROR_NULL_POINTER,
       "k_new and v_new come together"},
      {[](auto &p) { p.seqlen_new = 3; }, FA4_ERROR_INVALID_ARGUMENT,
       "seqlen_new is 3 but k_new and v_new are NULL"},
      {[kPtr](auto &p) {
         p.k_new = p.v_new = kPtr;
         p.seqlen_new = 10;
         p.cache_seqlens = nullptr;
         p.cache_seqlen = 1020;
       },
       FA4_ERROR_INVALID_SHAPE,
       "appending 10 tokens after cache_seqlen (1020) overflows the cache's "
       "1024 rows"},
      {[kPtr](auto &p) { p.rotary_cos = p.rotary_sin = kPtr; },
       FA4_ERROR_INVALID_ARGUMENT, "rotary embeddings need new keys"},
      {[kPtr](auto &p) { p.rotary_cos = kPtr; }, FA4_ERROR_NULL_POINTER,
       "rotary_cos and rotary_sin come together"},
      {[kPtr](auto &p) {
         p.k_new = p.v_new = kPtr;
         p.seqlen_new = 1;
         p.rotary_cos = p.rotary_sin = kPtr;
         p.rotary_dim = 63;
         p.seqlen_ro = 1024;
       },
       FA4_ERROR_INVALID_ARGUMENT,
       "rotary_dim must be even, positive and at most head_dim (128), got 63"},
      {[kPtr](auto &p) {
         p.k_new = p.v_new = kPtr;
         p.seqlen_new = 1;
         p.rotary_cos = p.rotary_sin = kPtr;
         p.rotary_dim = 256;
         p.seqlen_ro = 1024;
       },
       FA4_ERROR_INVALID_ARGUMENT, "at most head_dim (128), got 256"},
      {[kPtr](auto &p) {
         p.k_new = p.v_new = kPtr;
         p.seqlen_new = 1;
         p.rotary_cos = p.rotary_sin = kPtr;
         p.rotary_dim = 64;
         p.seqlen_ro = 1000;
       },
       FA4_ERROR_INVALID_SHAPE,
       "the rotary tables have 1000 rows; they need one per cache row (1024)"},
      {[](auto &p) { p.rotary_dim = 64; }, FA4_ERROR_INVALID_ARGUMENT,
       "rotary_cos and rotary_sin are NULL"},
      {[kPtr](auto &p) {
         p.k_new = p.v_new = kPtr;
         p.seqlen_new = 1;
         p.k_new_strides[3] = 2;
       },
       FA4_ERROR_INVALID_STRIDE, "k_new"},
  };
  for (const auto &c : cases) {
    fa4_kvcache_params p = validCache();
    c.edit(p);
    expectCacheError(p, c.status, c.text);
  }
}

FA4_TEST(kvcacheValidRequestsReachTheDriver) {
  // Valid requests pass validation; here they stop at the driver (or, on a
  // GPU machine, succeed). Nothing to do is success without a driver.
  fa4_kvcache_params p = validCache();
  uint64_t bytes = 0;
  fa4_status s = fa4_kvcache_workspace_size(&p, &bytes);
  EXPECT(s == FA4_SUCCESS || s == FA4_ERROR_NO_CUDA_DRIVER ||
             s == FA4_ERROR_NO_GPU,
         "(%s)", fa4_last_error());
  p.batch = 0;
  EXPECT(fa4_kvcache_workspace_size(&p, &bytes) == FA4_SUCCESS && bytes == 0);
  EXPECT(fa4_kvcache_fwd(&p, nullptr, 0, nullptr) == FA4_SUCCESS);
}

FA4_TEST(kvcacheGqaPackingView) {
  // GQA: the view has the group's heads as rows (Sq' = Sq * 4) over the 8
  // KV heads; q, out and the LSE keep their strides (the kernel's q_group
  // maps rows to heads).
  fa4_kvcache_params p = validCache();
  for (int64_t sq : {1, 3}) {
    p.seqlen_q = sq;
    KVCacheTensors t;
    EXPECT(validateKVCache(p, t) == FA4_SUCCESS, "(%s)", fa4_last_error());
    EXPECT(t.packGqa && t.qGroup == 4 && t.viewSeqlenQ == 4 * sq &&
           t.viewHeads == 8);
    EXPECT(t.q.strides[1] == 32 * 128 && t.q.strides[2] == 128);
  }
  // ALiBi does not pack (its slope is per query head); MHA has nothing to.
  p.alibi_slopes = reinterpret_cast<const float *>(0x90000);
  KVCacheTensors t2;
  EXPECT(validateKVCache(p, t2) == FA4_SUCCESS && !t2.packGqa &&
         t2.qGroup == 1 && t2.viewHeads == 32);
  p = validCache();
  p.nheads_kv = 32;
  KVCacheTensors t3;
  EXPECT(validateKVCache(p, t3) == FA4_SUCCESS && !t3.packGqa &&
         t3.viewSeqlenQ == 1);
}
