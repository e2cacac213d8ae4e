//===- ScoreMods.cpp - masks and score modifications of a request ---------===//
//
// FlashAttention-2's rules (flash_api.cpp, mha_fwd): causal sets the window's
// right size to 0; a window (unbounded, 0) is causal; a size past the keys is
// unbounded. fa4 keeps -1 meaning unbounded inside the window kernel too (it
// clamps sizes to the sequence), so a window kernel serves every (left,
// right) pair, and the causal kernel, which needs no left edge, takes the
// windows that have none.
//
//===----------------------------------------------------------------------===//

#include "ScoreMods.h"

#include "Launch.h"
#include "Status.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

using namespace fa4::rt;

/// The window kernel's largest diagonal is q_row + tile_m + seqlen_k (and
/// the smallest -seqlen_q - seqlen_k): 32-bit with room for a tile.
static constexpr int64_t kMaxWindowPositions = (int64_t(1) << 31) - 1024;

fa4_status fa4::rt::resolveScoreMods(int causal, int local, int64_t windowLeft,
                                     int64_t windowRight, float softcap,
                                     float scale, int64_t knownSeqlenK,
                                     int64_t maxPositions, ScoreMods &mods) {
  mods = ScoreMods();
  int64_t left = -1, right = -1;
  if (local) {
    struct {
      const char *name;
      int64_t value;
    } sizes[] = {{"window_left", windowLeft}, {"window_right", windowRight}};
    for (const auto &size : sizes)
      if (size.value < -1 || size.value > INT32_MAX)
        return fail(FA4_ERROR_INVALID_ARGUMENT,
                    format("%s must be -1 (unbounded) or in [0, 2^31), got "
                           "%lld",
                           size.name, static_cast<long long>(size.value)));
    left = windowLeft;
    right = windowRight;
  }
  if (causal)
    right = 0;
  if (knownSeqlenK >= 0 && left >= knownSeqlenK)
    left = -1;
  mods.causal = left < 0 && right == 0;
  mods.window = !mods.causal && (left >= 0 || right >= 0);
  mods.windowFits = maxPositions <= kMaxWindowPositions;
  if (mods.window) {
    if (!mods.windowFits)
      return fail(FA4_ERROR_OVERFLOW,
                  format("a local window needs seqlen_q + seqlen_k < %lld per "
                         "sequence (32-bit diagonals); the call allows %lld",
                         static_cast<long long>(kMaxWindowPositions),
                         static_cast<long long>(maxPositions)));
    mods.windowLeft = static_cast<int32_t>(left);
    mods.windowRight = static_cast<int32_t>(right);
  }

  if (!std::isfinite(softcap) || softcap < 0)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("softcap must be 0 (off) or positive and finite, got %g",
                       static_cast<double>(softcap)));
  if (softcap > 0) {
    // The kernel computes softcap * tanh(scale / softcap * S).
    float pre = scale / softcap;
    float scaled = softcap * 1.44269504f;
    if (!std::isnormal(pre) || !std::isnormal(scaled))
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  format("softcap %g with softmax_scale %g: scale / softcap "
                         "(%g) and softcap * log2(e) (%g) must be finite "
                         "normal float32 numbers",
                         static_cast<double>(softcap),
                         static_cast<double>(scale), static_cast<double>(pre),
                         static_cast<double>(scaled)));
    mods.softcap = true;
    mods.softcapValue = softcap;
  }
  return FA4_SUCCESS;
}

fa4_status fa4::rt::resolveAlibi(const float *slopes, int64_t batchStride,
                                 int64_t batch, int64_t nheads,
                                 ScoreMods &mods) {
  mods.alibi = slopes != nullptr;
  if (!slopes)
    return FA4_SUCCESS;
  if (fa4_status s = checkAligned(slopes, 4, "alibi_slopes"); s != FA4_SUCCESS)
    return s;
  if (batchStride < 0)
    return fail(FA4_ERROR_INVALID_STRIDE,
                format("alibi_slopes_batch_stride must be >= 0, got %lld",
                       static_cast<long long>(batchStride)));
  long double last = static_cast<long double>(std::max<int64_t>(batch - 1, 0)) *
                         batchStride +
                     nheads;
  if (last > INT32_MAX)
    return fail(FA4_ERROR_OVERFLOW,
                format("alibi_slopes: the last index (batch - 1) * %lld + "
                       "nheads_q passes 2^31",
                       static_cast<long long>(batchStride)));
  mods.alibiSlopes = slopes;
  mods.alibiBatchStride = batchStride;
  return FA4_SUCCESS;
}

