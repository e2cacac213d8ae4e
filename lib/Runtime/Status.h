//===- Status.h - runtime status and messages -------------------*- C++ -*-===//
//
// Every failing runtime call returns a fa4_status and leaves a message that
// names the problem, readable through fa4_last_error().
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_STATUS_H
#define FA4_LIB_RUNTIME_STATUS_H

#include "fa4/Runtime/fa4.h"

#include <string>

namespace fa4::rt {

/// Records `message` as the calling thread's last error and returns
/// `status`.
fa4_status fail(fa4_status status, std::string message);

/// FA4_ERROR_MISALIGNED, naming `name` and its address, unless `ptr` is null
/// or a multiple of `bytes`; else FA4_SUCCESS.
fa4_status checkAligned(const void *ptr, unsigned bytes, const char *name);

/// Clears the calling thread's last error.
void clearError();

/// printf-style formatting into a std::string.
std::string format(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

} // namespace fa4::rt

#endif // FA4_LIB_RUNTIME_STATUS_H
