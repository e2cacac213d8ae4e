//===- TestUtil.h - a minimal test harness for the runtime tests --*- C++ -*-===//
//
// The runtime tests are plain executables registered with CTest: they print
// each failed expectation and exit non-zero on any failure, or 77 (CTest's
// SKIP_RETURN_CODE) with a reason when they cannot run here.
//
//===----------------------------------------------------------------------===//

#ifndef FA4_TEST_RUNTIME_TESTUTIL_H
#define FA4_TEST_RUNTIME_TESTUTIL_H

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace fa4::test {

inline int &failures() {
  static int count = 0;
  return count;
}

struct Registry {
  static std::vector<std::pair<const char *, std::function<void()>>> &tests() {
    static std::vector<std::pair<const char *, std::function<void()>>> all;
    return all;
  }
};

struct Register {
  Register(const char *name, std::function<void()> fn) {
    Registry::tests().emplace_back(name, std::move(fn));
  }
};

inline int runAll() {
  for (auto &[name, fn] : Registry::tests()) {
    int before = failures();
    fn();
    std::printf("[%s] %s\n", failures() == before ? "PASS" : "FAIL", name);
  }
  std::printf("%zu tests, %d failed expectations\n", Registry::tests().size(),
              failures());
  return failures() == 0 ? 0 : 1;
}

} // namespace fa4::test

#define FA4_TEST(name)                                                         \
  static void name();                                                          \
  static ::fa4::test::Register name##_registration(#name, name);               \
  static void name()

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++::fa4::test::failures();                                               \
      std::printf("  %s:%d: expected %s", __FILE__, __LINE__, #cond);          \
      std::printf(" " __VA_ARGS__);                                            \
      std::printf("\n");                                                       \
    }                                                                          \
  } while (false)

#endif // FA4_TEST_RUNTIME_TESTUTIL_H
