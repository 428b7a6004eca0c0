// The objects behind device, stream, event and communicator handles.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "collectives.hpp"
#include "fabric.hpp"
#include "queue.hpp"

namespace pm {

struct Device {
  static constexpr Kind kKind = Kind::Device;
  Device(std::shared_ptr<Fabric> f, int32_t r) : fabric(std::move(f)), rank(r) {}
  ~Device();

  const std::shared_ptr<Fabric> fabric;
  const int32_t rank;
  uint64_t handle = 0;
  uint64_t compute_stream = 0;
  std::shared_ptr<Timeline> timeline = std::make_shared<Timeline>();
  std::atomic<int32_t> label{0};

  // A new queue (stream or communicator endpoint) that device synchronize covers.
  std::shared_ptr<Queue> new_queue();
  void drop_queue(const std::shared_ptr<Queue>& q);
  std::vector<std::shared_ptr<Queue>> queues_snapshot();

 private:
  std::mutex mu_;
  std::vector<std::shared_ptr<Queue>> queues_;
  int32_t next_queue_id_ = 0;
};

struct Stream {
  static constexpr Kind kKind = Kind::Stream;
  uint64_t device = 0;
  std::shared_ptr<Device> dev;
  std::shared_ptr<Queue> q;
};

// CUDA semantics: record captures "everything enqueued on q so far" as a target count.
struct Event {
  static constexpr Kind kKind = Kind::Event;
  uint64_t device = 0;
  std::mutex mu;
  std::shared_ptr<Queue> q;  // null: never recorded
  int64_t target = 0;

  void set(std::shared_ptr<Queue> queue, int64_t count) {
    std::lock_guard<std::mutex> lock(mu);
    q = std::move(queue);
    target = count;
  }
  std::pair<std::shared_ptr<Queue>, int64_t> get() {
    std::lock_guard<std::mutex> lock(mu);
    return {q, target};
  }
};

struct Comm {
  static constexpr Kind kKind = Kind::Comm;
  ~Comm();  // closes the endpoint: peers waiting for it fail, its queue drains
  uint64_t device = 0;
  std::shared_ptr<Device> dev;
  std::shared_ptr<CommState> state;
  std::shared_ptr<Queue> q;
};

}  // namespace pm
