// The link model's arithmetic, free of threads and clocks so that tests can drive it by hand.
//
// Every rank has up to PM_MAX_LINK_SETS link sets (bandwidth B bytes/s, latency alpha s). A
// collective is a flow: once all members have arrived it pays alpha (not shared), then moves
// `bytes` per member. While m flows are active on a member's link set, each progresses there at
// B / (m * kappa) when m > 1 (B when alone); a flow progresses at the minimum over its members.
// Rates change only when a flow activates or finishes, so the model jumps from event to event.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "pipemoe.h"

namespace pm {

struct Link {
  double bandwidth = 0;  // bytes/s; 0: unmodelled
  double latency = 0;    // s
};
using LinkSets = std::array<Link, PM_MAX_LINK_SETS>;

struct FlowMember {
  int32_t rank;
  int32_t link_set;
};

// The modelled duration of a transfer alone on its link: alpha + bytes / B.
double solo_seconds(const Link& link, double bytes);

// Per-rank bytes of a collective over p members moving in_bytes of input per member
// (kind: PM_OP_ALL_TO_ALL .. PM_OP_ALL_REDUCE, PM_OP_SHIFT).
double collective_bytes(int32_t kind, int32_t p, double in_bytes);

class FluidModel {
 public:
  FluidModel(double congestion, const LinkSets& links) : kappa_(congestion), links_(links) {}

  void set_link(int32_t link_set, const Link& link) { links_[link_set] = link; }
  const Link& link(int32_t link_set) const { return links_[link_set]; }
  // A flow whose members all arrived at time `now`. Members on unmodelled link sets do not
  // constrain it; with none modelled it finishes at once. Returns its id.
  int64_t add(const std::vector<FlowMember>& members, double bytes, double now);
  // Moves the model to time t (>= its current time).
  void advance(double t);
  bool finished(int64_t id) const;
  // When flow id finishes if no other flow starts meanwhile (its finish time once finished).
  double predicted_end(int64_t id) const;
  void forget(int64_t id);
  double now() const { return now_; }
  int active_flows() const;

 private:
  struct Flow {
    int64_t id;
    std::vector<FlowMember> members;  // modelled members only
    double active_at;                 // arrival + max alpha of its members
    double remaining;
    double finished_at = -1;
  };
  std::vector<double> rates() const;  // per flow, 0 for flows not active now
  double next_event() const;          // earliest activation or finish after now_
  void step_to(double t);             // no event strictly inside (now_, t)
  void settle();

  double kappa_;
  LinkSets links_;
  double now_ = 0;
  int64_t next_id_ = 1;
  std::vector<Flow> flows_;
};

}  // namespace pm
