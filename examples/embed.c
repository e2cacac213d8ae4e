/* embed.c - calling fa4 from C: allocate q, k, v and out on the GPU, run the
 * bf16 causal forward with GQA, check the status. Build: see CMakeLists.txt
 * (links libfa4_runtime and the CUDA runtime for cudaMalloc). */
#include <fa4/Runtime/fa4.h>

#include <cuda_runtime.h>
#include <stdio.h>

int main(void) {
  const int64_t b = 2, s = 1024, hq = 32, hkv = 8, d = 128;
  void *q, *k, *v, *o;
  printf("fa4 %s, %llu embedded modules\n", fa4_version(),
         (unsigned long long)fa4_module_count());
  fa4_device_info info;
  fa4_status found = fa4_get_device_info(0, &info);
  if (found != FA4_SUCCESS) {
    printf("SKIPPED: %s\n", fa4_last_error());
    return 0;
  }
  printf("device 0: %s, compute capability %d.%d, %s\n", info.name,
         info.compute_capability_major, info.compute_capability_minor,
         info.target ? info.target : "no fa4 kernels for it");
  if (!info.target) {
    printf("SKIPPED: no fa4 kernels for this GPU\n");
    return 0;
  }
  if (cudaMalloc(&q, b * s * hq * d * 2) != cudaSuccess ||
      cudaMalloc(&k, b * s * hkv * d * 2) != cudaSuccess ||
      cudaMalloc(&v, b * s * hkv * d * 2) != cudaSuccess ||
      cudaMalloc(&o, b * s * hq * d * 2) != cudaSuccess) {
    printf("SKIPPED: no CUDA device to allocate on\n");
    return 0;
  }
  fa4_fwd_params p;
  fa4_fwd_params_init(&p); /* contiguous strides, 1/sqrt(d), bf16 */
  p.q = q; p.k = k; p.v = v; p.out = o;
  p.batch = b; p.seqlen_q = p.seqlen_k = s;
  p.nheads_q = hq; p.nheads_kv = hkv; p.head_dim = p.head_dim_v = d;
  p.causal = 1;
  fa4_status status = fa4_fwd(&p, /*stream=*/NULL);
  if (status != FA4_SUCCESS) {
    fprintf(stderr, "fa4_fwd: %s: %s\n", fa4_status_string(status), fa4_last_error());
    return 1;
  }
  printf("fa4_fwd: %s (%s)\n", fa4_status_string(status),
         cudaDeviceSynchronize() == cudaSuccess ? "ran" : "failed");
  return 0;
}
