// The collective protocol (see collectives.hpp); the data moves through the fabric's transport.
#include "collectives.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

#include "fabric.hpp"

namespace pm {

namespace {

using Clock = std::chrono::steady_clock;

std::string describe(int32_t kind, int32_t offset, const View& in, const View& out) {
  std::string op = kind == PM_OP_SHIFT ? strf("shift(offset %d)", offset) : pm_op_kind_name(kind);
  return strf("%s %s %s -> %s", op.c_str(), dtype_name(in.dtype), shape_str(in).c_str(), shape_str(out).c_str());
}

std::string member_name(const Group& g, int j) { return strf("member %d (rank %d)", j, g.ranks[j]); }

void set_error(Round& R, pm_status code, const std::string& message) {
  if (R.err != PM_OK) return;
  R.err = code;
  R.message = message;
}

}  // namespace

Group::Group(std::string n, std::vector<int32_t> r)
    : name(std::move(n)), ranks(std::move(r)), joined(ranks.size()), closed(ranks.size()),
      link_sets(ranks.size()) {}

void close_member(Group& g, int32_t index) {
  std::lock_guard<std::mutex> lock(g.mu);
  g.closed[index] = true;
  g.cv.notify_all();
}

void run_collective(CommState& st, int32_t kind, int32_t offset, const TensorRef& in, const TensorRef& out,
                    OpResult& r) {
  Group& g = *st.group;
  Fabric& fab = *st.fabric;
  const int i = st.index;
  const int p = (int)g.ranks.size();
  const int64_t pos = st.next_pos++;
  // messages are formatted on the error paths only: the way through stays cheap under g.mu
  auto where = [&] { return strf("communicator '%s' call #%lld", g.name.c_str(), (long long)pos); };
  const double bytes = collective_bytes(kind, p, (double)in->numel() * dtype_size(in->dtype()));

  std::unique_lock<std::mutex> lock(g.mu);
  Round& R = g.rounds[pos];
  if (R.arrived.empty()) {
    R.arrived.assign(p, false);
    R.ins.resize(p);
    R.outs.resize(p);
  }
  // 1. arrive and agree on what is being done
  if (g.closed[i]) {
    set_error(R, PM_ERR_STATE, strf("%s: %s freed its endpoint", where().c_str(), member_name(g, i).c_str()));
  } else if (R.first < 0) {
    R.first = i;
    R.kind = kind;
    R.offset = offset;
  } else if (R.kind != kind || R.offset != offset || R.ins[R.first].dtype != in->dtype() ||
             !same_shape(R.ins[R.first], in->view) || !same_shape(R.outs[R.first], out->view)) {
    const int f = R.first;
    set_error(R, PM_ERR_MISMATCH,
              strf("%s: %s issued %s but %s issued %s", where().c_str(), member_name(g, f).c_str(),
                   describe(R.kind, R.offset, R.ins[f], R.outs[f]).c_str(), member_name(g, i).c_str(),
                   describe(kind, offset, in->view, out->view).c_str()));
  }
  R.arrived[i] = true;
  R.n_arrived++;
  R.ins[i] = in->view;
  R.outs[i] = out->view;
  if (R.n_arrived == p && R.err == PM_OK) {
    R.all = true;
    R.t0 = now_ns();
    if (p > 1) {
      std::vector<FlowMember> members;
      for (int j = 0; j < p; j++) members.push_back({g.ranks[j], g.link_sets[j]});
      R.flow = fab.sim.start(members, bytes, &R.t0, p);
    }
  }
  g.cv.notify_all();
  auto deadline = Clock::now() + std::chrono::nanoseconds(fab.timeout_ns.load());
  while (!R.all && R.err == PM_OK) {
    for (int j = 0; j < p && R.err == PM_OK; j++)
      if (g.closed[j] && !R.arrived[j])
        set_error(R, PM_ERR_STATE, strf("%s: %s freed its endpoint", where().c_str(), member_name(g, j).c_str()));
    if (g.closed[i]) set_error(R, PM_ERR_STATE, strf("%s: this endpoint was freed", where().c_str()));
    if (R.err != PM_OK) break;
    if (g.cv.wait_until(lock, deadline) == std::cv_status::timeout && !R.all && R.err == PM_OK) {
      std::string missing;
      for (int j = 0; j < p; j++)
        if (!R.arrived[j]) missing += (missing.empty() ? "" : ", ") + member_name(g, j);
      set_error(R, PM_ERR_TIMEOUT, strf("%s: waited %.3g s for %s", where().c_str(),
                                        fab.timeout_ns.load() * 1e-9, missing.c_str()));
    }
  }
  if (R.err != PM_OK) {
    g.cv.notify_all();
    Error e{R.err, R.message};
    if (++R.n_left == p) g.rounds.erase(pos);
    throw e;
  }
  const std::vector<View> ins = R.ins;
  const int64_t t0 = R.t0, flow = R.flow;
  lock.unlock();

  // 2. the transport moves the data (peers wait for us before leaving)
  const Transport& transport = fab.transport;
  Exchange x;
  x.kind = kind;
  x.offset = offset;
  x.index = i;
  x.members = p;
  x.ins = ins.data();
  x.out = out->view;
  std::exception_ptr failed;
  try {
    transport.iface->exchange(transport.ctx, &x);
  } catch (...) {
    failed = std::current_exception();  // still pass the barrier, or the peers would hang
  }

  // 3. wait until every member has read, then let the transport write what it staged
  lock.lock();
  R.n_read++;
  g.cv.notify_all();
  g.cv.wait(lock, [&] { return R.n_read == p; });
  lock.unlock();
  if (!failed) {
    try {
      transport.iface->finish(transport.ctx, &x);
    } catch (...) {
      failed = std::current_exception();
    }
  }

  // 4. the link model: done no earlier than the modelled end
  int64_t modelled_end = t0;
  if (flow != 0) {
    modelled_end = fab.sim.wait(flow);
    fab.sim.release(flow);
  }
  r.start_ns = t0;
  r.bytes = (int64_t)bytes;
  r.modelled_ns = modelled_end - t0;

  lock.lock();
  if (++R.n_left == p) g.rounds.erase(pos);
  lock.unlock();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace pm
