//===- GpuForwardTest.cpp - fa4_fwd on the GPU against a CPU reference ----===//
//
// Runs the embedded kernels through the C API and checks them with the
// SPEC's correctness rule against two CPU references: float64 on the
// (rounded) inputs, and one that rounds like a bf16/fp16 implementation
// (scores, probabilities and output rounded to the input dtype). Outputs are
// poisoned with NaN before each launch, so an unwritten element fails.
// Without a GPU the test exits 77, which CTest reports as SKIPPED.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "GpuReference.h"
#include "TestUtil.h"
#include "fa4/Runtime/fa4.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <vector>

namespace {
using namespace fa4::test;


/// Runs one problem on the GPU and applies the correctness rule.
void runProblem(const Problem &p, std::mt19937 &rng, cudaStream_t stream,
                int outRowPadding = 0,
                fa4_load_path path = FA4_LOAD_PATH_CP_ASYNC) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  size_t nq = size_t(p.b) * p.sq * p.hq * p.d;
  size_t nk = size_t(p.b) * p.sk * p.hk * p.d;
  std::vector<uint16_t> hq(nq), hk(nk), hv(nk);
  std::vector<float> fq(nq), fk(nk), fv(nk);
  auto fill = [&](std::vector<uint16_t> &h, std::vector<float> &f) {
    for (size_t i = 0; i < h.size(); ++i) {
      h[i] = p.dtype->to(normal(rng));
      f[i] = p.dtype->from(h[i]);
    }
  };
  fill(hq, fq);
  fill(hk, fk);
  fill(hv, fv);

  // The output may have padded rows: its seq stride is then not H * D.
  int64_t outRow = int64_t(p.hq) * p.d + outRowPadding;
  size_t no = size_t(p.b) * p.sq * outRow;
  size_t nl = size_t(p.b) * p.hq * p.sq;
  void *dq, *dk, *dv, *dout;
  float *dlse;
  CUDA_OK(cudaMalloc(&dq, std::max<size_t>(nq, 1) * 2));
  CUDA_OK(cudaMalloc(&dk, std::max<size_t>(nk, 1) * 2));
  CUDA_OK(cudaMalloc(&dv, std::max<size_t>(nk, 1) * 2));
  CUDA_OK(cudaMalloc(&dout, std::max<size_t>(no, 1) * 2));
  CUDA_OK(cudaMalloc(&dlse, std::max<size_t>(nl, 1) * 4));
  CUDA_OK(cudaMemcpy(dq, hq.data(), nq * 2, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dk, hk.data(), nk * 2, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dv, hv.data(), nk * 2, cudaMemcpyHostToDevice));
  // Poison: NaN everywhere (0xFFFF is NaN in bf16 and fp16).
  CUDA_OK(cudaMemset(dout, 0xFF, no * 2));
  CUDA_OK(cudaMemset(dlse, 0xFF, nl * 4));

  fa4_fwd_params params;
  fa4_fwd_params_init(&params);
  params.q = dq;
  params.k = dk;
  params.v = dv;
  params.out = dout;
  params.lse = dlse;
  params.batch = p.b;
  params.seqlen_q = p.sq;
  params.seqlen_k = p.sk;
  params.nheads_q = p.hq;
  params.nheads_kv = p.hk;
  params.head_dim = params.head_dim_v = p.d;
  params.dtype = p.dtype->id;
  params.causal = p.causal;
  params.load_path = path;
  int64_t outStrides[4] = {p.sq * outRow, outRow, p.d, 1};
  std::memcpy(params.out_strides, outStrides, sizeof(outStrides));
  fa4_status status = fa4_fwd(&params, stream);
  EXPECT(status == FA4_SUCCESS, "(fa4_fwd: %s)", fa4_last_error());
  CUDA_OK(cudaStreamSynchronize(stream));

