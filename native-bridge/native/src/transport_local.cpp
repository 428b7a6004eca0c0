// The in-process transport: members are threads of one process, so a member reads its peers'
// inputs where they are. Results that land in memory a peer may still read (a reduction's
// accumulator, an output aliasing some input) go through staging and are written out in finish.
#include "transport.hpp"

namespace pm {

namespace {

// Byte range a view touches, for the aliasing test.
std::pair<const char*, const char*> extent(const View& v) {
  if (v.numel() == 0) return {v.base, v.base};
  int64_t last = 0;
  for (int i = 0; i < v.ndim; i++) last += (v.shape[i] - 1) * v.strides[i];
  return {v.base, v.base + (last + 1) * dtype_size(v.dtype)};
}

bool overlaps(const View& a, const View& b) {
  auto x = extent(a), y = extent(b);
  return x.first < y.second && y.first < x.second;
}

// acc (F32, contiguous, shaped like src) += src, in fp32.
void accumulate(const View& src, const View& acc) {
  float* a = acc.as<float>();
  if (src.dtype == PM_F32) {
    const float* s = src.as<float>();
    for_each_run([&](int64_t n, int64_t so, int64_t ao) {
      for (int64_t i = 0; i < n; i++) a[ao + i] += s[so + i];
    }, src, acc);
  } else {
    const uint16_t* s = src.as<uint16_t>();
    for_each_run([&](int64_t n, int64_t so, int64_t ao) {
      for (int64_t i = 0; i < n; i++) a[ao + i] += bf16_to_f32(s[so + i]);
    }, src, acc);
  }
}

const char* local_name(void*) { return "in-process"; }

void local_exchange(void*, Exchange* x) {
  const int p = x->members, i = x->index;
  const View* ins = x->ins;
  const View& o = x->out;
  x->result = o;
  bool reduce = x->kind == PM_OP_REDUCE_SCATTER || x->kind == PM_OP_ALL_REDUCE;
  bool aliased = false;
  for (int j = 0; j < p; j++) aliased |= overlaps(ins[j], o);
  if (reduce || aliased) {
    int32_t dt = reduce ? PM_F32 : o.dtype;
    x->staging.assign((size_t)o.numel() * dtype_size(dt), 0);
    x->result = contiguous_view(x->staging.data(), dt, o);
  }
  const View& target = x->result;
  if (x->kind == PM_OP_ALL_TO_ALL) {
    int64_t b = o.shape[0] / p;
    for (int j = 0; j < p; j++) copy_cast(ins[j].rows(i * b, b), target.rows(j * b, b));
  } else if (x->kind == PM_OP_SHIFT) {
    int64_t from = ((i - (int64_t)x->offset) % p + p) % p;
    copy_cast(ins[from], target);
  } else if (x->kind == PM_OP_ALL_GATHER) {
    int64_t b = ins[i].shape[0];
    for (int j = 0; j < p; j++) copy_cast(ins[j], target.rows(j * b, b));
  } else {
    int64_t b = o.shape[0];
    for (int j = 0; j < p; j++)  // group order: every member sums the same way
      accumulate(x->kind == PM_OP_ALL_REDUCE ? ins[j] : ins[j].rows(i * b, b), target);
  }
}

void local_finish(void*, Exchange* x) {
  if (x->result.base != x->out.base) copy_cast(x->result, x->out);
}

void local_free(void*) {}  // no state: the members' memory is the wire

const TransportI kLocal = {local_name, local_exchange, local_finish, local_free};

}  // namespace

Transport make_local_transport() { return Transport{&kLocal, nullptr}; }

}  // namespace pm
