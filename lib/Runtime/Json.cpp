//===- Json.cpp - a small JSON reader for kernel metadata -----------------===//
//
// Recursive descent over RFC 8259 JSON (strings without \u surrogates).
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include <cstdlib>

using namespace fa4::rt::json;

const Value *Value::get(std::string_view key) const {
  if (kind != Kind::Object)
    return nullptr;
  for (const auto &[name, value] : object)
    if (name == key)
      return &value;
  return nullptr;
}

namespace {
class Parser {
public:
  explicit Parser(std::string_view text) : text(text) {}

  bool parseDocument(Value &out, std::string &error) {
    if (!parseValue(out, 0) || (skipSpace(), pos != text.size())) {
      error = "invalid JSON at byte " + std::to_string(pos) +
              (message.empty() ? "" : ": " + message);
      return false;
    }
    return true;
  }

private:
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\t' || text[pos] == '\r'))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (text.substr(pos, word.size()) != word)
      return false;
    pos += word.size();
    return true;
  }
  bool error(const char *what) {
    message = what;
    return false;
  }

  bool parseString(std::string &out) {
    if (!consume('"'))
      return error("expected a string");
    while (pos < text.size() && text[pos] != '"') {
      char c = text[pos++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos >= text.size())
        return error("unterminated escape");
      char e = text[pos++];
      switch (e) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        if (pos + 4 > text.size())
          return error("short \\u escape");
        unsigned code = std::strtoul(std::string(text.substr(pos, 4)).c_str(),
                                     nullptr, 16);
        pos += 4;
        if (code < 0x80) {
          out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
          out.push_back(static_cast<char>(0xC0 | (code >> 6)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
          out.push_back(static_cast<char>(0xE0 | (code >> 12)));
          out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
        break;
      }
      default:
        out.push_back(e);
      }
    }
    if (pos >= text.size())
      return error("unterminated string");
    ++pos;
    return true;
  }

  bool parseValue(Value &out, int depth) {
    if (depth > 64)
      return error("nesting too deep");
    skipSpace();
    if (pos >= text.size())
      return error("unexpected end");
    char c = text[pos];
    if (c == '{') {
      ++pos;
      out.kind = Value::Kind::Object;
      if (consume('}'))
        return true;
      do {
        std::string key;
        Value value;
        skipSpace();
        if (!parseString(key) || !consume(':') || !parseValue(value, depth + 1))
          return false;
        out.object.emplace_back(std::move(key), std::move(value));
      } while (consume(','));
      return consume('}') || error("expected '}'");
    }
    if (c == '[') {
      ++pos;
      out.kind = Value::Kind::Array;
      if (consume(']'))
        return true;
      do {
        Value value;
        if (!parseValue(value, depth + 1))
          return false;
        out.array.push_back(std::move(value));
      } while (consume(','));
      return consume(']') || error("expected ']'");
    }
    if (c == '"') {
      out.kind = Value::Kind::String;
      return parseString(out.string);
    }
    if (literal("true")) {
      out.kind = Value::Kind::Bool;
      out.boolean = true;
      return true;
    }
    if (literal("false")) {
      out.kind = Value::Kind::Bool;
      return true;
    }
    if (literal("null"))
      return true;
    const char *begin = text.data() + pos;
    char *end = nullptr;
    std::string number(begin, std::min<size_t>(text.size() - pos, 64));
    out.number = std::strtod(number.c_str(), &end);
    size_t length = end - number.c_str();
    if (length == 0)
      return error("unexpected character");
    out.kind = Value::Kind::Number;
    pos += length;
    return true;
  }

  std::string_view text;
  size_t pos = 0;
  std::string message;
};
} // namespace

bool fa4::rt::json::parse(std::string_view text, Value &out,
                          std::string &error) {
  return Parser(text).parseDocument(out, error);
}
