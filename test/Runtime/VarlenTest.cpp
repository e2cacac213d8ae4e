//===- VarlenTest.cpp - fa4_varlen_fwd's argument checks, without a GPU ---===//
//
// Every bad argument the host can see gets its own status and a message
// naming it: missing or misaligned cu_seqlens, sizes, head dims, strides,
// and the paged cache's geometry (page size, table, page strides).
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "Launch.h"
#include "TestUtil.h"
#include "fa4/Runtime/fa4.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace fa4::rt;

/// A valid packed request with fake (but aligned) device pointers.
static fa4_varlen_fwd_params validVarlen() {
  fa4_varlen_fwd_params p;
  fa4_varlen_fwd_params_init(&p);
  p.q = reinterpret_cast<const void *>(0x10000);
  p.k = reinterpret_cast<const void *>(0x20000);
  p.v = reinterpret_cast<const void *>(0x30000);
  p.out = reinterpret_cast<void *>(0x40000);
  p.cu_seqlens_q = reinterpret_cast<const int32_t *>(0x60000);
  p.cu_seqlens_k = reinterpret_cast<const int32_t *>(0x61000);
  p.batch = 3;
  p.total_q = 500;
  p.total_k = 700;
  p.max_seqlen_q = 300;
  p.max_seqlen_k = 400;
  p.nheads_q = 8;
  p.nheads_kv = 2;
  p.head_dim = p.head_dim_v = 128;
  return p;
}

/// The same, with a paged cache of 20 pages of 64 rows.
static fa4_varlen_fwd_params validPaged() {
  fa4_varlen_fwd_params p = validVarlen();
  p.block_table = reinterpret_cast<const int32_t *>(0x63000);
  p.max_pages = 8;
  p.num_pages = 20;
  p.page_size = 64;
  return p;
}

static void expectVarlenError(const fa4_varlen_fwd_params &p, fa4_status status,
                              const char *text) {
  fa4_status got = fa4_varlen_fwd(&p, nullptr);
  std::string message = fa4_last_error();
  EXPECT(got == status, "(%s: status %d, want %d: %s)", text, got, status,
         message.c_str());
  EXPECT(message.find(text) != std::string::npos, "(message '%s' lacks '%s')",
         message.c_str(), text);
}

