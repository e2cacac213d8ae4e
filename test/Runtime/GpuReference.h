//===- GpuReference.h - 16-bit floats and the CPU reference -----*- C++ -*-===//
//
// What the GPU tests share: bf16/fp16 conversion on the host, the float64
// and the 16-bit-rounding CPU references of attention, and CUDA_OK.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_TEST_RUNTIME_GPUREFERENCE_H
#define FA4_TEST_RUNTIME_GPUREFERENCE_H

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "fa4/Runtime/fa4.h"

namespace fa4::test {

//===----------------------------------------------------------------------===//
// 16-bit floats on the host
//===----------------------------------------------------------------------===//

inline uint16_t toBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f))
    return 0x7FC0;
  bits += 0x7FFF + ((bits >> 16) & 1); // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}
inline float fromBf16(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint16_t toFp16(float f) {
  if (std::isnan(f))
    return 0x7E00;
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  float a = std::fabs(f);
  if (a >= 65520.0f)
    return static_cast<uint16_t>(sign | 0x7C00);
  if (a < 6.103515625e-05f) { // subnormal: multiples of 2^-24
    int m = static_cast<int>(std::nearbyint(a * 16777216.0f));
    return static_cast<uint16_t>(sign | m);
  }
  int exponent;
  float mantissa = std::frexp(a, &exponent); // a = mantissa * 2^exponent
  int m = static_cast<int>(std::nearbyint((mantissa * 2 - 1) * 1024));
  int e = exponent - 1 + 15;
  if (m == 1024) {
    m = 0;
    ++e;
  }
  if (e >= 31)
    return static_cast<uint16_t>(sign | 0x7C00);
  return static_cast<uint16_t>(sign | (e << 10) | m);
}
inline float fromFp16(uint16_t h) {
  int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (e == 0)
    return sign * std::ldexp(static_cast<float>(m), -24);
  if (e == 31)
    return m ? std::numeric_limits<float>::quiet_NaN()
             : sign * std::numeric_limits<float>::infinity();
  return sign * std::ldexp(1.0f + m / 1024.0f, e - 15);
}

struct Dtype {
  fa4_dtype id;
  const char *name;
  uint16_t (*to)(float);
  float (*from)(uint16_t);
};
inline const Dtype kBf16{FA4_DTYPE_BF16, "bf16", toBf16, fromBf16};
inline const Dtype kFp16{FA4_DTYPE_FP16, "fp16", toFp16, fromFp16};

//===----------------------------------------------------------------------===//
// CPU references
//===----------------------------------------------------------------------===//

struct Problem {
  const Dtype *dtype;
  int b, sq, sk, hq, hk, d;
  bool causal;
};

/// out (B, Sq, Hq, D) and lse (B, Hq, Sq) of one problem. With `lowp`, the
/// scores, probabilities and output are rounded to the dtype as a 16-bit
/// implementation would; otherwise everything is float64.
inline void reference(const Problem &p, const std::vector<float> &q,
               const std::vector<float> &k, const std::vector<float> &v,
               bool lowp, std::vector<double> &out, std::vector<double> &lse) {
  out.assign(static_cast<size_t>(p.b) * p.sq * p.hq * p.d, 0.0);
  lse.assign(static_cast<size_t>(p.b) * p.hq * p.sq, 0.0);
  double scale = 1.0 / std::sqrt(static_cast<double>(p.d));
  auto round = [&](double x) {
    return lowp ? static_cast<double>(p.dtype->from(p.dtype->to(
                      static_cast<float>(x))))
                : x;
  };
  auto work = [&](int bh) {
    int bi = bh / p.hq, h = bh % p.hq, hk = h / (p.hq / p.hk);
    std::vector<double> s(p.sk);
    for (int i = 0; i < p.sq; ++i) {
      double max = -INFINITY;
      for (int j = 0; j < p.sk; ++j) {
        bool visible = !p.causal || j <= i + p.sk - p.sq;
        double dot = 0;
        for (int c = 0; c < p.d; ++c)
          dot += static_cast<double>(
                     q[((size_t(bi) * p.sq + i) * p.hq + h) * p.d + c]) *
                 k[((size_t(bi) * p.sk + j) * p.hk + hk) * p.d + c];
        s[j] = visible ? round(dot * scale) : -INFINITY;
        max = std::max(max, s[j]);
      }
      double *o = &out[((size_t(bi) * p.sq + i) * p.hq + h) * p.d];
      double &l = lse[(size_t(bi) * p.hq + h) * p.sq + i];
      if (max == -INFINITY) {
        l = -INFINITY;
        continue;
      }
      double sum = 0;
      for (int j = 0; j < p.sk; ++j)
        sum += std::exp(s[j] - max);
      l = max + std::log(sum);
      for (int j = 0; j < p.sk; ++j) {
        double prob = round(std::exp(s[j] - max) / sum);
        if (prob == 0)
          continue;
        for (int c = 0; c < p.d; ++c)
          o[c] += prob * v[((size_t(bi) * p.sk + j) * p.hk + hk) * p.d + c];
      }
      for (int c = 0; c < p.d; ++c)
        o[c] = round(o[c]);
    }
  };
  int tasks = p.b * p.hq;
  unsigned threads = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int bh = static_cast<int>(t); bh < tasks; bh += threads)
        work(bh);
    });
  for (std::thread &t : pool)
    t.join();
}

#define CUDA_OK(call)                                                          \
  do {                                                                         \
    cudaError_t e = (call);                                                    \
    if (e != cudaSuccess) {                                                    \
      std::printf("  %s failed: %s\n", #call, cudaGetErrorString(e));         \
      std::exit(1);                                                            \
    }                                                                          \
  } while (false)

/// The worst max|out - ref64| and the number of configurations checked.
inline double worstError = 0;
inline int configurations = 0;

} // namespace fa4::test

#endif // FA4_TEST_RUNTIME_GPUREFERENCE_H
