//===- ScoreModsTest.cpp - causal, window and softcap requests ------------===//
//
// How FlashAttention-2's causal flag, window_size and softcap become kernel
// features and parameters, and the errors that name a bad one; through
// resolveScoreMods and through both entry points (no GPU needed: the
// checks run before the driver is touched).
//
//===----------------------------------------------------------------------===//

#include "Entry.h"
#include "TestUtil.h"
#include "fa4/Runtime/fa4.h"

#include <cmath>
#include <limits>
#include <string>

using namespace fa4::rt;

namespace {
ScoreMods resolve(int causal, int local, int64_t left, int64_t right,
                  float softcap = 0, int64_t seqlenK = 1000) {
  ScoreMods mods;
  fa4_status s = resolveScoreMods(causal, local, left, right, softcap,
                                  /*scale=*/0.125f, seqlenK,
                                  /*maxPositions=*/2000, mods);
  EXPECT(s == FA4_SUCCESS, "(%s)", fa4_last_error());
  return mods;
}
} // namespace

FA4_TEST(windowsSelectTheirKernel) {
  // No window: the causal flag alone decides.
  ScoreMods m = resolve(0, 0, 5, 5);
  EXPECT(!m.causal && !m.window && !m.softcap, "(local = 0 ignores sizes)");
  m = resolve(1, 0, -1, -1);
  EXPECT(m.causal && !m.window);
  // (-1, -1) is no window; (-1, 0) is causal (FlashAttention-2's rule).
  m = resolve(0, 1, -1, -1);
  EXPECT(!m.causal && !m.window);
  m = resolve(0, 1, -1, 0);
  EXPECT(m.causal && !m.window, "(window (-1, 0) is causal)");
  // A two-sided window, and causal with a left size: a window (left, 0).
  m = resolve(0, 1, 128, 32);
  EXPECT(m.window && !m.causal && m.windowLeft == 128 && m.windowRight == 32);
  m = resolve(1, 1, 128, 32);
  EXPECT(m.window && m.windowLeft == 128 && m.windowRight == 0,
         "(causal makes the right size 0: %d)", m.windowRight);
  // One-sided windows keep -1 for the unbounded side.
  m = resolve(0, 1, -1, 16);
  EXPECT(m.window && m.windowLeft == -1 && m.windowRight == 16);
  m = resolve(0, 1, 16, -1);
  EXPECT(m.window && m.windowLeft == 16 && m.windowRight == -1);
  // A left size covering every key is unbounded: causal stays causal.
  m = resolve(1, 1, 1000, 0, 0, /*seqlenK=*/1000);
  EXPECT(m.causal && !m.window, "(left >= seqlen_k with right 0)");
  // Varlen cannot know the lengths: the window kernel takes it.
  m = resolve(1, 1, 1000, 0, 0, /*seqlenK=*/-1);
  EXPECT(m.window && m.windowLeft == 1000);

  FeatureMap request;
  m = resolve(0, 1, 64, 64, 30.0f);
  m.addFeatures(request);
  EXPECT(request["causal"] == "false" && request["window"] == "true" &&
         request["softcap"] == "true");
  EXPECT(m.describe() == "window (64, 64) softcap", "(%s)",
         m.describe().c_str());
}

