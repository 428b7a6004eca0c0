// The collective protocol. Members of a group meet per call position (the n-th collective each
// member runs on its endpoint's queue): all arrive, check they issued the same thing (else
// PM_ERR_MISMATCH), fail with PM_ERR_TIMEOUT or PM_ERR_STATE when a peer does not come, start the
// flow in the link model, hand the data to the fabric's transport (transport.hpp), and nobody
// leaves before every member's transport call returned, so no input is reused while a peer still
// reads it. The link model's wait comes last: done no earlier than the modelled end.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "queue.hpp"
#include "tensor.hpp"

namespace pm {

struct Fabric;

struct Round {
  int first = -1;  // the member that issued first: the others must match its kind, ins and outs
  int32_t kind = 0;
  int32_t offset = 0;  // shift's offset (0 for the others): members must agree on it too
  std::vector<View> ins, outs;
  std::vector<bool> arrived;
  int n_arrived = 0, n_read = 0, n_left = 0;
  bool all = false;  // every member arrived and agreed
  pm_status err = PM_OK;
  std::string message;
  int64_t t0 = 0;
  int64_t flow = 0;
};

struct Group {
  Group(std::string name, std::vector<int32_t> ranks);
  const std::string name;
  const std::vector<int32_t> ranks;
  std::mutex mu;  // guards what follows
  std::condition_variable cv;
  std::vector<bool> joined, closed;
  std::vector<int32_t> link_sets;
  std::map<int64_t, Round> rounds;
};

// One member's endpoint, as its queue's tasks see it (they never own the queue itself).
struct CommState {
  std::shared_ptr<Fabric> fabric;
  std::shared_ptr<Group> group;
  int32_t index = 0;
  int64_t next_pos = 0;  // touched only by the endpoint's queue thread
};

// Runs one collective for member st.index (offset: shift's, else 0); fills r's start, bytes and
// modelled duration.
void run_collective(CommState& st, int32_t kind, int32_t offset, const TensorRef& in, const TensorRef& out,
                    OpResult& r);

// Marks member `index` gone: peers waiting for it fail with PM_ERR_STATE.
void close_member(Group& g, int32_t index);

}  // namespace pm