fa4_status fa4::rt::resolveDropout(float p, uint64_t seed, uint64_t offset,
                                   const uint64_t *offsetPtr, ScoreMods &mods) {
  if (!(p >= 0.0f && p < 1.0f))
    return fail(
        FA4_ERROR_INVALID_ARGUMENT,
        format("dropout_p must be in [0, 1), got %g", static_cast<double>(p)));
  mods.dropout = p > 0.0f;
  if (!mods.dropout) {
    if (offsetPtr)
      return fail(FA4_ERROR_INVALID_ARGUMENT,
                  "dropout_offset_ptr is set but dropout_p is 0 (the offset "
                  "keys the dropout mask)");
    return FA4_SUCCESS;
  }
  if (fa4_status s = checkAligned(offsetPtr, 8, "dropout_offset_ptr");
      s != FA4_SUCCESS)
    return s;
  mods.dropoutOffsetPtr = offsetPtr;
  double keep = 1.0 - static_cast<double>(p);
  // At least 1: an 8-bit draw keeps no less than 1/256 of the values, as
  // FlashAttention-2's do (for p > 511/512); the kernel compares against
  // keep * 2^24 - 1, which needs keep >= 1.
  mods.dropoutKeep =
      static_cast<uint32_t>(std::max(1L, std::lround(keep * 256.0)));
  mods.dropoutScale = static_cast<float>(1.0 / keep);
  mods.dropoutSeed = seed;
  // The kernel adds the parameters' offset to the word at the pointer (a
  // zero word of its module when there is none), so a pointer replaces it.
  mods.dropoutOffset = offsetPtr ? 0 : offset;
  return FA4_SUCCESS;
}

fa4_status fa4::rt::resolveSink(const float *sinks, ScoreMods &mods) {
  mods.sink = sinks != nullptr;
  if (fa4_status s = checkAligned(sinks, 4, "learnable_sink"); s != FA4_SUCCESS)
    return s;
  mods.sinks = sinks;
  return FA4_SUCCESS;
}

bool ScoreMods::makeSwitchable() {
  if (switchable || sink || blockSparse)
    return false;
  if (!causal && !window && !softcap && !alibi)
    return false;
  if (causal && !windowFits)
    return false;
  if (causal) {
    windowLeft = -1;
    windowRight = 0;
  } else if (!window) {
    windowLeft = windowRight = -1;
  }
  if (!softcap)
    softcapValue = 0;
  if (!alibi) {
    alibiSlopes = nullptr;
    alibiBatchStride = 0;
  }
  causal = false;
  window = softcap = alibi = switchable = true;
  return true;
}

void ScoreMods::addFeatures(FeatureMap &request) const {
  request["causal"] = causal ? "true" : "false";
  request["window"] = window ? "true" : "false";
  request["softcap"] = softcap ? "true" : "false";
  request["alibi"] = alibi ? "true" : "false";
  request["sink"] = sink ? "true" : "false";
  request["dropout"] = dropout ? "true" : "false";
  request["return_probs"] = returnProbs ? "true" : "false";
  request["block_sparse"] = blockSparse ? "true" : "false";
  if (switchable)
    request["switchable"] = "true";
}

void ScoreMods::setArgs(Launch &launch) const {
  if (window) {
    launch.args.setI32("window_left", windowLeft);
    launch.args.setI32("window_right", windowRight);
  }
  if (softcap)
    launch.args.setF32("softcap", softcapValue);
  if (alibi) {
    launch.args.setPtr("alibi_slopes", alibiSlopes);
    launch.args.setI32("alibi_batch_stride",
                       static_cast<int32_t>(alibiBatchStride));
  }
  if (sink)
    launch.args.setPtr("learnable_sink", sinks);
  if (dropout) {
    auto half = [](uint64_t v, int shift) {
      return static_cast<int32_t>(static_cast<uint32_t>(v >> shift));
    };
    launch.args.setI32("dropout_seed_lo", half(dropoutSeed, 0));
    launch.args.setI32("dropout_seed_hi", half(dropoutSeed, 32));
    launch.args.setI32("dropout_offset_lo", half(dropoutOffset, 0));
    launch.args.setI32("dropout_offset_hi", half(dropoutOffset, 32));
    launch.args.setI32("dropout_keep", static_cast<int32_t>(dropoutKeep));
    launch.args.setF32("dropout_scale", dropoutScale);
    launch.args.setPtr("dropout_offset_ptr", dropoutOffsetPtr);
  }
}

std::string ScoreMods::describe() const {
  std::string text = causal ? "causal" : "non-causal";
  if (window)
    text = "window (" + std::to_string(windowLeft) + ", " +
           std::to_string(windowRight) + ")";
  if (softcap)
    text += " softcap";
  if (alibi)
    text += " alibi";
  if (sink)
    text += " sink";
  if (dropout)
    text += " dropout";
  if (returnProbs)
    text += " with S_dmask";
  if (blockSparse)
    text += " block-sparse";
  return text;
}
