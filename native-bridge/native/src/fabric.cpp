#include "fabric.hpp"

#include <chrono>

#include "collectives.hpp"
#include "queue.hpp"

namespace pm {

LinkSim::LinkSim(double congestion) : origin_ns_(now_ns()), model_(congestion, LinkSets{}) {}

void LinkSim::set_link(int32_t link_set, const Link& link) {
  std::lock_guard<std::mutex> lock(mu_);
  model_.advance(seconds(now_ns()));
  model_.set_link(link_set, link);
}

int64_t LinkSim::start(const std::vector<FlowMember>& members, double bytes, int64_t* t0_ns,
                       int holders) {
  std::lock_guard<std::mutex> lock(mu_);
  bool modelled = false;
  for (const FlowMember& m : members) modelled |= model_.link(m.link_set).bandwidth > 0;
  if (!modelled) return 0;
  // t0 was read before this lock: never move the model backwards
  double arrival = seconds(*t0_ns);
  if (model_.now() > arrival) {
    arrival = model_.now();
    *t0_ns = nanos(arrival);
  }
  int64_t id = model_.add(members, bytes, arrival);
  holders_[id] = holders;
  cv_.notify_all();  // running flows slow down: their waiters re-plan
  return id;
}

int64_t LinkSim::wait(int64_t flow) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    int before = model_.active_flows();
    model_.advance(std::max(seconds(now_ns()), model_.now()));
    bool done = model_.finished(flow);
    if (done || model_.active_flows() != before) cv_.notify_all();  // others may speed up
    if (done) return nanos(model_.predicted_end(flow));
    auto until = std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(nanos(model_.predicted_end(flow))));
    cv_.wait_until(lock, until);
  }
}

void LinkSim::release(int64_t flow) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holders_.find(flow);
  if (it != holders_.end() && --it->second == 0) {
    holders_.erase(it);
    model_.forget(flow);
  }
}

Fabric::Fabric(int32_t n, double kappa)
    : world_size(n), sim(kappa), transport(make_local_transport()), rank_taken(n) {}

Fabric::~Fabric() { transport.iface->free(transport.ctx); }

std::shared_ptr<Group> Fabric::join(const std::string& name, const std::vector<int32_t>& ranks,
                                    int32_t index, int32_t link_set) {
  std::string key = name + "@";
  for (int32_t r : ranks) key += std::to_string(r) + ",";
  std::lock_guard<std::mutex> lock(mu);
  auto& instances = groups[key];
  std::shared_ptr<Group> g;
  for (auto it = instances.begin(); it != instances.end();) {
    std::shared_ptr<Group> live = it->lock();
    if (!live) {
      it = instances.erase(it);
      continue;
    }
    std::lock_guard<std::mutex> glock(live->mu);
    if (!live->joined[index]) {
      g = live;
      break;
    }
    ++it;
  }
  if (!g) {
    g = std::make_shared<Group>(name, ranks);
    instances.push_back(g);
  }
  std::lock_guard<std::mutex> glock(g->mu);
  g->joined[index] = true;
  g->link_sets[index] = link_set;
  return g;
}

}  // namespace pm
