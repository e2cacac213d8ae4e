//===- RuntimeTest.cpp - fa4_fwd's argument checks, without a GPU ---------===//
//
// Every bad argument of fa4_fwd gets its own status and a message naming it,
// on any machine. The other runtime tests of this executable:
// VarlenTest.cpp (fa4_varlen_fwd), KernelTableTest.cpp (the embedded
// kernels), MetadataTest.cpp (metadata, launch rules, packing).
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "TestUtil.h"
#include "fa4/Runtime/fa4.h"

#include <cmath>
#include <cstring>
#include <set>
#include <string>

using namespace fa4::rt;

//===----------------------------------------------------------------------===//
// Argument validation
//===----------------------------------------------------------------------===//

/// A valid request with fake (but aligned) device pointers.
static fa4_fwd_params validParams() {
  fa4_fwd_params p;
  fa4_fwd_params_init(&p);
  p.q = reinterpret_cast<const void *>(0x10000);
  p.k = reinterpret_cast<const void *>(0x20000);
  p.v = reinterpret_cast<const void *>(0x30000);
  p.out = reinterpret_cast<void *>(0x40000);
  p.batch = 2;
  p.seqlen_q = 100;
  p.seqlen_k = 120;
  p.nheads_q = 8;
  p.nheads_kv = 2;
  p.head_dim = p.head_dim_v = 128;
  return p;
}

/// Expects fa4_fwd(p) to fail with `status` and a message containing `text`.
static void expectError(const fa4_fwd_params &p, fa4_status status,
                        const char *text, const char *what) {
  fa4_status got = fa4_fwd(&p, nullptr);
  std::string message = fa4_last_error();
  EXPECT(got == status, "(%s: status %d, want %d: %s)", what, got, status,
         message.c_str());
  EXPECT(message.find(text) != std::string::npos,
         "(%s: message '%s' lacks '%s')", what, message.c_str(), text);
}

FA4_TEST(nullParamsAndPointers) {
  EXPECT(fa4_fwd(nullptr, nullptr) == FA4_ERROR_NULL_POINTER);
  EXPECT(std::string(fa4_last_error()).find("params") != std::string::npos);
  for (const char *name : {"q", "k", "v", "out"}) {
    fa4_fwd_params p = validParams();
    if (!std::strcmp(name, "q"))
      p.q = nullptr;
    else if (!std::strcmp(name, "k"))
      p.k = nullptr;
    else if (!std::strcmp(name, "v"))
      p.v = nullptr;
    else
      p.out = nullptr;
    expectError(p, FA4_ERROR_NULL_POINTER,
                (std::string(name) + " is NULL").c_str(), name);
  }
}

FA4_TEST(dtypeAndSizes) {
  fa4_fwd_params p = validParams();
  p.dtype = static_cast<fa4_dtype>(7);
  expectError(p, FA4_ERROR_INVALID_DTYPE, "dtype 7", "dtype");

  struct {
    int64_t fa4_fwd_params::*field;
    int64_t value;
    const char *text;
  } cases[] = {
      {&fa4_fwd_params::batch, -1, "batch must be non-negative"},
      {&fa4_fwd_params::seqlen_q, -1, "seqlen_q must be non-negative"},
      {&fa4_fwd_params::seqlen_k, -3, "seqlen_k must be non-negative"},
      {&fa4_fwd_params::nheads_q, -2, "nheads_q must be non-negative"},
      {&fa4_fwd_params::nheads_kv, -1, "nheads_kv must be non-negative"},
      {&fa4_fwd_params::nheads_kv, 0, "nheads_kv must be positive"},
      {&fa4_fwd_params::head_dim, 0, "head_dim must be positive"},
      {&fa4_fwd_params::nheads_q, 70000, "at most 65535"},
  };
  for (const auto &c : cases) {
    fa4_fwd_params p = validParams();
    p.*c.field = c.value;
    if (c.value == 70000)
      p.nheads_kv = 70000;
    expectError(p, FA4_ERROR_INVALID_SHAPE, c.text, c.text);
  }
}

FA4_TEST(headDimsAndRatio) {
  fa4_fwd_params p = validParams();
  p.head_dim = p.head_dim_v = 80;
  expectError(p, FA4_ERROR_UNSUPPORTED_HEAD_DIM, "no kernel for head_dim 80",
              "head_dim 80");
  p = validParams();
  p.head_dim_v = 64;
  expectError(p, FA4_ERROR_UNSUPPORTED_HEAD_DIM,
              "with head_dim_v 64 (built with head_dim", "head_dim_v");
  p = validParams();
  p.nheads_q = 6;
  p.nheads_kv = 4;
  expectError(p, FA4_ERROR_INVALID_HEAD_RATIO,
              "nheads_q (6) is not a multiple of nheads_kv (4)", "ratio");
}

