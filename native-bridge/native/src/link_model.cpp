#include "link_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pm {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
// A flow with less than this many bytes left is done: guards against rounding residue.
constexpr double kByteEps = 1e-6;
}  // namespace

double solo_seconds(const Link& link, double bytes) {
  if (link.bandwidth <= 0) return 0;
  return link.latency + bytes / link.bandwidth;
}

double collective_bytes(int32_t kind, int32_t p, double in_bytes) {
  if (p <= 1) return 0;
  switch (kind) {
    case PM_OP_ALL_TO_ALL:
    case PM_OP_REDUCE_SCATTER: return (p - 1) * in_bytes / p;
    case PM_OP_ALL_GATHER: return (p - 1) * in_bytes;
    case PM_OP_ALL_REDUCE: return 2.0 * (p - 1) * in_bytes / p;
    case PM_OP_SHIFT: return in_bytes;  // one step: every member sends its input to one peer
  }
  return 0;
}

int64_t FluidModel::add(const std::vector<FlowMember>& members, double bytes, double now) {
  advance(now);
  Flow f;
  f.id = next_id_++;
  double alpha = 0;
  for (const FlowMember& m : members) {
    const Link& l = links_[m.link_set];
    if (l.bandwidth > 0) {
      f.members.push_back(m);
      alpha = std::max(alpha, l.latency);
    }
  }
  f.active_at = now + alpha;
  f.remaining = f.members.empty() ? 0 : bytes;
  if (f.members.empty()) f.finished_at = now;
  flows_.push_back(f);
  return f.id;
}

std::vector<double> FluidModel::rates() const {
  std::vector<double> r(flows_.size(), 0.0);
  for (size_t i = 0; i < flows_.size(); i++) {
    const Flow& f = flows_[i];
    if (f.finished_at >= 0 || f.active_at > now_) continue;
    double rate = kInf;
    for (const FlowMember& m : f.members) {
      int sharing = 0;  // active flows on this member's link set of this rank, f included
      for (const Flow& g : flows_) {
        if (g.finished_at >= 0 || g.active_at > now_) continue;
        for (const FlowMember& gm : g.members)
          if (gm.rank == m.rank && gm.link_set == m.link_set) sharing++;
      }
      double b = links_[m.link_set].bandwidth;
      rate = std::min(rate, sharing > 1 ? b / (sharing * kappa_) : b);
    }
    r[i] = rate;
  }
  return r;
}

double FluidModel::next_event() const {
  std::vector<double> r = rates();
  double t = kInf;
  for (size_t i = 0; i < flows_.size(); i++) {
    const Flow& f = flows_[i];
    if (f.finished_at >= 0) continue;
    if (f.active_at > now_)
      t = std::min(t, f.active_at);
    else
      t = std::min(t, now_ + f.remaining / r[i]);
  }
  return t;
}

void FluidModel::step_to(double t) {
  std::vector<double> r = rates();
  double dt = t - now_;
  for (size_t i = 0; i < flows_.size(); i++) {
    Flow& f = flows_[i];
    if (f.finished_at >= 0 || f.active_at > now_) continue;
    // the second test catches finishes lost to rounding of now_ + remaining / rate
    bool done = f.remaining - r[i] * dt <= kByteEps || now_ + f.remaining / r[i] <= t;
    f.remaining -= r[i] * dt;
    if (done) {
      f.remaining = 0;
      f.finished_at = t;
    }
  }
  now_ = t;
}

void FluidModel::advance(double t) {
  while (now_ < t) {
    double e = next_event();
    if (e > t) {
      step_to(t);
      break;
    }
    step_to(std::max(e, now_));
  }
  settle();
}

void FluidModel::settle() {
  // flows activating exactly now with nothing to send finish now
  for (Flow& f : flows_)
    if (f.finished_at < 0 && f.active_at <= now_ && f.remaining <= kByteEps) f.finished_at = now_;
}

bool FluidModel::finished(int64_t id) const {
  for (const Flow& f : flows_)
    if (f.id == id) return f.finished_at >= 0;
  return true;
}

double FluidModel::predicted_end(int64_t id) const {
  FluidModel copy = *this;
  for (;;) {
    for (const Flow& f : copy.flows_)
      if (f.id == id && f.finished_at >= 0) return f.finished_at;
    double e = copy.next_event();
    if (e == kInf) return copy.now_;  // unknown id: nothing to wait for
    copy.step_to(std::max(e, copy.now_));
    copy.settle();
  }
}

void FluidModel::forget(int64_t id) {
  flows_.erase(std::remove_if(flows_.begin(), flows_.end(), [&](const Flow& f) { return f.id == id; }),
               flows_.end());
}

int FluidModel::active_flows() const {
  int n = 0;
  for (const Flow& f : flows_)
    if (f.finished_at < 0 && f.active_at <= now_) n++;
  return n;
}

}  // namespace pm
