// The C ABI a binding reads at load instead of copying pipemoe.h: op kind names and struct
// layouts (status names are in errors.cpp, beside the error machinery).
#include <cstddef>
#include <cstring>

#include "errors.hpp"

using namespace pm;

namespace {

constexpr const char* kOpKindNames[] = {
#define PM_OP_KIND_NAME(kind, name) name,
    PM_OP_KIND_LIST(PM_OP_KIND_NAME)
#undef PM_OP_KIND_NAME
};
static_assert(sizeof kOpKindNames / sizeof *kOpKindNames == PM_OP_KIND_COUNT, "one name per op kind");

struct FieldLayout {
  const char* type;
  const char* field;  // nullptr: the struct itself
  size_t offset, size;
};

#define PM_STRUCT(T) {#T, nullptr, 0, sizeof(T)}
#define PM_FIELD(T, f) {#T, #f, offsetof(T, f), sizeof(((T*)nullptr)->f)}
// Every struct of pipemoe.h with every field: a binding checks all it declares.
constexpr FieldLayout kLayouts[] = {
    PM_STRUCT(pm_error),
    PM_FIELD(pm_error, code),
    PM_FIELD(pm_error, message),
    PM_STRUCT(pm_op_record),
    PM_FIELD(pm_op_record, queue),
    PM_FIELD(pm_op_record, kind),
    PM_FIELD(pm_op_record, seq),
    PM_FIELD(pm_op_record, start_ns),
    PM_FIELD(pm_op_record, end_ns),
    PM_FIELD(pm_op_record, bytes),
    PM_FIELD(pm_op_record, modelled_ns),
    PM_FIELD(pm_op_record, label),
    PM_FIELD(pm_op_record, reserved),
};
#undef PM_STRUCT
#undef PM_FIELD

}  // namespace

extern "C" {

const char* pm_op_kind_name(int32_t kind) {
  return kind >= 0 && kind < PM_OP_KIND_COUNT ? kOpKindNames[kind] : nullptr;
}

int32_t pm_op_kind_count(void) { return PM_OP_KIND_COUNT; }

pm_status pm_struct_layout(const char* name, const char* field, int64_t* out_offset, int64_t* out_size) {
  return guard("pm_struct_layout", [&] {
    if (!name) fail(PM_ERR_ARG, "name is NULL");
    if (!out_offset || !out_size) fail(PM_ERR_ARG, "out_offset and out_size must not be NULL");
    bool known = false;
    for (const FieldLayout& l : kLayouts) {
      if (std::strcmp(l.type, name) != 0) continue;
      known = true;
      if (field ? l.field && std::strcmp(l.field, field) == 0 : !l.field) {
        *out_offset = (int64_t)l.offset;
        *out_size = (int64_t)l.size;
        return;
      }
    }
    if (!known) fail(PM_ERR_ARG, strf("name '%s' is not a struct of pipemoe.h", name));
    fail(PM_ERR_ARG, strf("%s has no field '%s'", name, field));
  });
}

}  // extern "C"
