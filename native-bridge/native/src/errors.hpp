// Errors inside the runtime are C++ exceptions of one type; they never cross the C ABI: every
// pm_* entry point runs its body through guard(), which turns them into a pm_status and the
// calling thread's pm_last_error().
#pragma once

#include <string>

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

// Runs body; any exception becomes a status and the thread's last error, prefixed with fn.
template <class Body>
pm_status guard(const char* fn, Body&& body) noexcept {
  try {
    body();
    return PM_OK;
  } catch (const Error& e) {
    set_last_error(e.code, fn, e.message);
    return e.code;
  } catch (const std::bad_alloc&) {
    set_last_error(PM_ERR_NOMEM, fn, "out of memory");
    return PM_ERR_NOMEM;
  } catch (const std::exception& e) {
    set_last_error(PM_ERR_INTERNAL, fn, e.what());
    return PM_ERR_INTERNAL;
  } catch (...) {
    set_last_error(PM_ERR_INTERNAL, fn, "unknown exception");
    return PM_ERR_INTERNAL;
  }
}

}  // namespace pm