FA4_TEST(stridesAlignmentOverflow) {
  int64_t contiguous[4] = {100 * 8 * 128, 8 * 128, 128, 1};
  fa4_fwd_params p = validParams();
  std::memcpy(p.q_strides, contiguous, sizeof(contiguous));
  p.q_strides[3] = 2;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "q: the stride of dim 3", "dim 3");

  p = validParams();
  std::memcpy(p.k_strides, contiguous, sizeof(contiguous));
  p.k_strides[2] = -128;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "k: the head stride is negative",
              "negative");

  p = validParams();
  std::memcpy(p.out_strides, contiguous, sizeof(contiguous));
  p.out_strides[1] = 0;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "overwrite", "out stride 0");

  p = validParams();
  p.v = reinterpret_cast<const void *>(0x30008);
  expectError(p, FA4_ERROR_MISALIGNED, "v (0x30008) is not 16-byte aligned",
              "pointer");

  p = validParams();
  std::memcpy(p.q_strides, contiguous, sizeof(contiguous));
  p.q_strides[1] = 1004;
  expectError(p, FA4_ERROR_MISALIGNED,
              "q: the seq stride (1004 elements) is not a multiple of 8",
              "row stride");

  p = validParams();
  p.seqlen_k = 1 << 20;
  std::memcpy(p.k_strides, contiguous, sizeof(contiguous));
  p.k_strides[1] = 4096;
  expectError(p, FA4_ERROR_OVERFLOW, "k: (seqlen - 1) * seq stride",
              "overflow");
}

/// Output elements that would alias, and offsets past 64-bit byte offsets.
FA4_TEST(aliasingAndOffsetOverflow) {
  int64_t contiguous[4] = {100 * 8 * 128, 8 * 128, 128, 1};
  // Two batch entries written to one place.
  fa4_fwd_params p = validParams();
  std::memcpy(p.out_strides, contiguous, sizeof(contiguous));
  p.out_strides[0] = 0;
  expectError(p, FA4_ERROR_INVALID_STRIDE,
              "out: the batch stride is 0 with 2 batch entries", "batch 0");
  // Heads 64 elements apart with 128-element rows: neighbours overlap.
  p = validParams();
  std::memcpy(p.out_strides, contiguous, sizeof(contiguous));
  p.out_strides[2] = 64;
  expectError(p, FA4_ERROR_INVALID_STRIDE,
              "out: the head stride (64) is below the 128 elements",
              "heads overlap");
  // Rows that overlap the heads of the previous row.
  p = validParams();
  std::memcpy(p.out_strides, contiguous, sizeof(contiguous));
  p.out_strides[1] = 512;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "out: the seq stride (512)",
              "rows overlap");
  // A transposed but non-overlapping output is fine for the checks.
  p = validParams();
  int64_t headMajor[4] = {8 * 100 * 128, 128, 100 * 128, 1};
  std::memcpy(p.out_strides, headMajor, sizeof(headMajor));
  EXPECT(fa4_fwd(&p, nullptr) != FA4_ERROR_INVALID_STRIDE, "(%s)",
         fa4_last_error());
  // Inputs may broadcast (stride 0): only outputs must not alias.
  p = validParams();
  std::memcpy(p.k_strides, contiguous, sizeof(contiguous));
  p.k_strides[0] = 0;
  EXPECT(fa4_fwd(&p, nullptr) != FA4_ERROR_INVALID_STRIDE, "(%s)",
         fa4_last_error());
  // A batch stride whose largest offset passes 2^63 bytes.
  p = validParams();
  std::memcpy(p.q_strides, contiguous, sizeof(contiguous));
  p.q_strides[0] = int64_t(1) << 62;
  expectError(p, FA4_ERROR_OVERFLOW, "q: the largest element offset",
              "64-bit offset");
  // The LSE: a zero batch stride, overlapping heads.
  p = validParams();
  p.lse = reinterpret_cast<float *>(0x50000);
  p.lse_strides[0] = 0;
  p.lse_strides[1] = 100;
  p.lse_strides[2] = 1;
  expectError(p, FA4_ERROR_INVALID_STRIDE,
              "lse: the batch stride is 0 with 2 batch entries", "lse batch");
  p.lse_strides[0] = 800;
  p.lse_strides[1] = 50;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "lse: the head stride (50)",
              "lse heads");
}