  std::vector<uint16_t> out(no);
  std::vector<float> lse(nl);
  CUDA_OK(cudaMemcpy(out.data(), dout, no * 2, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(lse.data(), dlse, nl * 4, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaFree(dq));
  CUDA_OK(cudaFree(dk));
  CUDA_OK(cudaFree(dv));
  CUDA_OK(cudaFree(dout));
  CUDA_OK(cudaFree(dlse));

  std::vector<double> ref, refLse, low, lowLse;
  reference(p, fq, fk, fv, /*lowp=*/false, ref, refLse);
  reference(p, fq, fk, fv, /*lowp=*/true, low, lowLse);
  double err = 0, errLow = 0, errLse = 0;
  bool nan = false, padTouched = false;
  for (int bi = 0; bi < p.b; ++bi)
    for (int i = 0; i < p.sq; ++i) {
      for (int h = 0; h < p.hq; ++h)
        for (int c = 0; c < p.d; ++c) {
          size_t r = ((size_t(bi) * p.sq + i) * p.hq + h) * p.d + c;
          float o = p.dtype->from(out[(size_t(bi) * p.sq + i) * outRow +
                                      size_t(h) * p.d + c]);
          nan |= std::isnan(o);
          err = std::max(err, std::fabs(o - ref[r]));
          errLow = std::max(errLow, std::fabs(low[r] - ref[r]));
        }
      for (int pad = 0; pad < outRowPadding; ++pad)
        padTouched |= out[(size_t(bi) * p.sq + i) * outRow + size_t(p.hq) * p.d +
                          pad] != 0xFFFF;
    }
  for (size_t i = 0; i < nl; ++i) {
    nan |= std::isnan(lse[i]);
    if (std::isinf(refLse[i]))
      nan |= !(std::isinf(lse[i]) && lse[i] < 0);
    else
      errLse = std::max(errLse, std::fabs(lse[i] - refLse[i]));
  }
  double bound = 2 * errLow + 1e-5;
  bool pass = !nan && !padTouched && err <= bound && err <= 0.0156 &&
              errLse <= 1e-3;
  const char *pathName = path == FA4_LOAD_PATH_TMA        ? "tma"
                         : path == FA4_LOAD_PATH_CP_ASYNC ? "cp_async"
                                                          : "auto";
  EXPECT(pass,
         "(%s %s b=%d sq=%d sk=%d h=%d/%d d=%d causal=%d: err %.3e bound %.3e "
         "lse %.3e nan/unwritten %d padding overwritten %d)",
         pathName, p.dtype->name, p.b, p.sq, p.sk, p.hq, p.hk, p.d, p.causal,
         err, bound, errLse, nan, padTouched);
  worstError = std::max(worstError, err);
  ++configurations;
}

} // namespace

FA4_TEST(forwardMatchesReference) {
  std::mt19937 rng(20261125);
  cudaStream_t stream;
  CUDA_OK(cudaStreamCreate(&stream));
  std::vector<std::pair<int, int>> seqlens = {{1, 1},     {3, 3},   {64, 32},
                                              {113, 203}, {239, 1}, {257, 129}};
  std::vector<std::pair<int, int>> heads = {{4, 4}, {6, 2}, {5, 1}};
  // Under compute-sanitizer (FA4_TEST_SUBSET=1): one ragged, GQA problem per
  // kernel variant, every kernel still run.
  if (std::getenv("FA4_TEST_SUBSET")) {
    seqlens = {{113, 203}};
    heads = {{6, 2}};
  }
  for (const Dtype *dtype : {&kBf16, &kFp16})
    for (int d : {64, 96, 128})
      for (bool causal : {false, true})
        for (auto [sq, sk] : seqlens)
          for (auto [hq, hk] : heads)
            for (fa4_load_path path :
                 {FA4_LOAD_PATH_CP_ASYNC, FA4_LOAD_PATH_TMA, FA4_LOAD_PATH_AUTO})
              runProblem({dtype, 2, sq, sk, hq, hk, d, causal}, rng, stream,
                         /*outRowPadding=*/0, path);
  CUDA_OK(cudaStreamDestroy(stream));
}

FA4_TEST(stridedOutputLeavesPaddingAlone) {
  std::mt19937 rng(7);
  cudaStream_t stream;
  CUDA_OK(cudaStreamCreate(&stream));
  for (fa4_load_path path : {FA4_LOAD_PATH_CP_ASYNC, FA4_LOAD_PATH_TMA})
    runProblem({&kBf16, 2, 150, 150, 4, 2, 128, true}, rng, stream,
               /*outRowPadding=*/64, path);
  CUDA_OK(cudaStreamDestroy(stream));
}

FA4_TEST(emptyKeysGiveZeroAndNegInf) {
  std::mt19937 rng(9);
  for (fa4_load_path path : {FA4_LOAD_PATH_CP_ASYNC, FA4_LOAD_PATH_TMA})
    runProblem({&kFp16, 1, 17, 0, 2, 2, 64, false}, rng, nullptr, 0, path);
}

int main() {
  // The runtime's own view first: it names a missing driver precisely.
  const fa4::rt::CudaDriver *driver;
  if (fa4::rt::getCudaDriver(driver) != FA4_SUCCESS) {
    std::printf("SKIPPED: %s\n", fa4_last_error());
    return 77;
  }
  int devices = 0;
  cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: no CUDA GPU (%s)\n",
                e != cudaSuccess ? cudaGetErrorString(e) : "no device");
    return 77;
  }
  cudaDeviceProp prop;
  CUDA_OK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (compute capability %d.%d)\n", prop.name, prop.major,
              prop.minor);
  int rc = fa4::test::runAll();
  std::printf("%d configurations, worst max|out - ref64| = %.3e\n",
              configurations, worstError);
  return rc;
}