FA4_TEST(badWindowsAndSoftcaps) {
  ScoreMods m;
  struct {
    int64_t left, right;
    float softcap;
    int64_t positions;
    fa4_status status;
    const char *text;
  } cases[] = {
      {-2, 0, 0, 100, FA4_ERROR_INVALID_ARGUMENT, "window_left must be -1"},
      {0, -7, 0, 100, FA4_ERROR_INVALID_ARGUMENT, "window_right must be -1"},
      {int64_t(1) << 31, 0, 0, 100, FA4_ERROR_INVALID_ARGUMENT,
       "window_left must be -1 (unbounded) or in [0, 2^31)"},
      {4, 4, 0, int64_t(1) << 31, FA4_ERROR_OVERFLOW,
       "a local window needs seqlen_q + seqlen_k"},
      {-1, -1, -1.0f, 100, FA4_ERROR_INVALID_ARGUMENT,
       "softcap must be 0 (off) or positive"},
      {-1, -1, std::nanf(""), 100, FA4_ERROR_INVALID_ARGUMENT,
       "softcap must be 0 (off) or positive"},
      {-1, -1, std::numeric_limits<float>::infinity(), 100,
       FA4_ERROR_INVALID_ARGUMENT, "softcap must be 0 (off) or positive"},
      // scale / softcap underflows; softcap * log2(e) overflows.
      {-1, -1, 3e38f, 100, FA4_ERROR_INVALID_ARGUMENT,
       "must be finite normal float32"},
      {-1, -1, 1e-39f, 100, FA4_ERROR_INVALID_ARGUMENT,
       "must be finite normal float32"},
  };
  for (const auto &c : cases) {
    fa4_status s = resolveScoreMods(0, 1, c.left, c.right, c.softcap, 0.125f,
                                    -1, c.positions, m);
    std::string message = fa4_last_error();
    EXPECT(s == c.status && message.find(c.text) != std::string::npos,
           "(status %d, message '%s', want '%s')", s, message.c_str(), c.text);
  }
  // Sizes are not read without `local`: a zero-initialized struct is safe.
  EXPECT(resolveScoreMods(0, 0, -5, -5, 0, 0.125f, -1, 100, m) == FA4_SUCCESS);
}

FA4_TEST(dropoutResolvesToThresholdScaleAndPhiloxState) {
  ScoreMods m;
  EXPECT(resolveDropout(0.0f, 7, 9, nullptr, m) == FA4_SUCCESS && !m.dropout);
  FeatureMap request;
  m.addFeatures(request);
  EXPECT(request["dropout"] == "false");
  EXPECT(resolveDropout(0.25f, 0x123456789abcdefULL, 42, nullptr, m) ==
         FA4_SUCCESS);
  EXPECT(m.dropout && m.dropoutKeep == 192 && m.dropoutScale == 1.0f / 0.75f &&
             m.dropoutSeed == 0x123456789abcdefULL && m.dropoutOffset == 42,
         "(keep %u, scale %g)", m.dropoutKeep,
         static_cast<double>(m.dropoutScale));
  m.addFeatures(request);
  EXPECT(request["dropout"] == "true");
  // The ends of the 8-bit resolution: p < 1/512 keeps every draw (256);
  // p > 511/512 keeps 1/256 of them (1), as FlashAttention-2 does.
  EXPECT(resolveDropout(0.001f, 1, 0, nullptr, m) == FA4_SUCCESS &&
             m.dropoutKeep == 256,
         "(keep %u)", m.dropoutKeep);
  EXPECT(resolveDropout(0.999f, 1, 0, nullptr, m) == FA4_SUCCESS &&
             m.dropoutKeep == 1,
         "(keep %u)", m.dropoutKeep);
  EXPECT(m.describe() == "non-causal dropout", "(%s)", m.describe().c_str());
  for (float p : {1.0f, -0.1f, 1.5f, std::nanf(""),
                  std::numeric_limits<float>::infinity()}) {
    EXPECT(
        resolveDropout(p, 0, 0, nullptr, m) == FA4_ERROR_INVALID_ARGUMENT &&
            std::string(fa4_last_error()).find("dropout_p must be in [0, 1)") !=
                std::string::npos,
        "(p %g: %s)", static_cast<double>(p), fa4_last_error());
  }
  // A device-held offset (CUDA graph capture): 8-byte aligned, and only
  // with dropout; it replaces dropout_offset (the kernel adds the two, so
  // the parameters' offset goes as 0).
  const uint64_t *state = reinterpret_cast<const uint64_t *>(0x7000);
  EXPECT(resolveDropout(0.25f, 0, 99, state, m) == FA4_SUCCESS &&
             m.dropoutOffsetPtr == state && m.dropoutOffset == 0,
         "(offset %llu)", static_cast<unsigned long long>(m.dropoutOffset));
  const uint64_t *misaligned = reinterpret_cast<const uint64_t *>(0x7004);
  EXPECT(resolveDropout(0.25f, 0, 0, misaligned, m) == FA4_ERROR_MISALIGNED &&
             std::string(fa4_last_error()) ==
                 "dropout_offset_ptr (0x7004) is not 8-byte aligned",
         "(%s)", fa4_last_error());
  EXPECT(resolveDropout(0.0f, 0, 0, state, m) == FA4_ERROR_INVALID_ARGUMENT &&
             std::string(fa4_last_error())
                     .find("dropout_offset_ptr is set but "
                           "dropout_p is 0") != std::string::npos,
         "(%s)", fa4_last_error());
}

