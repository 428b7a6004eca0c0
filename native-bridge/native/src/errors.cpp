#include "errors.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace pm {

namespace {
thread_local pm_error last_error = {PM_OK, {0}};
}

std::string strf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return "(bad format)";
  return std::string(buf, n < (int)sizeof buf ? n : (int)sizeof buf - 1);
}

void fail(pm_status code, const std::string& message) { throw Error{code, message}; }

void set_last_error(pm_status code, const char* fn, const std::string& message) {
  last_error.code = code;
  snprintf(last_error.message, sizeof last_error.message, "%s: %s", fn, message.c_str());
}

}  // namespace pm

extern "C" const pm_error* pm_last_error(void) { return &pm::last_error; }

extern "C" const char* pm_status_name(int32_t status) {
  switch (status) {
    case PM_OK: return "PM_OK";
    case PM_ERR_ARG: return "PM_ERR_ARG";
    case PM_ERR_HANDLE: return "PM_ERR_HANDLE";
    case PM_ERR_STATE: return "PM_ERR_STATE";
    case PM_ERR_MISMATCH: return "PM_ERR_MISMATCH";
    case PM_ERR_TIMEOUT: return "PM_ERR_TIMEOUT";
    case PM_ERR_NOMEM: return "PM_ERR_NOMEM";
    case PM_ERR_INTERNAL: return "PM_ERR_INTERNAL";
    default: return "PM_ERR_UNKNOWN";
  }
}
