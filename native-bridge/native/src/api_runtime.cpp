// The C ABI for fabrics, devices, streams, events, tensors and timelines. Every entry point runs
// in guard(): arguments are checked before anything is touched, and nothing escapes as an
// exception.
#include <cmath>
#include <cstring>

#include "blas.hpp"
#include "ops_common.hpp"

using namespace pm;

namespace {

std::shared_ptr<Fabric> fabric_of(pm_fabric_t f) { return lookup<Fabric>(f, "fabric f"); }

pm_status sync_queues(const std::vector<std::shared_ptr<Queue>>& queues) {
  for (auto& q : queues) q->wait_done(q->enqueued());
  pm_status first = PM_OK;
  std::string message;
  for (auto& q : queues) {  // report the first error, clear them all: the device stays usable
    std::string m;
    pm_status e = q->take_error(&m);
    if (e != PM_OK && first == PM_OK) {
      first = e;
      message = strf("queue %d: %s", q->id(), m.c_str());
    }
  }
  if (first != PM_OK) fail(first, message);
  return PM_OK;
}

// Frees a device's handles: endpoints first (peers blocked on them fail fast), then streams drain.
void free_device(const std::shared_ptr<Device>& d) {
  auto owned = Registry::get().remove_owned(d->handle);
  for (auto& [kind, obj] : owned)
    if (kind == Kind::Comm) obj.reset();
  for (auto& q : d->queues_snapshot()) q->shutdown();
}

}  // namespace

