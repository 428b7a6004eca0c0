// The C ABI for communicators and collectives.
#include <cstring>
#include <set>

#include "ops_common.hpp"

using namespace pm;

namespace {

// Shapes each collective accepts; dims past 0 must agree between in and out.
void check_shapes(int32_t kind, const TensorRef& in, const TensorRef& out, int p) {
  if (in->ndim() < 1) fail(PM_ERR_ARG, strf("in is %s but must have rank >= 1", shape_str(*in).c_str()));
  if (in->ndim() != out->ndim())
    fail(PM_ERR_ARG, strf("in is %s but out is %s: ranks differ", shape_str(*in).c_str(), shape_str(*out).c_str()));
  for (int d = 1; d < in->ndim(); d++)
    if (in->shape()[d] != out->shape()[d])
      fail(PM_ERR_ARG, strf("in is %s but out is %s: dimensions past 0 must be equal", shape_str(*in).c_str(),
                            shape_str(*out).c_str()));
  int64_t i0 = in->shape()[0], o0 = out->shape()[0];
  bool ok = true;
  const char* rule = "";
  switch (kind) {
    case PM_OP_ALL_TO_ALL:
      ok = i0 == o0 && i0 % p == 0;
      rule = "all-to-all needs equal shapes with dim 0 divisible by the group size";
      break;
    case PM_OP_ALL_GATHER:
      ok = o0 == i0 * p;
      rule = "all-gather needs out dim 0 = group size * in dim 0";
      break;
    case PM_OP_REDUCE_SCATTER:
      ok = i0 == o0 * p;
      rule = "reduce-scatter needs in dim 0 = group size * out dim 0";
      break;
    case PM_OP_ALL_REDUCE:
      ok = i0 == o0;
      rule = "all-reduce needs equal shapes";
      break;
    case PM_OP_SHIFT:
      ok = i0 == o0;
      rule = "shift needs equal shapes";
      break;
  }
  if (!ok)
    fail(PM_ERR_ARG, strf("in is %s, out is %s, group size %d: %s", shape_str(*in).c_str(), shape_str(*out).c_str(),
                          p, rule));
}

pm_status collective(const char* fn, int32_t kind, int32_t offset, pm_stream_t from, pm_comm_t c, pm_tensor_t in,
                     pm_tensor_t out, pm_event_t done) {
  return guard(fn, [&] {
    auto st = stream_of(from, "stream from");
    auto comm = lookup<Comm>(c, "communicator c");
    if (comm->device != st->device) fail(PM_ERR_HANDLE, "communicator c and stream from belong to different devices");
    auto I = operand(*st, in, "in"), O = operand(*st, out, "out");
    if (I->dtype() == PM_I32) fail(PM_ERR_ARG, strf("in is I32 %s but must be F32 or BF16", shape_str(*I).c_str()));
    if (I->dtype() != O->dtype())
      fail(PM_ERR_ARG, strf("in is %s but out is %s: dtypes must be equal", dtype_name(I->dtype()), dtype_name(O->dtype())));
    check_shapes(kind, I, O, (int)comm->state->group->ranks.size());
    std::shared_ptr<Event> ev = lookup_opt<Event>(done, "event done");
    if (ev && ev->device != st->device) fail(PM_ERR_HANDLE, "event done belongs to another device");

    // issued from `from`: first wait for everything enqueued there so far
    std::shared_ptr<Queue> fq = st->q;
    int64_t after = fq->enqueued();
    std::shared_ptr<CommState> state = comm->state;
    int64_t seq = enqueue(*st, *comm->q, kind, fn, [fq, after, state, kind, offset, I, O](OpResult& r) {
      fq->wait_done(after);
      run_collective(*state, kind, offset, I, O, r);
    });
    if (ev) ev->set(comm->q, seq + 1);
  });
}

}  // namespace

extern "C" {

pm_status pm_comm_new(pm_device_t d, const char* name, const int32_t* ranks, int32_t nranks, int32_t link_set,
                      pm_comm_t* out) {
  return guard("pm_comm_new", [&] {
    out_ptr(out, "out");
    auto dev = lookup<Device>(d, "device d");
    if (!name || !*name || std::strlen(name) > 200) fail(PM_ERR_ARG, "name must be a non-empty string of at most 200 bytes");
    if (!ranks || nranks < 1 || nranks > dev->fabric->world_size)
      fail(PM_ERR_ARG, strf("nranks is %d but must be in 1..%d with ranks non-NULL", nranks, dev->fabric->world_size));
    if (link_set < 0 || link_set >= PM_MAX_LINK_SETS)
      fail(PM_ERR_ARG, strf("link_set is %d but must be in 0..%d", link_set, PM_MAX_LINK_SETS - 1));
    std::vector<int32_t> rs(ranks, ranks + nranks);
    std::set<int32_t> seen;
    int32_t index = -1;
    for (int32_t i = 0; i < nranks; i++) {
      if (rs[i] < 0 || rs[i] >= dev->fabric->world_size || !seen.insert(rs[i]).second)
        fail(PM_ERR_ARG, strf("ranks[%d] = %d: ranks must be distinct and in 0..%d", i, rs[i], dev->fabric->world_size - 1));
      if (rs[i] == dev->rank) index = i;
    }
    if (index < 0) fail(PM_ERR_ARG, strf("this device's rank %d is not among the ranks", dev->rank));
    auto c = std::make_shared<Comm>();
    c->device = d;
    c->dev = dev;
    c->state = std::make_shared<CommState>();
    c->state->fabric = dev->fabric;
    c->state->group = dev->fabric->join(name, rs, index, link_set);
    c->state->index = index;
    c->q = dev->new_queue();
    *out = Registry::get().add(Kind::Comm, c, d);
  });
}

pm_status pm_comm_free(pm_comm_t c) {
  return guard("pm_comm_free", [&] { unregister<Comm>(c, "communicator c"); });
}

pm_status pm_comm_queue_id(pm_comm_t c, int32_t* out) {
  return guard("pm_comm_queue_id", [&] {
    out_ptr(out, "out");
    *out = lookup<Comm>(c, "communicator c")->q->id();
  });
}

pm_status pm_all_to_all(pm_stream_t from, pm_comm_t c, pm_tensor_t in, pm_tensor_t out, pm_event_t done) {
  return collective("pm_all_to_all", PM_OP_ALL_TO_ALL, 0, from, c, in, out, done);
}

pm_status pm_all_gather(pm_stream_t from, pm_comm_t c, pm_tensor_t in, pm_tensor_t out, pm_event_t done) {
  return collective("pm_all_gather", PM_OP_ALL_GATHER, 0, from, c, in, out, done);
}

pm_status pm_reduce_scatter(pm_stream_t from, pm_comm_t c, pm_tensor_t in, pm_tensor_t out, pm_event_t done) {
  return collective("pm_reduce_scatter", PM_OP_REDUCE_SCATTER, 0, from, c, in, out, done);
}

pm_status pm_all_reduce(pm_stream_t from, pm_comm_t c, pm_tensor_t in, pm_tensor_t out, pm_event_t done) {
  return collective("pm_all_reduce", PM_OP_ALL_REDUCE, 0, from, c, in, out, done);
}

pm_status pm_shift(pm_stream_t from, pm_comm_t c, int32_t offset, pm_tensor_t in, pm_tensor_t out, pm_event_t done) {
  return collective("pm_shift", PM_OP_SHIFT, offset, from, c, in, out, done);
}

}  // extern "C"