FA4_TEST(entryPointsCheckScoreMods) {
  fa4_fwd_params p;
  fa4_fwd_params_init(&p);
  EXPECT(p.window_left == -1 && p.window_right == -1 && p.local == 0 &&
         p.softcap == 0);
  p.q = p.k = p.v = reinterpret_cast<const void *>(0x10000);
  p.out = reinterpret_cast<void *>(0x40000);
  p.batch = 1, p.seqlen_q = p.seqlen_k = 64, p.nheads_q = p.nheads_kv = 1;
  p.head_dim = p.head_dim_v = 64;
  p.local = 1, p.window_left = -3;
  EXPECT(fa4_fwd(&p, nullptr) == FA4_ERROR_INVALID_ARGUMENT);
  EXPECT(std::string(fa4_last_error()).find("window_left") != std::string::npos);
  p.window_left = 8;
  p.softcap = -2.0f;
  EXPECT(fa4_fwd(&p, nullptr) == FA4_ERROR_INVALID_ARGUMENT);
  EXPECT(std::string(fa4_last_error()).find("softcap") != std::string::npos);
  p.softcap = 0;
  p.dropout_p = 1.0f;
  EXPECT(fa4_fwd(&p, nullptr) == FA4_ERROR_INVALID_ARGUMENT);
  EXPECT(std::string(fa4_last_error()).find("dropout_p") != std::string::npos);
  p.dropout_p = 0;
  p.dropout_offset_ptr = reinterpret_cast<const uint64_t *>(0x8000);
  EXPECT(fa4_fwd(&p, nullptr) == FA4_ERROR_INVALID_ARGUMENT);
  EXPECT(std::string(fa4_last_error()).find("dropout_offset_ptr") !=
         std::string::npos);
  p.dropout_offset_ptr = nullptr;
  // Window lengths are checked even when there is nothing to compute.
  p.seqlen_q = p.seqlen_k = int64_t(1) << 30;
  EXPECT(fa4_fwd(&p, nullptr) == FA4_ERROR_OVERFLOW, "(%s)", fa4_last_error());

  fa4_varlen_fwd_params v;
  fa4_varlen_fwd_params_init(&v);
  EXPECT(v.window_left == -1 && v.window_right == -1 && v.local == 0);
  v.batch = 1, v.total_q = 64, v.total_k = 64, v.nheads_q = v.nheads_kv = 1;
  v.head_dim = v.head_dim_v = 64;
  v.softcap = std::nanf("");
  EXPECT(fa4_varlen_fwd(&v, nullptr) == FA4_ERROR_INVALID_ARGUMENT);
  EXPECT(std::string(fa4_last_error()).find("softcap") != std::string::npos);
  v.softcap = 0;
  v.dropout_p = -0.5f;
  EXPECT(fa4_varlen_fwd(&v, nullptr) == FA4_ERROR_INVALID_ARGUMENT);
  EXPECT(std::string(fa4_last_error()).find("dropout_p") != std::string::npos);
  v.dropout_p = 0.5f;
  v.dropout_offset_ptr = reinterpret_cast<const uint64_t *>(0x8001);
  EXPECT(fa4_varlen_fwd(&v, nullptr) == FA4_ERROR_MISALIGNED);
  EXPECT(std::string(fa4_last_error()).find("dropout_offset_ptr") !=
             std::string::npos,
         "(%s)", fa4_last_error());
  v.dropout_offset_ptr = nullptr;
  v.dropout_p = 0;
  v.local = 1, v.window_left = 4, v.window_right = 4;
  v.total_q = int64_t(1) << 30, v.total_k = int64_t(1) << 30;
  EXPECT(fa4_varlen_fwd(&v, nullptr) == FA4_ERROR_OVERFLOW, "(%s)",
         fa4_last_error());
}

