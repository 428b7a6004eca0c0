// The local fabric: ranks are threads of this process. It owns the link model in real time
// (LinkSim), the transport collectives move data through, and the directory where communicator
// endpoints of one group find each other.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "link_model.hpp"
#include "registry.hpp"
#include "transport.hpp"

namespace pm {

struct Group;

// The FluidModel run against the steady clock under one mutex; members of a collective block in
// wait() with timed condition waits until the model says their flow is done.
class LinkSim {
 public:
  explicit LinkSim(double congestion);
  void set_link(int32_t link_set, const Link& link);
  // A flow whose members all arrived at *t0_ns; `holders` members will each wait() and release()
  // it. Returns 0 when no member's link set is modelled (nothing to wait for). When the model has
  // moved past *t0_ns meanwhile (t0 is read before this lock), the flow starts at the model's now,
  // which goes to *t0_ns: records then show the arrival the model used, so start + modelled
  // duration is exactly the model's end, whatever the threads' timing.
  int64_t start(const std::vector<FlowMember>& members, double bytes, int64_t* t0_ns, int holders);
  // Blocks until the flow is done; its modelled end on the steady clock.
  int64_t wait(int64_t flow);
  void release(int64_t flow);

 private:
  double seconds(int64_t ns) const { return (double)(ns - origin_ns_) * 1e-9; }
  int64_t nanos(double s) const { return origin_ns_ + (int64_t)(s * 1e9 + 0.5); }

  const int64_t origin_ns_;  // model times are seconds since the fabric's birth: small, precise
  std::mutex mu_;
  std::condition_variable cv_;
  FluidModel model_;
  std::map<int64_t, int> holders_;
};

struct Fabric {
  static constexpr Kind kKind = Kind::Fabric;
  Fabric(int32_t world_size, double congestion);
  ~Fabric();
  Fabric(const Fabric&) = delete;
  Fabric& operator=(const Fabric&) = delete;

  const int32_t world_size;
  std::atomic<int64_t> timeout_ns{120'000'000'000};
  LinkSim sim;
  const Transport transport;

  std::mutex mu;                  // guards what follows
  std::vector<bool> rank_taken;   // one device per rank
  std::map<std::string, std::vector<std::weak_ptr<Group>>> groups;

  // The instance of group (name, ranks) this member joins: the oldest one whose slot `index` is
  // still free, so a group re-created after all members freed it starts afresh.
  std::shared_ptr<Group> join(const std::string& name, const std::vector<int32_t>& ranks,
                              int32_t index, int32_t link_set);
};

}  // namespace pm
