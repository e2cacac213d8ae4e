//===- Info.cpp - what the runtime embeds and the GPU it sees -------------===//
//
// Introspection for embedders and for `python -m fa4`: the version, the
// embedded modules (from the generated table, without inflating anything)
// and a device's description, with the driver's own reason when there is no
// driver or no GPU.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "KernelRegistry.h"
#include "Status.h"

#include <cstring>

using namespace fa4::rt;

#ifndef FA4_VERSION
#error "FA4_VERSION must be defined by the build (CMake's project version)"
#endif

extern "C" const char *fa4_version(void) { return FA4_VERSION; }

extern "C" uint64_t fa4_module_count(void) { return fa4_num_embedded_modules; }

extern "C" const char *fa4_module_name(uint64_t index) {
  return index < fa4_num_embedded_modules ? fa4_embedded_modules[index].name
                                          : nullptr;
}

extern "C" const char *fa4_module_target(uint64_t index) {
  return index < fa4_num_embedded_modules ? fa4_embedded_modules[index].target
                                          : nullptr;
}

extern "C" uint64_t fa4_device_info_size(void) {
  return sizeof(fa4_device_info);
}

extern "C" fa4_status fa4_get_device_info(int ordinal, fa4_device_info *info) {
  clearError();
  if (!info)
    return fail(FA4_ERROR_NULL_POINTER, "info is NULL");
  std::memset(info, 0, sizeof(*info));
  if (fa4_status s = getCudaDriverVersion(info->driver_version);
      s != FA4_SUCCESS)
    return s;
  const CudaDriver *driver = nullptr;
  if (fa4_status s = getCudaDriver(driver); s != FA4_SUCCESS)
    return s;
  const CudaDriver &d = *driver;
  FA4_CUDA_CHECK(d, cuDeviceGetCount, &info->device_count);
  if (ordinal < 0 || ordinal >= info->device_count)
    return fail(FA4_ERROR_INVALID_ARGUMENT,
                format("device %d does not exist (the driver sees %d)", ordinal,
                       info->device_count));
  CUdevice device;
  FA4_CUDA_CHECK(d, cuDeviceGet, &device, ordinal);
  FA4_CUDA_CHECK(d, cuDeviceGetName, info->name,
                 static_cast<int>(sizeof(info->name)), device);
  struct {
    int *value;
    CUdevice_attribute attribute;
  } attributes[] = {
      {&info->compute_capability_major,
       CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR},
      {&info->compute_capability_minor,
       CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR},
      {&info->multiprocessors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT},
      {&info->shared_memory_per_block_optin,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN},
  };
  for (const auto &attribute : attributes)
    FA4_CUDA_CHECK(d, cuDeviceGetAttribute, attribute.value,
                   attribute.attribute, device);
  // The target runs here only if this library embeds it (FA4_TARGETS may
  // leave it out).
  const char *target = getTargetForComputeCapability(
      info->compute_capability_major, info->compute_capability_minor);
  for (size_t i = 0; target && i < fa4_num_embedded_modules; ++i)
    if (std::strcmp(fa4_embedded_modules[i].target, target) == 0) {
      info->target = fa4_embedded_modules[i].target;
      break;
    }
  return FA4_SUCCESS;
}