FA4_TEST(alibiSlopes) {
  ScoreMods m;
  EXPECT(resolveAlibi(nullptr, 123, 4, 8, m) == FA4_SUCCESS && !m.alibi,
         "(no slopes: no ALiBi, the stride unread)");
  const float *slopes = reinterpret_cast<const float *>(0x1000);
  EXPECT(resolveAlibi(slopes, 0, 4, 8, m) == FA4_SUCCESS && m.alibi &&
         m.alibiBatchStride == 0);
  FeatureMap request;
  m.addFeatures(request);
  EXPECT(request["alibi"] == "true");
  EXPECT(m.describe() == "non-causal alibi", "(%s)", m.describe().c_str());
  struct {
    const float *slopes;
    int64_t stride, batch;
    fa4_status status;
    const char *text;
  } cases[] = {
      {reinterpret_cast<const float *>(0x1002), 0, 4, FA4_ERROR_MISALIGNED,
       "alibi_slopes (0x1002) is not 4-byte aligned"},
      {slopes, -8, 4, FA4_ERROR_INVALID_STRIDE,
       "alibi_slopes_batch_stride must be >= 0"},
      {slopes, int64_t(1) << 30, 4, FA4_ERROR_OVERFLOW,
       "alibi_slopes: the last index"},
  };
  for (const auto &c : cases) {
    fa4_status s = resolveAlibi(c.slopes, c.stride, c.batch, 8, m);
    std::string message = fa4_last_error();
    EXPECT(s == c.status && message.find(c.text) != std::string::npos,
           "(status %d, message '%s', want '%s')", s, message.c_str(), c.text);
  }
  // Through the entry point, before any tensor is looked at.
  fa4_fwd_params p;
  fa4_fwd_params_init(&p);
  EXPECT(p.alibi_slopes == nullptr && p.alibi_slopes_batch_stride == 0);
  p.batch = 1, p.seqlen_q = p.seqlen_k = 64, p.nheads_q = p.nheads_kv = 1;
  p.head_dim = p.head_dim_v = 64;
  p.alibi_slopes = reinterpret_cast<const float *>(0x1001);
  EXPECT(fa4_fwd(&p, nullptr) == FA4_ERROR_MISALIGNED);
  fa4_varlen_fwd_params v;
  fa4_varlen_fwd_params_init(&v);
  v.batch = 2, v.total_q = v.total_k = 64, v.nheads_q = v.nheads_kv = 1;
  v.head_dim = v.head_dim_v = 64;
  v.alibi_slopes = slopes;
  v.alibi_slopes_batch_stride = -1;
  EXPECT(fa4_varlen_fwd(&v, nullptr) == FA4_ERROR_INVALID_STRIDE);
}

FA4_TEST(learnableSinks) {
  ScoreMods m;
  EXPECT(resolveSink(nullptr, m) == FA4_SUCCESS && !m.sink);
  const float *sinks = reinterpret_cast<const float *>(0x2000);
  EXPECT(resolveSink(sinks, m) == FA4_SUCCESS && m.sink && m.sinks == sinks);
  FeatureMap request;
  m.addFeatures(request);
  EXPECT(request["sink"] == "true");
  EXPECT(m.describe() == "non-causal sink", "(%s)", m.describe().c_str());
  EXPECT(resolveSink(reinterpret_cast<const float *>(0x2002), m) ==
                 FA4_ERROR_MISALIGNED &&
             std::string(fa4_last_error())
                     .find("learnable_sink (0x2002) is not 4-byte aligned") !=
                 std::string::npos,
         "(%s)", fa4_last_error());
  // Through both entry points, before any tensor is looked at.
  fa4_fwd_params p;
  fa4_fwd_params_init(&p);
  EXPECT(p.learnable_sink == nullptr);
  p.batch = 1, p.seqlen_q = p.seqlen_k = 64, p.nheads_q = p.nheads_kv = 1;
  p.head_dim = p.head_dim_v = 64;
  p.learnable_sink = reinterpret_cast<const float *>(0x1001);
  EXPECT(fa4_fwd(&p, nullptr) == FA4_ERROR_MISALIGNED);
  fa4_varlen_fwd_params v;
  fa4_varlen_fwd_params_init(&v);
  EXPECT(v.learnable_sink == nullptr);
  v.batch = 2, v.total_q = v.total_k = 64, v.nheads_q = v.nheads_kv = 1;
  v.head_dim = v.head_dim_v = 64;
  v.learnable_sink = reinterpret_cast<const float *>(0x1003);
  EXPECT(fa4_varlen_fwd(&v, nullptr) == FA4_ERROR_MISALIGNED);
}

