//===- Status.cpp - runtime status and messages ---------------------------===//
//
// Status strings and the per-thread last-error message.
//
//===----------------------------------------------------------------------===//

#include "Status.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>

using namespace fa4::rt;

static thread_local std::string lastError;

fa4_status fa4::rt::fail(fa4_status status, std::string message) {
  lastError = std::move(message);
  return status;
}

void fa4::rt::clearError() { lastError.clear(); }

fa4_status fa4::rt::checkAligned(const void *ptr, unsigned bytes,
                                 const char *name) {
  if (reinterpret_cast<uintptr_t>(ptr) % bytes == 0)
    return FA4_SUCCESS;
  return fail(FA4_ERROR_MISALIGNED,
              format("%s (%p) is not %u-byte aligned", name, ptr, bytes));
}

std::string fa4::rt::format(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  int size = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out(size > 0 ? size : 0, '\0');
  if (size > 0)
    std::vsnprintf(out.data(), out.size() + 1, fmt, args);
  va_end(args);
  return out;
}

extern "C" const char *fa4_last_error(void) { return lastError.c_str(); }

extern "C" const char *fa4_status_string(fa4_status status) {
  switch (status) {
  case FA4_SUCCESS:
    return "success";
  case FA4_ERROR_NULL_POINTER:
    return "a required pointer is NULL";
  case FA4_ERROR_INVALID_DTYPE:
    return "unsupported dtype (bf16 and fp16 are built)";
  case FA4_ERROR_INVALID_SHAPE:
    return "invalid tensor size";
  case FA4_ERROR_UNSUPPORTED_HEAD_DIM:
    return "no kernel for this head dimension";
  case FA4_ERROR_INVALID_HEAD_RATIO:
    return "nheads_q is not a multiple of nheads_kv";
  case FA4_ERROR_INVALID_STRIDE:
    return "invalid stride";
  case FA4_ERROR_MISALIGNED:
    return "pointer or stride is not 16-byte aligned";
  case FA4_ERROR_OVERFLOW:
    return "tensor offsets overflow the kernel's 32-bit row arithmetic";
  case FA4_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case FA4_ERROR_UNSUPPORTED_FEATURE:
    return "feature not built yet";
  case FA4_ERROR_NO_KERNEL:
    return "no embedded kernel matches the request";
  case FA4_ERROR_NO_CUDA_DRIVER:
    return "no CUDA driver (libcuda.so.1 could not be loaded)";
  case FA4_ERROR_NO_GPU:
    return "no usable CUDA GPU";
  case FA4_ERROR_UNSUPPORTED_GPU:
    return "no fa4 kernels for this GPU";
  case FA4_ERROR_CUDA:
    return "a CUDA driver call failed";
  case FA4_ERROR_INTERNAL:
    return "internal error: kernel metadata and runtime disagree";
  case FA4_ERROR_INVALID_DEVICE_VALUE:
    return "a value held on the device (cu_seqlens, seqused_k, block table) "
           "is out of range";
  }
  return "unknown status";
}
