//===- Entry.h - the entry points' validation and preparation ---*- C++ -*-===//
//
// Each entry point of the C ABI is validate -> prepare -> launch. The first
// two touch no driver and are declared here so that the runtime's unit test
// can drive them for every embedded kernel without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_ENTRY_H
#define FA4_LIB_RUNTIME_ENTRY_H

#include "ScoreMods.h"
#include "Launch.h"
#include "fa4/Runtime/fa4.h"

namespace fa4::rt {

/// S_dmask's rows or columns for `n` queries or keys: rounded up to 128, as
/// FlashAttention-2 sizes it (every tile divides 128, so the kernel's
/// visited blocks fit).
inline int64_t probsExtent(int64_t n) { return (n + 127) / 128 * 128; }

/// S_dmask (`sDmask`, null: none): needs dropout; sets mods.returnProbs and
/// `strides` (batch, head, row; `given`, or contiguous when all are 0) for
/// a (batch, nheadsQ, rows, cols) tensor, rows and cols rounded up to 128.
fa4_status resolveProbs(const void *sDmask, const int64_t given[3],
                        int64_t batch, int64_t nheadsQ, int64_t rows,
                        int64_t cols, ScoreMods &mods, int64_t strides[3]);

/// fa4_fwd's tensors, validated.
struct ForwardTensors {
  Tensor q, k, v, o;
  int64_t lseStrides[3];
  /// S_dmask's strides (batch, head, row).
  int64_t probsStrides[3] = {0, 0, 0};
  /// The scale the kernel uses (resolveSoftmaxScale).
  float scale = 0;
  /// Mask and softcap (resolveScoreMods).
  ScoreMods mods;
  /// No query rows: nothing to launch (the tensors are not checked).
  bool empty = false;
};

/// Checks every argument of fa4_fwd; touches no GPU.
fa4_status validateForward(const fa4_fwd_params &p, ForwardTensors &t);

/// The request's features for load path `path` ("cp_async", "tma").
FeatureMap getForwardRequest(const fa4_fwd_params &p, const ScoreMods &mods,
                             const char *path);

/// Fills `launch` (kernel, arguments, sizes, tensor views) for `kernel`.
fa4_status prepareForward(const fa4_fwd_params &p, const ForwardTensors &t,
                          const KernelInfo &kernel, Launch &launch);

/// fa4_varlen_fwd's tensors, validated.
struct VarlenTensors {
  Tensor q, k, v, o;
  int64_t lseStrides[2];
  /// S_dmask's strides (sequence, head, row).
  int64_t probsStrides[3] = {0, 0, 0};
  bool paged;
  float scale = 0;
  ScoreMods mods;
  bool empty = false;
};

/// Checks every argument of fa4_varlen_fwd that the host can see; touches
/// no GPU (the device-held values are fa4_varlen_fwd's checking mode).
fa4_status validateVarlen(const fa4_varlen_fwd_params &p, VarlenTensors &t);

/// The request's features.
FeatureMap getVarlenRequest(const fa4_varlen_fwd_params &p,
                            const ScoreMods &mods);

/// Fills `launch` for `kernel`.
fa4_status prepareVarlen(const fa4_varlen_fwd_params &p,
                         const VarlenTensors &t, const KernelInfo &kernel,
                         Launch &launch);

/// Checks the values only the device holds (cu_seqlens, seqused_k, the
/// block table) against the sizes; copies them to the host and
/// synchronizes `stream`. Names the first bad entry.
fa4_status checkVarlenOnDevice(const CudaDriver &driver,
                               const fa4_varlen_fwd_params &p,
                               CUstream stream);

} // namespace fa4::rt

#endif // FA4_LIB_RUNTIME_ENTRY_H
