// Errors inside the runtime are C++ exceptions of one type; they never cross the C ABI: every
// pm_* entry point runs its body through guard(), which turns them into a pm_status and the
// calling thread's pm_last_error().
#pragma once

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "pipemoe.h"

namespace pm {

struct Error {
  pm_status code;
  std::string message;  // without the "pm_fn: " prefix; guard() and the executors add it
};

// printf-style formatting into a std::string.
std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

[[noreturn]] void fail(pm_status code, const std::string& message);

void set_last_error(pm_status code, const char* fn, const std::string& message);

// Runs f; any exception becomes a status, and its message (without prefix) goes to *msg, which
// is left alone when f succeeds. The one exception ladder of guard() and the queue executors.
template <class F>
pm_status run_caught(F&& f, std::string* msg) noexcept {
  try {
    f();
    return PM_OK;
  } catch (Error& e) {
    *msg = std::move(e.message);  // a move: no allocation while handling
    return e.code;
  } catch (const std::bad_alloc&) {
    *msg = "out of memory";
    return PM_ERR_NOMEM;
  } catch (const std::exception& e) {
    *msg = e.what();
    return PM_ERR_INTERNAL;
  } catch (...) {
    *msg = "unknown exception";
    return PM_ERR_INTERNAL;
  }
}

// Runs body; any exception becomes a status and the thread's last error, prefixed with fn.
template <class Body>
pm_status guard(const char* fn, Body&& body) noexcept {
  std::string message;
  pm_status code = run_caught(std::forward<Body>(body), &message);
  if (code != PM_OK) set_last_error(code, fn, message);
  return code;
}

}  // namespace pm
