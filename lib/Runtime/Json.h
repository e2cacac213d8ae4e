//===- Json.h - a small JSON reader for kernel metadata ---------*- C++ -*-===//
//
// Enough JSON to read the metadata fa4-opt writes next to each kernel, with
// no dependency: the runtime must build where no LLVM is installed.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_JSON_H
#define FA4_LIB_RUNTIME_JSON_H

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fa4::rt::json {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;

  /// The member `key` of an object, or nullptr.
  const Value *get(std::string_view key) const;
};

/// Parses `text`; on failure returns false and describes where.
bool parse(std::string_view text, Value &out, std::string &error);

} // namespace fa4::rt::json

#endif // FA4_LIB_RUNTIME_JSON_H