FA4_TEST(scaleLoadPathAndLse) {
  fa4_fwd_params p = validParams();
  p.softmax_scale = std::nanf("");
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "softmax_scale", "NaN scale");
  p.softmax_scale = -0.5f;
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "softmax_scale", "negative");
  // The kernel works with scale * log2(e) in float32: it must stay finite
  // and must not underflow.
  p.softmax_scale = 3e38f;
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "times log2(e) is inf",
              "overflowing scale");
  p.softmax_scale = 1e-39f;
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "not a finite normal number",
              "subnormal scale");

  p = validParams();
  p.load_path = static_cast<fa4_load_path>(9);
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "load_path 9", "bad path");

  p = validParams();
  p.lse = reinterpret_cast<float *>(0x50002);
  expectError(p, FA4_ERROR_MISALIGNED, "lse (0x50002) is not 4-byte aligned",
              "lse");
  p.lse = reinterpret_cast<float *>(0x50000);
  p.lse_strides[0] = 800;
  p.lse_strides[1] = 100;
  p.lse_strides[2] = 2;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "lse: the stride of dim 2",
              "lse stride");
}

FA4_TEST(sDmaskNeedsDropoutAndAValidLayout) {
  fa4_fwd_params p = validParams();
  p.s_dmask = reinterpret_cast<void *>(0x900000);
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "s_dmask needs dropout_p > 0",
              "no dropout");
  p.dropout_p = 0.1f;
  p.s_dmask = reinterpret_cast<void *>(0x900002);
  expectError(p, FA4_ERROR_MISALIGNED,
              "s_dmask (0x900002) is not 4-byte aligned", "misaligned");
  p.s_dmask = reinterpret_cast<void *>(0x900000);
  p.s_dmask_strides[0] = -1;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "s_dmask: strides must be >= 0",
              "negative stride");
  // Rows of 100 columns cannot hold the 128 a rounded key block may write.
  p.s_dmask_strides[0] = 1 << 24;
  p.s_dmask_strides[1] = 1 << 20;
  p.s_dmask_strides[2] = 100;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "s_dmask", "overlapping rows");
  int64_t blockN = 0;
  EXPECT(fa4_fwd_probs_block_n(nullptr, &blockN) == FA4_ERROR_NULL_POINTER);
  EXPECT(fa4_fwd_probs_block_n(&p, nullptr) == FA4_ERROR_NULL_POINTER);
}

FA4_TEST(blockSparseListsAreChecked) {
  fa4_fwd_params p = validParams();
  fa4_block_sparse &bs = p.block_sparse;
  bs.mask_block_idx = reinterpret_cast<const int32_t *>(0xb1000);
  expectError(p, FA4_ERROR_NULL_POINTER, "without mask_block_cnt",
              "lists without counts");
  bs.mask_block_cnt = reinterpret_cast<const int32_t *>(0xb0000);
  bs.mask_block_idx = nullptr;
  expectError(p, FA4_ERROR_NULL_POINTER, "mask_block_idx is NULL",
              "counts without lists");
  bs.mask_block_idx = reinterpret_cast<const int32_t *>(0xb1000);
  bs.full_block_cnt = reinterpret_cast<const int32_t *>(0xb2000);
  expectError(p, FA4_ERROR_NULL_POINTER,
              "full_block_cnt and full_block_idx must both be given",
              "half a full list");
  bs.full_block_idx = reinterpret_cast<const int32_t *>(0xb3002);
  expectError(p, FA4_ERROR_MISALIGNED,
              "block_sparse: full_block_idx (0xb3002) is not 4-byte aligned",
              "misaligned list");
  bs.full_block_idx = reinterpret_cast<const int32_t *>(0xb3000);
  bs.heads = 2;
  expectError(p, FA4_ERROR_INVALID_SHAPE, "heads must be 1 or nheads_q (8)",
              "heads");
  bs.heads = 8;
  expectError(p, FA4_ERROR_INVALID_SHAPE, "block sizes must be positive",
              "block sizes");
  bs.block_m = bs.block_n = 128;
  bs.m_blocks = 0;
  expectError(p, FA4_ERROR_INVALID_SHAPE,
              "m_blocks (0) must cover the 1 query blocks of 128 rows",
              "m_blocks");
  bs.m_blocks = 1;
  bs.mask_capacity = 4;
  expectError(p, FA4_ERROR_INVALID_SHAPE,
              "list capacities must be positive, got mask 4, full 0",
              "full capacity");
}

