//===- CudaDriver.h - the CUDA driver, loaded at run time -------*- C++ -*-===//
//
// The runtime never links libcuda: it dlopens libcuda.so.1 on first use and
// resolves the entry points below, so the library loads (and reports a
// status) on machines with no driver or no GPU.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_CUDADRIVER_H
#define FA4_LIB_RUNTIME_CUDADRIVER_H

#include "fa4/Runtime/fa4.h"

#include <cuda.h>
#include <string>

namespace fa4::rt {

/// The driver entry points fa4 uses, by their exported names: where cuda.h
/// maps a name to a versioned symbol (cuMemcpyDtoHAsync -> _v2), the
/// versioned one is listed, since dlsym sees the unversioned legacy entry.
#define FA4_CUDA_DRIVER_SYMBOLS(X)                                             \
  X(cuInit)                                                                    \
  X(cuDriverGetVersion)                                                        \
  X(cuGetErrorName)                                                            \
  X(cuGetErrorString)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGetAttribute)                                                      \
  X(cuDeviceGetName)                                                           \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuCtxGetCurrent)                                                           \
  X(cuCtxSetCurrent)                                                           \
  X(cuCtxGetDevice)                                                            \
  X(cuModuleLoadDataEx)                                                        \
  X(cuModuleGetFunction)                                                       \
  X(cuFuncSetAttribute)                                                        \
  X(cuFuncGetAttribute)                                                        \
  X(cuOccupancyMaxActiveBlocksPerMultiprocessor)                               \
  X(cuLaunchKernel)                                                            \
  X(cuLaunchKernelEx)                                                          \
  X(cuMemcpyDtoHAsync_v2)                                                      \
  X(cuStreamSynchronize)                                                       \
  X(cuTensorMapEncodeTiled)

struct CudaDriver {
#define FA4_DECLARE_SYMBOL(name) decltype(&::name) name = nullptr;
  FA4_CUDA_DRIVER_SYMBOLS(FA4_DECLARE_SYMBOL)
#undef FA4_DECLARE_SYMBOL
};

/// Loads and initializes the driver once per process. On failure returns
/// FA4_ERROR_NO_CUDA_DRIVER or FA4_ERROR_NO_GPU with a message.
fa4_status getCudaDriver(const CudaDriver *&driver);

/// The loaded driver's version (1000 * major + 10 * minor), also when it
/// sees no GPU. On failure returns FA4_ERROR_NO_CUDA_DRIVER with a message.
fa4_status getCudaDriverVersion(int &version);

/// Describes a failed driver call: "cuLaunchKernel: CUDA_ERROR_... (text)".
std::string describeCudaError(const CudaDriver &driver, const char *call,
                              CUresult result);

} // namespace fa4::rt

/// Calls a driver entry point; on failure returns FA4_ERROR_CUDA with the
/// call, the error name and its description.
#define FA4_CUDA_CHECK(driver, call, ...)                                      \
  do {                                                                         \
    CUresult fa4Result = (driver).call(__VA_ARGS__);                           \
    if (fa4Result != CUDA_SUCCESS)                                             \
      return ::fa4::rt::fail(                                                  \
          FA4_ERROR_CUDA,                                                      \
          ::fa4::rt::describeCudaError((driver), #call, fa4Result));           \
  } while (false)

#endif // FA4_LIB_RUNTIME_CUDADRIVER_H
