// A minimal test harness: CHECK records failures and goes on, so one run reports them all; each
// test program ends with the line "N passed, N failed".
#pragma once

#include <cstdarg>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "pipemoe-cpp.hpp"

namespace test {

inline std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
inline std::string fmt(const char* f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

inline int& failures() {
  static int n = 0;
  return n;
}

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      test::failures()++;                                                     \
      std::printf("  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
      std::printf(__VA_ARGS__);                                               \
      std::printf("\n");                                                      \
    }                                                                         \
  } while (0)

// Expects a call to fail with `code` and a message containing `part`.
#define CHECK_FAILS(call, code, part)                                                        \
  do {                                                                                       \
    pm_status s_ = (call);                                                                   \
    std::string m_ = pm_last_error()->message;                                               \
    CHECK(s_ == (code) && m_.find(part) != std::string::npos, "%s -> %s \"%s\"", #call,       \
          pm_status_name(s_), s_ == PM_OK ? "" : m_.c_str());                                \
  } while (0)

struct Case {
  std::string name;
  std::function<void()> run;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> c;
  return c;
}

struct Register {
  Register(const char* name, std::function<void()> f) { cases().push_back({name, std::move(f)}); }
};

#define TEST(name)                                          \
  static void name();                                       \
  static test::Register reg_##name(#name, name);            \
  static void name()

// Runs every case (or those whose name contains argv[1]); a case passes when it adds no failure.
inline int main(int argc, char** argv) {
  int passed = 0, failed = 0;
  for (auto& c : cases()) {
    if (argc > 1 && c.name.find(argv[1]) == std::string::npos) continue;
    int before = failures();
    try {
      c.run();
    } catch (const std::exception& e) {
      failures()++;
      std::printf("  FAIL %s: exception: %s\n", c.name.c_str(), e.what());
    }
    bool ok = failures() == before;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", c.name.c_str());
    (ok ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace test
