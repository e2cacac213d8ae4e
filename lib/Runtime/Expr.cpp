//===- Expr.cpp - the metadata's launch-rule expressions ------------------===//
//
// A recursive-descent evaluator for the grammar in Expr.h.
//
//===----------------------------------------------------------------------===//

#include "Expr.h"

#include <cctype>
#include <limits>

using namespace fa4::rt;

namespace {

class Evaluator {
public:
  Evaluator(std::string_view text, const SizeMap &sizes)
      : text(text), sizes(sizes) {}

  bool run(int64_t &value, std::string &error) {
    bool ok = parseExpr(value);
    skipSpace();
    if (ok && pos != text.size())
      ok = fail("unexpected '" + std::string(1, text[pos]) + "'");
    if (!ok)
      error = "in \"" + std::string(text) + "\" at " + std::to_string(pos) +
              ": " + message;
    return ok;
  }

private:
  bool fail(std::string why) {
    if (message.empty())
      message = std::move(why);
    return false;
  }
  void skipSpace() {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  bool eat(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool expect(char c) {
    return eat(c) || fail(std::string("expected '") + c + "'");
  }

  bool parseExpr(int64_t &value) {
    if (!parseTerm(value))
      return false;
    while (true) {
      bool plus = eat('+');
      if (!plus && !eat('-'))
        return true;
      int64_t rhs;
      if (!parseTerm(rhs))
        return false;
      bool overflow = plus ? __builtin_add_overflow(value, rhs, &value)
                           : __builtin_sub_overflow(value, rhs, &value);
      if (overflow)
        return fail("overflow");
    }
  }

  bool parseTerm(int64_t &value) {
    if (!parseFactor(value))
      return false;
    while (eat('*')) {
      int64_t rhs;
      if (!parseFactor(rhs))
        return false;
      if (__builtin_mul_overflow(value, rhs, &value))
        return fail("overflow");
    }
    return true;
  }

  bool parseFactor(int64_t &value) {
    skipSpace();
    if (pos >= text.size())
      return fail("unexpected end");
    char c = text[pos];
    if (c == '(') {
      ++pos;
      return parseExpr(value) && expect(')');
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      value = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        int64_t digit = text[pos++] - '0';
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, digit, &value))
          return fail("integer too large");
      }
      return true;
    }
    if (!std::isalpha(static_cast<unsigned char>(c)) && c != '_')
      return fail(std::string("unexpected '") + c + "'");
    size_t start = pos;
    while (pos < text.size() && (std::isalnum(static_cast<unsigned char>(text[pos])) ||
                                 text[pos] == '_'))
      ++pos;
    std::string_view name = text.substr(start, pos - start);
    if (name == "cdiv" || name == "min" || name == "max") {
      int64_t a, b;
      if (!expect('(') || !parseExpr(a) || !expect(',') || !parseExpr(b) ||
          !expect(')'))
        return false;
      if (name == "min")
        value = a < b ? a : b;
      else if (name == "max")
        value = a > b ? a : b;
      else {
        if (b <= 0)
          return fail("cdiv by " + std::to_string(b));
        value = a >= 0 ? a / b + (a % b != 0) : -((-a) / b);
      }
      return true;
    }
    auto it = sizes.find(name);
    if (it == sizes.end())
      return fail("unknown size '" + std::string(name) + "'");
    value = it->second;
    return true;
  }

  std::string_view text;
  const SizeMap &sizes;
  size_t pos = 0;
  std::string message;
};

} // namespace

bool fa4::rt::evaluate(std::string_view expr, const SizeMap &sizes,
                       int64_t &value, std::string &error) {
  return Evaluator(expr, sizes).run(value, error);
}