FA4_TEST(varlenPointersAndSizes) {
  EXPECT(fa4_varlen_fwd(nullptr, nullptr) == FA4_ERROR_NULL_POINTER);
  struct {
    std::function<void(fa4_varlen_fwd_params &)> edit;
    fa4_status status;
    const char *text;
  } cases[] = {
      {[](auto &p) { p.cu_seqlens_q = nullptr; }, FA4_ERROR_NULL_POINTER,
       "cu_seqlens_q is NULL"},
      {[](auto &p) { p.cu_seqlens_k = nullptr; }, FA4_ERROR_NULL_POINTER,
       "cu_seqlens_k is NULL"},
      {[](auto &p) {
         p.cu_seqlens_q = reinterpret_cast<const int32_t *>(0x60002);
       },
       FA4_ERROR_MISALIGNED, "cu_seqlens_q (0x60002) is not 4-byte aligned"},
      {[](auto &p) {
         p.seqused_k = reinterpret_cast<const int32_t *>(0x62001);
       },
       FA4_ERROR_MISALIGNED, "seqused_k"},
      {[](auto &p) { p.q = nullptr; }, FA4_ERROR_NULL_POINTER, "q is NULL"},
      {[](auto &p) { p.out = nullptr; }, FA4_ERROR_NULL_POINTER, "out is NULL"},
      {[](auto &p) { p.k = nullptr; }, FA4_ERROR_NULL_POINTER, "k is NULL"},
      {[](auto &p) { p.batch = -1; }, FA4_ERROR_INVALID_SHAPE,
       "batch must be non-negative"},
      {[](auto &p) { p.total_q = -5; }, FA4_ERROR_INVALID_SHAPE,
       "total_q must be non-negative"},
      {[](auto &p) { p.nheads_kv = 0; }, FA4_ERROR_INVALID_SHAPE,
       "nheads_kv must be positive"},
      {[](auto &p) { p.total_k = int64_t(1) << 31; }, FA4_ERROR_OVERFLOW,
       "total_k (2147483648) must be < 2^31"},
      {[](auto &p) { p.head_dim = p.head_dim_v = 80; },
       FA4_ERROR_UNSUPPORTED_HEAD_DIM, "no kernel for head_dim 80"},
      {[](auto &p) { p.nheads_q = 6, p.nheads_kv = 4; },
       FA4_ERROR_INVALID_HEAD_RATIO, "nheads_q (6) is not a multiple"},
      {[](auto &p) { p.softmax_scale = std::nanf(""); },
       FA4_ERROR_INVALID_ARGUMENT, "softmax_scale"},
      {[](auto &p) { p.dtype = static_cast<fa4_dtype>(3); },
       FA4_ERROR_INVALID_DTYPE, "dtype 3"},
      {[](auto &p) {
         p.q_strides[0] = 1004, p.q_strides[1] = 128, p.q_strides[2] = 1;
       },
       FA4_ERROR_MISALIGNED, "q: the seq stride (1004 elements)"},
      {[](auto &p) {
         p.lse = reinterpret_cast<float *>(0x50000), p.lse_strides[0] = 500,
         p.lse_strides[1] = 2;
       },
       FA4_ERROR_INVALID_STRIDE, "lse: the token stride must be 1"},
      // Heads of the LSE 100 floats apart over 500 tokens: they overlap.
      {[](auto &p) {
         p.lse = reinterpret_cast<float *>(0x50000), p.lse_strides[0] = 100,
         p.lse_strides[1] = 1;
       },
       FA4_ERROR_INVALID_STRIDE, "lse: the head stride (100) is below the 500"},
      // Tokens of the output overlapping the previous token's heads.
      {[](auto &p) {
         p.out_strides[0] = 512, p.out_strides[1] = 128, p.out_strides[2] = 1;
       },
       FA4_ERROR_INVALID_STRIDE, "out: the seq stride (512)"},
      {[](auto &p) { p.softmax_scale = 3e38f; }, FA4_ERROR_INVALID_ARGUMENT,
       "times log2(e) is inf"},
      {[](auto &p) { p.page_size = 64; }, FA4_ERROR_INVALID_ARGUMENT,
       "but block_table is NULL"},
      // S_dmask: with dropout only, aligned, and (3, 8, 384, 512) at the
      // given strides without overlap.
      {[](auto &p) { p.s_dmask = reinterpret_cast<void *>(0x900000); },
       FA4_ERROR_INVALID_ARGUMENT, "s_dmask needs dropout_p > 0"},
      {[](auto &p) {
         p.dropout_p = 0.1f, p.s_dmask = reinterpret_cast<void *>(0x900002);
       },
       FA4_ERROR_MISALIGNED, "s_dmask (0x900002) is not 4-byte aligned"},
      {[](auto &p) {
         p.dropout_p = 0.1f, p.s_dmask = reinterpret_cast<void *>(0x900000);
         p.s_dmask_strides[0] = 8 * 384 * 512, p.s_dmask_strides[1] = 384 * 512;
         p.s_dmask_strides[2] = 500;
       },
       FA4_ERROR_INVALID_STRIDE, "s_dmask: the row stride (500)"},
      // 384 rows 2^23 elements apart: past the kernel's 32-bit row offsets.
      {[](auto &p) {
         p.dropout_p = 0.1f, p.s_dmask = reinterpret_cast<void *>(0x900000);
         p.s_dmask_strides[0] = int64_t(8) * 384 << 23;
         p.s_dmask_strides[1] = int64_t(384) << 23;
         p.s_dmask_strides[2] = int64_t(1) << 23;
       },
       FA4_ERROR_OVERFLOW, "spans 2^31 elements or more"},
  };
  for (const auto &c : cases) {
    fa4_varlen_fwd_params p = validVarlen();
    c.edit(p);
    expectVarlenError(p, c.status, c.text);
  }
}

FA4_TEST(varlenSDmaskNotWithPages) {
  fa4_varlen_fwd_params p = validPaged();
  p.dropout_p = 0.1f;
  p.s_dmask = reinterpret_cast<void *>(0x900000);
  expectVarlenError(p, FA4_ERROR_UNSUPPORTED_FEATURE,
                    "s_dmask is not built with a paged K/V cache");
}

