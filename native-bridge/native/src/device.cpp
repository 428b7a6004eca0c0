#include "device.hpp"

namespace pm {

Device::~Device() {
  for (auto& q : queues_snapshot()) q->shutdown();
  std::lock_guard<std::mutex> lock(fabric->mu);
  fabric->rank_taken[rank] = false;
}

std::shared_ptr<Queue> Device::new_queue() {
  std::lock_guard<std::mutex> lock(mu_);
  auto q = std::make_shared<Queue>(next_queue_id_++, timeline);
  queues_.push_back(q);
  return q;
}

void Device::drop_queue(const std::shared_ptr<Queue>& q) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = queues_.begin(); it != queues_.end(); ++it)
    if (*it == q) {
      queues_.erase(it);
      return;
    }
}

std::vector<std::shared_ptr<Queue>> Device::queues_snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return queues_;
}

Comm::~Comm() {
  if (state) close_member(*state->group, state->index);
  if (q) {
    q->shutdown();
    if (dev) dev->drop_queue(q);
  }
}

}  // namespace pm