FA4_TEST(emptyQueriesAndDriverStatus) {
  // Nothing to compute: success without touching the GPU, whatever the
  // (empty) tensors' pointers are.
  for (int64_t fa4_fwd_params::*field :
       {&fa4_fwd_params::seqlen_q, &fa4_fwd_params::batch,
        &fa4_fwd_params::nheads_q}) {
    fa4_fwd_params p = validParams();
    p.*field = 0;
    p.q = p.k = p.v = nullptr;
    p.out = nullptr;
    if (field == &fa4_fwd_params::nheads_q)
      p.nheads_kv = 0;
    EXPECT(fa4_fwd(&p, nullptr) == FA4_SUCCESS, "(%s)", fa4_last_error());
  }

  // A valid request: without a driver or GPU that is a status, not a crash.
  // (Where a GPU exists this would launch on fake pointers: not done.)
  const CudaDriver *driver;
  fa4_status status = getCudaDriver(driver);
  if (status != FA4_SUCCESS) {
    EXPECT(status == FA4_ERROR_NO_CUDA_DRIVER || status == FA4_ERROR_NO_GPU);
    fa4_fwd_params valid = validParams();
    fa4_status got = fa4_fwd(&valid, nullptr);
    EXPECT(got == status, "(got %d: %s)", got, fa4_last_error());
    EXPECT(std::strlen(fa4_last_error()) > 0);
    std::printf("  driver status here: %s\n", fa4_last_error());
  }
}

FA4_TEST(statusStrings) {
  std::set<std::string> seen;
  for (int s = FA4_SUCCESS; s <= FA4_ERROR_INVALID_DEVICE_VALUE; ++s) {
    std::string text = fa4_status_string(static_cast<fa4_status>(s));
    EXPECT(!text.empty() && seen.insert(text).second, "(status %d)", s);
  }
  EXPECT(fa4_fwd_params_size() == sizeof(fa4_fwd_params));
  EXPECT(fa4_varlen_fwd_params_size() == sizeof(fa4_varlen_fwd_params));
  EXPECT(std::string(fa4_version()).size() >= 5);
}

FA4_TEST(embeddedModulesAreListed) {
  uint64_t count = fa4_module_count();
  EXPECT(count > 0);
  std::set<std::string> targets, seen;
  for (uint64_t i = 0; i < count; ++i) {
    const char *name = fa4_module_name(i), *target = fa4_module_target(i);
    EXPECT(name && target, "(module %llu)", static_cast<unsigned long long>(i));
    if (!name || !target)
      return;
    EXPECT(std::strncmp(name, "fa4_", 4) == 0, "(%s)", name);
    EXPECT(seen.insert(std::string(target) + "/" + name).second, "(%s twice)",
           name);
    targets.insert(target);
  }
  // Every module is embedded for every target, in equal numbers.
  EXPECT(count % targets.size() == 0);
  EXPECT(targets.count("sm_120a") == 1 && targets.count("sm_121a") == 1);
  EXPECT(fa4_module_name(count) == nullptr);
  EXPECT(fa4_module_target(count) == nullptr);
}

FA4_TEST(deviceInfoReportsTheDriversView) {
  EXPECT(fa4_get_device_info(0, nullptr) == FA4_ERROR_NULL_POINTER);
  EXPECT(std::strstr(fa4_last_error(), "info is NULL"));
  EXPECT(fa4_device_info_size() == sizeof(fa4_device_info));
  fa4_device_info info;
  fa4_status status = fa4_get_device_info(0, &info);
  if (status == FA4_ERROR_NO_CUDA_DRIVER) {
    EXPECT(info.driver_version == 0 && info.device_count == 0);
    EXPECT(std::strstr(fa4_last_error(), "libcuda"), "(%s)", fa4_last_error());
    std::printf("  no driver here: %s\n", fa4_last_error());
    return;
  }
  EXPECT(info.driver_version > 0);
  if (status == FA4_ERROR_NO_GPU) {
    std::printf("  driver %d, no GPU: %s\n", info.driver_version,
                fa4_last_error());
    return;
  }
  EXPECT(status == FA4_SUCCESS, "(%d: %s)", status, fa4_last_error());
  EXPECT(info.device_count > 0 && info.multiprocessors > 0 && info.name[0]);
  // A target is reported only when the library embeds it.
  if (info.target) {
    bool embedded = false;
    for (uint64_t i = 0; i < fa4_module_count(); ++i)
      embedded |= std::strcmp(fa4_module_target(i), info.target) == 0;
    EXPECT(embedded, "(%s)", info.target);
  }
  EXPECT(fa4_get_device_info(info.device_count, &info) ==
         FA4_ERROR_INVALID_ARGUMENT);
  EXPECT(fa4_get_device_info(-1, &info) == FA4_ERROR_INVALID_ARGUMENT);
  EXPECT(std::strstr(fa4_last_error(), "device -1 does not exist"));
}

int main() { return fa4::test::runAll(); }
