//===- Expr.h - the metadata's launch-rule expressions ----------*- C++ -*-===//
//
// A kernel's metadata states its grid and workspace size as expressions over
// the sizes of a request, e.g. "max(cdiv(max_seqlen_q, 128), 1)". The
// grammar is small on purpose:
//
//   expr    := term (('+' | '-') term)*
//   term    := factor ('*' factor)*
//   factor  := integer | name | call | '(' expr ')'
//   call    := ('cdiv' | 'min' | 'max') '(' expr ',' expr ')'
//
// Values are 64-bit; cdiv(a, b) = ceil(a / b) for b > 0. Any error (an
// unknown name, a syntax error, division by a non-positive number, an
// overflow) is reported, never guessed around.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_LIB_RUNTIME_EXPR_H
#define FA4_LIB_RUNTIME_EXPR_H

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace fa4::rt {

/// Named sizes an expression may use.
using SizeMap = std::map<std::string, int64_t, std::less<>>;

/// Evaluates `expr` over `sizes`; on failure returns false and sets `error`.
bool evaluate(std::string_view expr, const SizeMap &sizes, int64_t &value,
              std::string &error);

} // namespace fa4::rt

#endif // FA4_LIB_RUNTIME_EXPR_H
