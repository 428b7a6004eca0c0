// The transport of a fabric: how the members of a group move a collective's data once the
// protocol (collectives.cpp: matching, mismatch, timeouts, the link model) has matched them. It is
// a table of functions and a context pointer, in the style of ggml's ggml_backend_i, so a second
// transport (Gloo, across processes) is one more table; docs/native-runtime.md says what it owes.
// The in-process transport (transport_local.cpp) is the only one today.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor.hpp"

namespace pm {

// One member's share of a collective the protocol has matched: every member arrived, and all
// issued the same kind, dtype and shapes.
struct Exchange {
  int32_t kind = 0;         // PM_OP_ALL_TO_ALL .. PM_OP_ALL_REDUCE, PM_OP_SHIFT
  int32_t offset = 0;       // shift: this member receives member (index - offset) mod members's input
  int32_t index = 0;        // this member's position in the group
  int32_t members = 0;      // the group size p
  const View* ins = nullptr;  // every member's input by position, as posted to the round
  View out;                 // this member's output
  // Set by exchange: where the result is (out itself, or a view of staging when it may land in
  // out only once no peer reads this member's memory any more).
  View result;
  std::vector<char> staging;  // the transport's buffer for result
};

struct TransportI {
  // A short name for messages ("in-process").
  const char* (*get_name)(void* ctx);
  // Phase 1: computes this member's result from the members' inputs, into x->out or x->staging
  // (x->result says which). Called once per member per round, outside every lock, possibly at
  // the same time as the other members' calls of that round. Every member's inputs stay valid and
  // unchanged until all members' exchange returned. Reductions sum in group order, in fp32, so
  // every member gets identical bits. May throw pm::Error; the protocol still waits for the peers.
  void (*exchange)(void* ctx, Exchange* x);
  // Phase 2, only after exchange succeeded and every member's exchange of the round returned:
  // moves x->result into x->out when it is elsewhere.
  void (*finish)(void* ctx, Exchange* x);
  // Frees ctx.
  void (*free)(void* ctx);
};

struct Transport {
  const TransportI* iface = nullptr;
  void* ctx = nullptr;
};

// Members are threads of this process: each reads its peers' inputs straight from their memory.
Transport make_local_transport();

}  // namespace pm
