#include "queue.hpp"

#include <chrono>

#include "errors.hpp"

namespace pm {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Timeline::push(const pm_op_record& r) {
  std::lock_guard<std::mutex> lock(mu_);
  if (records_.size() < kMaxRecords) records_.push_back(r);
}

int64_t Timeline::drain(pm_op_record* buf, int64_t cap) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t n = 0;
  while (n < cap && !records_.empty()) {
    buf[n++] = records_.front();
    records_.pop_front();
  }
  return n;
}

Queue::Queue(int32_t id, std::shared_ptr<Timeline> timeline)
    : id_(id), timeline_(std::move(timeline)), thread_([this] { loop(); }) {}

Queue::~Queue() { shutdown(); }

int64_t Queue::enqueue(Task task) {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t seq = enqueued_++;
  tasks_.push_back(std::move(task));
  bool wake = idle_wait_;
  lock.unlock();
  // only a sleeping executor needs the (syscall-priced) wake-up; a busy one finds the task
  if (wake) work_cv_.notify_one();
  return seq;
}

int64_t Queue::enqueued() {
  std::lock_guard<std::mutex> lock(mu_);
  return enqueued_;
}

bool Queue::done(int64_t target) {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_ >= target;
}

void Queue::wait_done(int64_t target) {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return completed_ >= target; });
}

pm_status Queue::take_error(std::string* message) {
  std::lock_guard<std::mutex> lock(mu_);
  pm_status e = error_;
  if (message) *message = error_message_;
  error_ = PM_OK;
  error_message_.clear();
  return e;
}

void Queue::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  std::lock_guard<std::mutex> lock(join_mu_);
  // Tasks never hold a reference to their own queue, so this never runs on the executor itself.
  if (thread_.joinable()) thread_.join();
}

void Queue::loop() {
  for (;;) {
    std::unique_lock<std::mutex> lock(mu_);
    if (tasks_.empty()) {
      if (stop_) return;
      idle_wait_ = true;
      work_cv_.wait(lock, [&] { return !tasks_.empty() || stop_; });
      idle_wait_ = false;
      continue;
    }
    Task task = std::move(tasks_.front());
    tasks_.pop_front();
    int64_t seq = completed_;
    lock.unlock();

    OpResult r;
    int64_t begin = now_ns();
    std::string message;
    pm_status status = run_caught([&] { task.run(r); }, &message);
    int64_t end = now_ns();
    if (task.record) {
      pm_op_record rec{};
      rec.queue = id_;
      rec.kind = task.kind;
      rec.seq = seq;
      rec.start_ns = r.start_ns >= 0 ? r.start_ns : begin;
      rec.end_ns = end;
      rec.bytes = r.bytes;
      rec.modelled_ns = r.modelled_ns;
      rec.label = task.label;
      timeline_->push(rec);
    }
    task.run = nullptr;  // drop operand references before the work counts as done

    lock.lock();
    if (status != PM_OK && error_ == PM_OK) {
      error_ = status;
      error_message_ = std::string(task.fn) + ": " + message;
    }
    completed_++;
    lock.unlock();
    done_cv_.notify_all();
  }
}

}  // namespace pm