FA4_TEST(pagedGeometry) {
  struct {
    std::function<void(fa4_varlen_fwd_params &)> edit;
    fa4_status status;
    const char *text;
  } cases[] = {
      {[](auto &p) { p.page_size = 24; }, FA4_ERROR_INVALID_SHAPE,
       "page_size must be a positive multiple of 16, got 24"},
      {[](auto &p) { p.page_size = 0; }, FA4_ERROR_INVALID_SHAPE,
       "page_size must be a positive multiple of 16, got 0"},
      {[](auto &p) { p.max_pages = 0; }, FA4_ERROR_INVALID_SHAPE,
       "max_pages >= 1 and num_pages >= 1"},
      {[](auto &p) { p.block_table_stride = 3; }, FA4_ERROR_INVALID_STRIDE,
       "block_table_stride (3) is below max_pages (8)"},
      {[](auto &p) {
         p.block_table = reinterpret_cast<const int32_t *>(0x63002);
       },
       FA4_ERROR_MISALIGNED, "block_table (0x63002) is not 4-byte aligned"},
      {[](auto &p) { p.k_page_stride = 12; }, FA4_ERROR_INVALID_STRIDE,
       "k: the page stride (12 elements)"},
      {[](auto &p) { p.max_pages = int64_t(1) << 30, p.page_size = 64; },
       FA4_ERROR_OVERFLOW, "max_pages * page_size"},
      {[](auto &p) { p.v = nullptr; }, FA4_ERROR_NULL_POINTER, "v is NULL"},
      // Pages 2^60 elements apart: the last page's offset passes 2^63 bytes.
      {[](auto &p) { p.k_page_stride = int64_t(1) << 60; }, FA4_ERROR_OVERFLOW,
       "k: the largest element offset"},
  };
  for (const auto &c : cases) {
    fa4_varlen_fwd_params p = validPaged();
    c.edit(p);
    expectVarlenError(p, c.status, c.text);
  }
}

FA4_TEST(varlenNothingToDoAndDriverStatus) {
  // No sequences, no query rows or no heads: success, whatever the (empty)
  // tensors' pointers are.
  for (int64_t fa4_varlen_fwd_params::*field :
       {&fa4_varlen_fwd_params::batch, &fa4_varlen_fwd_params::total_q,
        &fa4_varlen_fwd_params::nheads_q}) {
    fa4_varlen_fwd_params p = validVarlen();
    p.*field = 0;
    p.q = p.k = p.v = nullptr;
    p.out = nullptr;
    p.cu_seqlens_q = p.cu_seqlens_k = nullptr;
    if (field == &fa4_varlen_fwd_params::nheads_q)
      p.nheads_kv = 0;
    EXPECT(fa4_varlen_fwd(&p, nullptr) == FA4_SUCCESS, "(%s)",
           fa4_last_error());
  }
  const CudaDriver *driver;
  fa4_status status = getCudaDriver(driver);
  if (status != FA4_SUCCESS) {
    for (fa4_varlen_fwd_params valid : {validVarlen(), validPaged()}) {
      fa4_status got = fa4_varlen_fwd(&valid, nullptr);
      EXPECT(got == status, "(got %d: %s)", got, fa4_last_error());
    }
  }
}

/// The page index the paged kernels compute, umulhi(x, magic) >> shift, is
/// x / page_size for every row a kernel can ask for (x < 2^31): every page
/// size up to 2^16 at the rows where a quotient changes and at the top of
/// the range, and the largest page sizes.
FA4_TEST(pageReciprocalIsExact) {
  auto check = [](int64_t d, int64_t x) {
    DivisionReciprocal r = getDivisionReciprocal(d);
    uint64_t high = (static_cast<uint64_t>(x) * r.magic) >> 32;
    int64_t got = static_cast<int64_t>(high >> r.shift);
    if (got == x / d)
      return true;
    EXPECT(false, "(%lld / %lld: got %lld)", static_cast<long long>(x),
           static_cast<long long>(d), static_cast<long long>(got));
    return false;
  };
  const int64_t top = INT32_MAX;
  std::vector<int64_t> divisors;
  for (int64_t d = 16; d <= 65536; d += 16)
    divisors.push_back(d);
  for (int64_t d : {top - 15, (top - 15) / 2 & ~int64_t(15), int64_t(1) << 30,
                    (int64_t(1) << 30) + 16})
    divisors.push_back(d);
  for (int64_t d : divisors) {
    std::vector<int64_t> rows = {0, 1, d - 1, d, d + 1, top, top - 1};
    for (int64_t q : {int64_t(2), int64_t(3), int64_t(1000), top / d - 1,
                      top / d})
      for (int64_t delta : {int64_t(-1), int64_t(0), int64_t(1)})
        rows.push_back(q * d + delta);
    for (int64_t x : rows)
      if (x >= 0 && x <= top && !check(d, x))
        return;
  }
}