FA4_TEST(combinationsBecomeTheSwitchableRequest) {
  const float *slopes = reinterpret_cast<const float *>(0x1000);
  // Causal with ALiBi: the window (-1, 0), softcap 0, the slopes kept.
  ScoreMods m = resolve(1, 0, -1, -1);
  EXPECT(resolveAlibi(slopes, 8, 4, 8, m) == FA4_SUCCESS);
  EXPECT(m.makeSwitchable());
  EXPECT(m.switchable && !m.causal && m.window && m.softcap && m.alibi &&
             m.windowLeft == -1 && m.windowRight == 0 &&
             m.softcapValue == 0.0f && m.alibiSlopes == slopes &&
             m.alibiBatchStride == 8,
         "(window (%d, %d), softcap %g)", m.windowLeft, m.windowRight,
         static_cast<double>(m.softcapValue));
  FeatureMap request;
  m.addFeatures(request);
  EXPECT(request["switchable"] == "true" && request["causal"] == "false" &&
         request["window"] == "true" && request["softcap"] == "true" &&
         request["alibi"] == "true");
  EXPECT(!m.makeSwitchable(), "(already switchable)");

  // A window with a softcap: no slopes (null), the window and cap kept.
  m = resolve(0, 1, 64, 16, 30.0f);
  EXPECT(m.makeSwitchable() && m.windowLeft == 64 && m.windowRight == 16 &&
         m.softcapValue == 30.0f && m.alibiSlopes == nullptr &&
         m.alibiBatchStride == 0);
  // Softcap with dropout and no mask: the window (-1, -1).
  m = resolve(0, 0, -1, -1, 30.0f);
  EXPECT(resolveDropout(0.1f, 1, 2, nullptr, m) == FA4_SUCCESS);
  EXPECT(m.makeSwitchable() && m.windowLeft == -1 && m.windowRight == -1 &&
         m.dropout);
  request.clear();
  m.addFeatures(request);
  EXPECT(request["dropout"] == "true" && request["switchable"] == "true");

  // Not served by a switchable kernel: nothing to switch, sinks,
  // block-sparse lists, a causal call too long for 32-bit diagonals.
  m = resolve(0, 0, -1, -1);
  EXPECT(!m.makeSwitchable() && !m.switchable);
  request.clear();
  m.addFeatures(request);
  EXPECT(request.count("switchable") == 0,
         "(the key is absent unless true, as in the kernels' metadata)");
  m = resolve(1, 0, -1, -1, 30.0f);
  m.sink = true;
  EXPECT(!m.makeSwitchable() && m.causal && !m.window);
  m.sink = false;
  m.blockSparse = true;
  EXPECT(!m.makeSwitchable());
  ScoreMods longCall;
  EXPECT(resolveScoreMods(1, 0, -1, -1, 30.0f, 0.125f, -1, int64_t(1) << 31,
                          longCall) == FA4_SUCCESS &&
         longCall.causal && !longCall.windowFits);
  EXPECT(!longCall.makeSwitchable() && longCall.causal);

  // S_dmask is: its switchable kernels keep return_probs in the request.
  m = resolve(1, 0, -1, -1, 30.0f);
  m.returnProbs = true;
  EXPECT(m.makeSwitchable() && m.switchable && m.returnProbs && !m.causal &&
         m.window && m.windowLeft == -1 && m.windowRight == 0);
  request.clear();
  m.addFeatures(request);
  EXPECT(request["return_probs"] == "true" && request["switchable"] == "true");
}
