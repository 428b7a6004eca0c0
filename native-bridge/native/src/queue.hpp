// A Queue is a FIFO of tasks drained by one executor thread: the engine of streams and of
// communicator endpoints. Completion is a counter (tasks finish in order), so "all work enqueued
// so far" is just a target count; events and cross-queue waits are built on that.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipemoe.h"

namespace pm {

int64_t now_ns();  // the steady clock every record and the link model use

// What a task may report for its timeline record.
struct OpResult {
  int64_t start_ns = -1;  // collectives: when all members had arrived (else: when it began)
  int64_t bytes = 0;
  int64_t modelled_ns = 0;
};

struct Task {
  int32_t kind = 0;          // pm_op_kind
  int32_t label = 0;
  bool record = true;        // event waits leave no record
  const char* fn = "";       // the pm_* function, for error messages of work that fails later
  std::function<void(OpResult&)> run;
};

// Finished ops of one device, drained by pm_device_timeline.
class Timeline {
 public:
  void push(const pm_op_record& r);
  int64_t drain(pm_op_record* buf, int64_t cap);

 private:
  static constexpr size_t kMaxRecords = 1 << 20;  // undrained records beyond this are dropped
  std::mutex mu_;
  std::deque<pm_op_record> records_;
};

class Queue {
 public:
  Queue(int32_t id, std::shared_ptr<Timeline> timeline);
  ~Queue();  // drains and joins
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  int32_t id() const { return id_; }
  // Returns the task's sequence number; tasks [0, seq] are "enqueued so far" after this call.
  int64_t enqueue(Task task);
  int64_t enqueued();
  bool done(int64_t target);           // at least target tasks have finished
  void wait_done(int64_t target);
  // The first error since the last call (PM_OK if none), then clears it: the queue stays usable.
  pm_status take_error(std::string* message);
  void shutdown();  // runs what is queued, then stops the thread; idempotent

 private:
  void loop();

  const int32_t id_;
  std::shared_ptr<Timeline> timeline_;
  std::mutex mu_, join_mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Task> tasks_;
  int64_t enqueued_ = 0, completed_ = 0;
  bool idle_wait_ = false, stop_ = false;
  pm_status error_ = PM_OK;
  std::string error_message_;
  std::thread thread_;
};

}  // namespace pm
