//===- CudaDriver.cpp - the CUDA driver, loaded at run time ---------------===//
//
// dlopen("libcuda.so.1") and dlsym of every entry point, once per process.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "Status.h"

#include <dlfcn.h>
#include <mutex>

using namespace fa4::rt;

namespace {
struct LoadedDriver {
  CudaDriver driver;
  fa4_status status = FA4_SUCCESS;
  std::string message;
};
} // namespace

static LoadedDriver load() {
  LoadedDriver loaded;
  void *handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    loaded.status = FA4_ERROR_NO_CUDA_DRIVER;
    loaded.message = format("no CUDA driver: cannot load libcuda.so.1 (%s)",
                            why ? why : "not found");
    return loaded;
  }
  CudaDriver &d = loaded.driver;
#define FA4_RESOLVE_SYMBOL(name)                                               \
  d.name = reinterpret_cast<decltype(d.name)>(dlsym(handle, #name));           \
  if (!d.name) {                                                               \
    loaded.status = FA4_ERROR_NO_CUDA_DRIVER;                                  \
    loaded.message = "no CUDA driver: libcuda.so.1 lacks " #name               \
                     " (driver too old?)";                                     \
    return loaded;                                                             \
  }
  FA4_CUDA_DRIVER_SYMBOLS(FA4_RESOLVE_SYMBOL)
#undef FA4_RESOLVE_SYMBOL

  CUresult result = d.cuInit(0);
  if (result != CUDA_SUCCESS) {
    loaded.status = FA4_ERROR_NO_GPU;
    loaded.message = "no GPU: " + describeCudaError(d, "cuInit", result);
    return loaded;
  }
  int count = 0;
  result = d.cuDeviceGetCount(&count);
  if (result != CUDA_SUCCESS || count == 0) {
    loaded.status = FA4_ERROR_NO_GPU;
    loaded.message = result != CUDA_SUCCESS
                         ? "no GPU: " + describeCudaError(
                                            d, "cuDeviceGetCount", result)
                         : std::string("no GPU: the CUDA driver sees no "
                                       "device");
  }
  return loaded;
}

static const LoadedDriver &getLoadedDriver() {
  static LoadedDriver loaded = load();
  return loaded;
}

fa4_status fa4::rt::getCudaDriver(const CudaDriver *&driver) {
  const LoadedDriver &loaded = getLoadedDriver();
  if (loaded.status != FA4_SUCCESS)
    return fail(loaded.status, loaded.message);
  driver = &loaded.driver;
  return FA4_SUCCESS;
}

fa4_status fa4::rt::getCudaDriverVersion(int &version) {
  const LoadedDriver &loaded = getLoadedDriver();
  // NO_GPU still has every entry point resolved; NO_CUDA_DRIVER may not.
  if (loaded.status == FA4_ERROR_NO_CUDA_DRIVER)
    return fail(loaded.status, loaded.message);
  CUresult result = loaded.driver.cuDriverGetVersion(&version);
  if (result != CUDA_SUCCESS)
    return fail(FA4_ERROR_CUDA,
                describeCudaError(loaded.driver, "cuDriverGetVersion", result));
  return FA4_SUCCESS;
}

std::string fa4::rt::describeCudaError(const CudaDriver &driver,
                                       const char *call, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (driver.cuGetErrorName)
    driver.cuGetErrorName(result, &name);
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(result, &text);
  return format("%s failed: %s (%s)", call, name ? name : "unknown error",
                text ? text : "no description");
}