extern "C" {

pm_status pm_fabric_new(int32_t world_size, double congestion, pm_fabric_t* out) {
  return guard("pm_fabric_new", [&] {
    out_ptr(out, "out");
    if (world_size < 1 || world_size > 4096)
      fail(PM_ERR_ARG, strf("world_size is %d but must be in 1..4096", world_size));
    if (!(congestion >= 1.0) || !std::isfinite(congestion))
      fail(PM_ERR_ARG, strf("congestion is %g but must be a finite number >= 1", congestion));
    blas_init();
    *out = Registry::get().add(Kind::Fabric, std::make_shared<Fabric>(world_size, congestion), 0);
  });
}

pm_status pm_fabric_set_link(pm_fabric_t f, int32_t link_set, double bandwidth, double latency) {
  return guard("pm_fabric_set_link", [&] {
    auto fab = fabric_of(f);
    if (link_set < 0 || link_set >= PM_MAX_LINK_SETS)
      fail(PM_ERR_ARG, strf("link_set is %d but must be in 0..%d", link_set, PM_MAX_LINK_SETS - 1));
    if (!(bandwidth >= 0) || !std::isfinite(bandwidth) || !(latency >= 0) || !std::isfinite(latency))
      fail(PM_ERR_ARG, strf("bandwidth %g and latency %g must be finite and >= 0", bandwidth, latency));
    fab->sim.set_link(link_set, Link{bandwidth, latency});
  });
}

pm_status pm_fabric_set_timeout(pm_fabric_t f, double seconds) {
  return guard("pm_fabric_set_timeout", [&] {
    auto fab = fabric_of(f);
    if (!(seconds > 0) || seconds > 1e6) fail(PM_ERR_ARG, strf("seconds is %g but must be in (0, 1e6]", seconds));
    fab->timeout_ns = (int64_t)(seconds * 1e9);
  });
}

pm_status pm_fabric_now(pm_fabric_t f, int64_t* out_ns) {
  return guard("pm_fabric_now", [&] {
    out_ptr(out_ns, "out_ns");
    fabric_of(f);
    *out_ns = now_ns();
  });
}

pm_status pm_fabric_free(pm_fabric_t f) {
  return guard("pm_fabric_free", [&] {
    auto fab = unregister<Fabric>(f, "fabric f");
    for (auto& [kind, obj] : Registry::get().remove_owned(f))
      if (kind == Kind::Device) free_device(std::static_pointer_cast<Device>(obj));
  });
}

pm_status pm_device_new(pm_fabric_t f, int32_t rank, pm_device_t* out) {
  return guard("pm_device_new", [&] {
    out_ptr(out, "out");
    auto fab = fabric_of(f);
    if (rank < 0 || rank >= fab->world_size)
      fail(PM_ERR_ARG, strf("rank is %d but the fabric has ranks 0..%d", rank, fab->world_size - 1));
    {
      std::lock_guard<std::mutex> lock(fab->mu);
      if (fab->rank_taken[rank]) fail(PM_ERR_STATE, strf("rank %d already has a device", rank));
      fab->rank_taken[rank] = true;
    }
    auto d = std::make_shared<Device>(fab, rank);
    d->handle = Registry::get().add(Kind::Device, d, f);
    auto s = std::make_shared<Stream>();
    s->device = d->handle;
    s->dev = d;
    s->q = d->new_queue();
    d->compute_stream = Registry::get().add(Kind::Stream, s, d->handle);
    *out = d->handle;
  });
}

pm_status pm_device_free(pm_device_t d) {
  return guard("pm_device_free", [&] { free_device(unregister<Device>(d, "device d")); });
}

pm_status pm_device_stream(pm_device_t d, pm_stream_t* out) {
  return guard("pm_device_stream", [&] {
    out_ptr(out, "out");
    *out = lookup<Device>(d, "device d")->compute_stream;
  });
}

pm_status pm_device_synchronize(pm_device_t d) {
  return guard("pm_device_synchronize", [&] { sync_queues(lookup<Device>(d, "device d")->queues_snapshot()); });
}

pm_status pm_stream_new(pm_device_t d, pm_stream_t* out) {
  return guard("pm_stream_new", [&] {
    out_ptr(out, "out");
    auto dev = lookup<Device>(d, "device d");
    auto s = std::make_shared<Stream>();
    s->device = d;
    s->dev = dev;
    s->q = dev->new_queue();
    *out = Registry::get().add(Kind::Stream, s, d);
  });
}

pm_status pm_stream_free(pm_stream_t s) {
  return guard("pm_stream_free", [&] {
    auto st = lookup<Stream>(s, "stream s");
    if (st->dev->compute_stream == s)
      fail(PM_ERR_STATE, "the compute stream is freed with its device");
    unregister<Stream>(s, "stream s");
    st->q->shutdown();
    st->dev->drop_queue(st->q);
  });
}

pm_status pm_stream_synchronize(pm_stream_t s) {
  return guard("pm_stream_synchronize", [&] { sync_queues({lookup<Stream>(s, "stream s")->q}); });
}

pm_status pm_stream_id(pm_stream_t s, int32_t* out) {
  return guard("pm_stream_id", [&] {
    out_ptr(out, "out");
    *out = lookup<Stream>(s, "stream s")->q->id();
  });
}

pm_status pm_event_new(pm_device_t d, pm_event_t* out) {
  return guard("pm_event_new", [&] {
    out_ptr(out, "out");
    lookup<Device>(d, "device d");
    auto e = std::make_shared<Event>();
    e->device = d;
    *out = Registry::get().add(Kind::Event, e, d);
  });
}

pm_status pm_event_free(pm_event_t e) {
  return guard("pm_event_free", [&] { unregister<Event>(e, "event e"); });
}

pm_status pm_event_record(pm_event_t e, pm_stream_t s) {
  return guard("pm_event_record", [&] {
    auto ev = lookup<Event>(e, "event e");
    auto st = lookup<Stream>(s, "stream s");
    if (ev->device != st->device) fail(PM_ERR_HANDLE, "event e and stream s belong to different devices");
    ev->set(st->q, st->q->enqueued());
  });
}

pm_status pm_event_wait(pm_stream_t s, pm_event_t e) {
  return guard("pm_event_wait", [&] {
    auto ev = lookup<Event>(e, "event e");
    auto st = lookup<Stream>(s, "stream s");
    if (ev->device != st->device) fail(PM_ERR_HANDLE, "event e and stream s belong to different devices");
    auto [q, target] = ev->get();
    if (!q || q == st->q) return;  // never recorded, or already ordered by the stream itself
    Task t;
    t.kind = PM_OP_EVENT_WAIT;
    t.record = false;
    t.fn = "pm_event_wait";
    t.run = [q = std::move(q), target = target](OpResult&) { q->wait_done(target); };
    st->q->enqueue(std::move(t));
  });
}

pm_status pm_event_query(pm_event_t e, int32_t* out_done) {
  return guard("pm_event_query", [&] {
    out_ptr(out_done, "out_done");
    auto [q, target] = lookup<Event>(e, "event e")->get();
    *out_done = !q || q->done(target);
  });
}

pm_status pm_event_synchronize(pm_event_t e) {
  return guard("pm_event_synchronize", [&] {
    auto [q, target] = lookup<Event>(e, "event e")->get();
    if (q) q->wait_done(target);
  });
}

pm_status pm_tensor_new(pm_device_t d, int32_t dtype, int32_t ndim, const int64_t* shape, pm_tensor_t* out) {
  return guard("pm_tensor_new", [&] {
    out_ptr(out, "out");
    lookup<Device>(d, "device d");
    if (dtype != PM_F32 && dtype != PM_BF16 && dtype != PM_I32)
      fail(PM_ERR_ARG, strf("dtype is %d but must be PM_F32, PM_BF16 or PM_I32", dtype));
    if (ndim < 0 || ndim > PM_MAX_DIMS) fail(PM_ERR_ARG, strf("ndim is %d but must be in 0..%d", ndim, PM_MAX_DIMS));
    if (ndim > 0 && !shape) fail(PM_ERR_ARG, "shape is NULL");
    auto t = std::make_shared<Tensor>();
    t->device = d;
    View& v = t->view;
    v.dtype = dtype;
    v.ndim = ndim;
    int64_t n = 1;
    for (int i = ndim - 1; i >= 0; i--) {
      if (shape[i] < 0 || shape[i] > ((int64_t)1 << 40))
        fail(PM_ERR_ARG, strf("shape[%d] is %lld but must be in 0..2^40", i, (long long)shape[i]));
      v.shape[i] = shape[i];
      v.strides[i] = n;
      n *= shape[i];
      if (n > ((int64_t)1 << 40)) fail(PM_ERR_ARG, "the tensor has more than 2^40 elements");
    }
    t->storage = std::make_shared<Storage>((size_t)n * dtype_size(dtype));
    v.base = static_cast<char*>(t->storage->data);
    *out = Registry::get().add(Kind::Tensor, t, d);
  });
}

pm_status pm_tensor_view(pm_tensor_t base, int64_t offset, int32_t ndim, const int64_t* shape,
                         const int64_t* strides, pm_tensor_t* out) {
  return guard("pm_tensor_view", [&] {
    out_ptr(out, "out");
    auto b = lookup<Tensor>(base, "base");
    if (ndim < 0 || ndim > PM_MAX_DIMS) fail(PM_ERR_ARG, strf("ndim is %d but must be in 0..%d", ndim, PM_MAX_DIMS));
    if (ndim > 0 && (!shape || !strides)) fail(PM_ERR_ARG, "shape or strides is NULL");
    int64_t first = b->offset + offset;
    if (first < 0) fail(PM_ERR_ARG, strf("offset %lld points before the storage", (long long)offset));
    int64_t last = first;  // highest element the view touches
    bool empty = false;
    for (int i = 0; i < ndim; i++) {
      if (shape[i] < 0) fail(PM_ERR_ARG, strf("shape[%d] is %lld but must be >= 0", i, (long long)shape[i]));
      if (strides[i] < 0) fail(PM_ERR_ARG, strf("strides[%d] is %lld but must be >= 0", i, (long long)strides[i]));
      if (shape[i] > ((int64_t)1 << 40) || strides[i] > ((int64_t)1 << 40))
        fail(PM_ERR_ARG, strf("dimension %d is too large", i));
      if (shape[i] == 0) empty = true;
      else last += (shape[i] - 1) * strides[i];
    }
    int64_t capacity = (int64_t)(b->storage->bytes / dtype_size(b->dtype()));
    if (!empty && last >= capacity)
      fail(PM_ERR_ARG, strf("the view reaches element %lld but base's storage has %lld elements",
                            (long long)last, (long long)capacity));
    auto t = std::make_shared<Tensor>();
    t->storage = b->storage;
    t->device = b->device;
    t->offset = first;
    View& v = t->view;
    v.dtype = b->dtype();
    v.ndim = ndim;
    for (int i = 0; i < ndim; i++) {
      v.shape[i] = shape[i];
      v.strides[i] = (i == ndim - 1 && shape[i] <= 1) ? 1 : strides[i];  // any innermost stride: need_unit_inner_stride
    }
    v.base = static_cast<char*>(t->storage->data) + first * dtype_size(v.dtype);
    *out = Registry::get().add(Kind::Tensor, t, b->device);
  });
}

pm_status pm_tensor_free(pm_tensor_t t) {
  return guard("pm_tensor_free", [&] { unregister<Tensor>(t, "tensor t"); });
}

namespace {
// Host I/O through a contiguous host view of count elements.
void host_io(pm_tensor_t h, const void* host, int64_t count, bool write) {
  auto t = lookup<Tensor>(h, "tensor t");
  need_unit_inner_stride(*t, "tensor t");
  if (!host && count > 0) fail(PM_ERR_ARG, write ? "src is NULL" : "dst is NULL");
  if (count != t->numel())
    fail(PM_ERR_ARG, strf("count is %lld but t is %s (%lld elements)", (long long)count,
                          shape_str(*t).c_str(), (long long)t->numel()));
  char* base = static_cast<char*>(const_cast<void*>(host));
  View hv = contiguous_view(base, t->dtype() == PM_I32 ? PM_I32 : PM_F32, t->view);
  if (write) copy_cast(hv, t->view);
  else copy_cast(t->view, hv);
}
}  // namespace

pm_status pm_tensor_write(pm_tensor_t t, const void* src, int64_t count) {
  return guard("pm_tensor_write", [&] { host_io(t, src, count, true); });
}

pm_status pm_tensor_read(pm_tensor_t t, void* dst, int64_t count) {
  return guard("pm_tensor_read", [&] { host_io(t, dst, count, false); });
}

pm_status pm_device_set_label(pm_device_t d, int32_t label) {
  return guard("pm_device_set_label", [&] { lookup<Device>(d, "device d")->label.store(label); });
}

pm_status pm_device_timeline(pm_device_t d, pm_op_record* buf, int64_t cap, int64_t* out_n) {
  return guard("pm_device_timeline", [&] {
    out_ptr(out_n, "out_n");
    if (cap < 0 || (cap > 0 && !buf)) fail(PM_ERR_ARG, "buf must hold cap >= 0 records");
    *out_n = lookup<Device>(d, "device d")->timeline->drain(buf, cap);
  });
}

pm_status pm_set_blas_threads(int32_t n) {
  return guard("pm_set_blas_threads", [&] {
    if (n < 1 || n > 256) fail(PM_ERR_ARG, strf("n is %d but must be in 1..256", n));
    blas_set_threads(n);
  });
}

}  // extern "C"
