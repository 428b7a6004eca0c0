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

namespace {
// By code: pm_status_name and pm_status_count read this, so a new status is one enumerator in
// pipemoe.h and one name here (the assert catches a forgotten name).
constexpr const char* kStatusNames[] = {"PM_OK",           "PM_ERR_ARG",     "PM_ERR_HANDLE",
                                        "PM_ERR_STATE",    "PM_ERR_MISMATCH", "PM_ERR_TIMEOUT",
                                        "PM_ERR_NOMEM",    "PM_ERR_INTERNAL"};
constexpr int32_t kStatusCount = (int32_t)(sizeof kStatusNames / sizeof *kStatusNames);
static_assert(kStatusCount == PM_ERR_INTERNAL + 1, "a pm_status has no name in kStatusNames");
}  // namespace

extern "C" const char* pm_status_name(int32_t status) {
  return status >= 0 && status < kStatusCount ? kStatusNames[status] : "PM_ERR_UNKNOWN";
}

extern "C" int32_t pm_status_count(void) { return kStatusCount; }
