//===- GpuVarlenTest.cpp - fa4_varlen_fwd on the GPU against a CPU reference ===//
//
// Packed sequences of mixed lengths (0 included), through the packed and
// the paged layouts (page sizes 16, 48, 64, 256, permuted pages), checked
// per sequence with the SPEC's correctness rule against the float64 and
// 16-bit CPU references; outputs poisoned with NaN. Part of fa4-gpu-test,
// which compute-sanitizer runs with FA4_TEST_SUBSET=1.
//
//===----------------------------------------------------------------------===//

#include "GpuReference.h"
#include "TestUtil.h"

#include <numeric>
#include <random>

using namespace fa4::test;

namespace {

struct VarlenProblem {
  const Dtype *dtype;
  std::vector<int> lq, lk;
  int hq, hk, d;
  bool causal;
  int pageSize; // 0: packed K/V
};

/// Device memory freed at scope exit.
struct DeviceBuffer {
  void *ptr = nullptr;
  explicit DeviceBuffer(size_t bytes) {
    CUDA_OK(cudaMalloc(&ptr, std::max<size_t>(bytes, 16)));
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
};

template <typename T>
void upload(DeviceBuffer &buffer, const std::vector<T> &host) {
  if (!host.empty())
    CUDA_OK(cudaMemcpy(buffer.ptr, host.data(), host.size() * sizeof(T),
                       cudaMemcpyHostToDevice));
}

void runVarlen(const VarlenProblem &p, std::mt19937 &rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int batch = static_cast<int>(p.lq.size());
  std::vector<int32_t> cuQ(batch + 1, 0), cuK(batch + 1, 0);
  for (int b = 0; b < batch; ++b) {
    cuQ[b + 1] = cuQ[b] + p.lq[b];
    cuK[b + 1] = cuK[b] + p.lk[b];
  }
  int totalQ = cuQ[batch], totalK = cuK[batch];
  size_t nq = size_t(totalQ) * p.hq * p.d, nk = size_t(totalK) * p.hk * p.d;
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

  // Paged: scatter each sequence's rows into permuted pages.
  size_t rowElems = size_t(p.hk) * p.d;
  std::vector<uint16_t> pk, pv;
  std::vector<int32_t> table;
  int maxPages = 1, numPages = 0;
  if (p.pageSize) {
    for (int n : p.lk)
      maxPages = std::max(maxPages, (n + p.pageSize - 1) / p.pageSize);
    numPages = batch * maxPages + 2;
    std::vector<int32_t> order(numPages);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    pk.assign(size_t(numPages) * p.pageSize * rowElems, 0x7FC0);
    pv = pk;
    table.assign(size_t(batch) * maxPages, 0);
    int next = 0;
    for (int b = 0; b < batch; ++b)
      for (int j = 0; j < maxPages; ++j) {
        int page = order[next++];
        table[size_t(b) * maxPages + j] = page;
        for (int r = 0; r < p.pageSize && j * p.pageSize + r < p.lk[b]; ++r) {
          size_t src = (size_t(cuK[b]) + j * p.pageSize + r) * rowElems;
          size_t dst = (size_t(page) * p.pageSize + r) * rowElems;
          std::copy_n(&hk[src], rowElems, &pk[dst]);
          std::copy_n(&hv[src], rowElems, &pv[dst]);
        }
      }
  }

  DeviceBuffer dq(nq * 2), dout(nq * 2), dlse(size_t(p.hq) * totalQ * 4);
  DeviceBuffer dk((p.pageSize ? pk.size() : nk) * 2);
  DeviceBuffer dv((p.pageSize ? pv.size() : nk) * 2);
  DeviceBuffer dcuQ(cuQ.size() * 4), dcuK(cuK.size() * 4),
      dtable(std::max<size_t>(table.size(), 1) * 4);
  upload(dq, hq);
  upload(dk, p.pageSize ? pk : hk);
  upload(dv, p.pageSize ? pv : hv);
  upload(dcuQ, cuQ);
  upload(dcuK, cuK);
  upload(dtable, table);
  CUDA_OK(cudaMemset(dout.ptr, 0xFF, std::max<size_t>(nq, 1) * 2));
  CUDA_OK(cudaMemset(dlse.ptr, 0xFF, std::max<size_t>(size_t(p.hq) * totalQ, 1) * 4));

  fa4_varlen_fwd_params params;
  fa4_varlen_fwd_params_init(&params);
  params.q = dq.ptr;
  params.k = dk.ptr;
  params.v = dv.ptr;
  params.out = dout.ptr;
  params.lse = static_cast<float *>(dlse.ptr);
  params.cu_seqlens_q = static_cast<const int32_t *>(dcuQ.ptr);
  params.cu_seqlens_k = static_cast<const int32_t *>(dcuK.ptr);
  params.batch = batch;
  params.total_q = totalQ;
  params.total_k = p.pageSize ? 0 : totalK;
  params.max_seqlen_q = *std::max_element(p.lq.begin(), p.lq.end());
  params.max_seqlen_k = *std::max_element(p.lk.begin(), p.lk.end());
  params.nheads_q = p.hq;
  params.nheads_kv = p.hk;
  params.head_dim = params.head_dim_v = p.d;
  params.dtype = p.dtype->id;
  params.causal = p.causal;
  if (p.pageSize) {
    params.block_table = static_cast<const int32_t *>(dtable.ptr);
    params.max_pages = maxPages;
    params.num_pages = numPages;
    params.page_size = p.pageSize;
  }
  fa4_status status = fa4_varlen_fwd(&params, nullptr);
  EXPECT(status == FA4_SUCCESS, "(fa4_varlen_fwd: %s)", fa4_last_error());
  CUDA_OK(cudaDeviceSynchronize());

  std::vector<uint16_t> out(nq);
  std::vector<float> lse(size_t(p.hq) * totalQ);
  if (nq)
    CUDA_OK(cudaMemcpy(out.data(), dout.ptr, nq * 2, cudaMemcpyDeviceToHost));
  if (!lse.empty())
    CUDA_OK(cudaMemcpy(lse.data(), dlse.ptr, lse.size() * 4,
                       cudaMemcpyDeviceToHost));

  // Per sequence: the dense reference of a batch of one.
  double err = 0, errLow = 0, errLse = 0;
  bool bad = false;
  for (int b = 0; b < batch; ++b) {
    if (!p.lq[b])
      continue;
    Problem one{p.dtype, 1, p.lq[b], p.lk[b], p.hq, p.hk, p.d, p.causal};
    std::vector<float> sq(fq.begin() + size_t(cuQ[b]) * p.hq * p.d,
                          fq.begin() + size_t(cuQ[b + 1]) * p.hq * p.d);
    std::vector<float> sk(fk.begin() + size_t(cuK[b]) * rowElems,
                          fk.begin() + size_t(cuK[b + 1]) * rowElems);
    std::vector<float> sv(fv.begin() + size_t(cuK[b]) * rowElems,
                          fv.begin() + size_t(cuK[b + 1]) * rowElems);
    std::vector<double> ref, refLse, low, lowLse;
    reference(one, sq, sk, sv, /*lowp=*/false, ref, refLse);
    reference(one, sq, sk, sv, /*lowp=*/true, low, lowLse);
    for (size_t i = 0; i < ref.size(); ++i) {
      float o = p.dtype->from(out[size_t(cuQ[b]) * p.hq * p.d + i]);
      bad |= std::isnan(o);
      err = std::max(err, std::fabs(o - ref[i]));
      errLow = std::max(errLow, std::fabs(low[i] - ref[i]));
    }
    for (int h = 0; h < p.hq; ++h)
      for (int i = 0; i < p.lq[b]; ++i) {
        float got = lse[size_t(h) * totalQ + cuQ[b] + i];
        double want = refLse[size_t(h) * p.lq[b] + i];
        bad |= std::isnan(got);
        if (std::isinf(want))
          bad |= !(std::isinf(got) && got < 0);
        else
          errLse = std::max(errLse, std::fabs(got - want));
      }
  }
  double bound = 2 * errLow + 1e-5;
  EXPECT(!bad && err <= bound && err <= 0.0156 && errLse <= 1e-3,
         "(varlen %s page %d d=%d h=%d/%d causal=%d: err %.3e bound %.3e lse "
         "%.3e nan/unwritten %d)",
         p.dtype->name, p.pageSize, p.d, p.hq, p.hk, p.causal, err, bound,
         errLse, bad);
  worstError = std::max(worstError, err);
  ++configurations;
}

} // namespace

FA4_TEST(varlenAndPagedMatchReference) {
  std::mt19937 rng(20261202);
  std::vector<std::pair<std::vector<int>, std::vector<int>>> batches = {
      {{0, 1, 113, 257, 3}, {5, 203, 0, 257, 129}},
      {{64, 200}, {300, 64}}};
  std::vector<std::pair<int, int>> heads = {{4, 4}, {6, 2}, {5, 1}};
  std::vector<int> layouts = {0, 16, 48, 64, 256};
  // Under compute-sanitizer: one batch and one head ratio per kernel variant
  // and page size.
  if (std::getenv("FA4_TEST_SUBSET")) {
    batches.resize(1);
    heads = {{6, 2}};
  }
  for (const Dtype *dtype : {&kBf16, &kFp16})
    for (int d : {64, 96, 128})
      for (bool causal : {false, true})
        for (int page : layouts)
          for (const auto &[lq, lk] : batches)
            for (auto [hq, hk] : heads)
              runVarlen({dtype, lq, lk, hq, hk, d, causal, page}, rng);
}
