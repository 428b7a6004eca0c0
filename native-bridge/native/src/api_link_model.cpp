// The link model's arithmetic through the C ABI, free of fabrics, threads and clocks, so that a
// second implementation (the Java side's) can be held against this one.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "errors.hpp"
#include "link_model.hpp"

using namespace pm;

namespace {

bool is_collective(int32_t kind) {
  return kind == PM_OP_ALL_TO_ALL || kind == PM_OP_ALL_GATHER || kind == PM_OP_REDUCE_SCATTER ||
         kind == PM_OP_ALL_REDUCE || kind == PM_OP_SHIFT;
}

void need_finite_nonnegative(double v, const char* what, int32_t i) {
  if (!(v >= 0) || !std::isfinite(v))
    fail(PM_ERR_ARG, strf("%s[%d] is %g but must be a finite number >= 0", what, i, v));
}

}  // namespace

extern "C" {

pm_status pm_collective_bytes(int32_t kind, int32_t members, double in_bytes, double* out) {
  return guard("pm_collective_bytes", [&] {
    if (!out) fail(PM_ERR_ARG, "out is NULL");
    if (!is_collective(kind))
      fail(PM_ERR_ARG, strf("kind is %d but must be a collective (%d..%d or %d)", kind, PM_OP_ALL_TO_ALL,
                            PM_OP_ALL_REDUCE, PM_OP_SHIFT));
    if (members < 1) fail(PM_ERR_ARG, strf("members is %d but must be >= 1", members));
    if (!(in_bytes >= 0) || !std::isfinite(in_bytes))
      fail(PM_ERR_ARG, strf("in_bytes is %g but must be a finite number >= 0", in_bytes));
    *out = collective_bytes(kind, members, in_bytes);
  });
}

pm_status pm_link_model_eval(double congestion, int32_t n_link_sets, const double* bandwidth,
                             const double* latency, int32_t n_flows, const double* arrive_s,
                             const double* bytes, const int32_t* member_offsets,
                             const int32_t* member_ranks, const int32_t* member_link_sets,
                             double* out_end_s) {
  return guard("pm_link_model_eval", [&] {
    if (!(congestion >= 1.0) || !std::isfinite(congestion))
      fail(PM_ERR_ARG, strf("congestion is %g but must be a finite number >= 1", congestion));
    if (n_link_sets < 0 || n_link_sets > PM_MAX_LINK_SETS)
      fail(PM_ERR_ARG, strf("n_link_sets is %d but must be in 0..%d", n_link_sets, PM_MAX_LINK_SETS));
    if (n_link_sets > 0 && (!bandwidth || !latency))
      fail(PM_ERR_ARG, "bandwidth and latency must not be NULL when n_link_sets > 0");
    if (n_flows < 0) fail(PM_ERR_ARG, strf("n_flows is %d but must be >= 0", n_flows));
    if (n_flows == 0) return;
    if (!arrive_s || !bytes || !member_offsets || !out_end_s)
      fail(PM_ERR_ARG, "arrive_s, bytes, member_offsets and out_end_s must not be NULL");
    LinkSets links{};
    for (int32_t l = 0; l < n_link_sets; l++) {
      need_finite_nonnegative(bandwidth[l], "bandwidth", l);
      need_finite_nonnegative(latency[l], "latency", l);
      links[l] = Link{bandwidth[l], latency[l]};
    }
    if (member_offsets[0] != 0) fail(PM_ERR_ARG, strf("member_offsets[0] is %d but must be 0", member_offsets[0]));
    std::vector<std::vector<FlowMember>> members(n_flows);
    for (int32_t f = 0; f < n_flows; f++) {
      need_finite_nonnegative(arrive_s[f], "arrive_s", f);
      need_finite_nonnegative(bytes[f], "bytes", f);
      int32_t from = member_offsets[f], to = member_offsets[f + 1];
      if (to < from)
        fail(PM_ERR_ARG, strf("member_offsets[%d] = %d is below member_offsets[%d] = %d: offsets must not decrease",
                              f + 1, to, f, from));
      if (to > from && (!member_ranks || !member_link_sets))
        fail(PM_ERR_ARG, "member_ranks and member_link_sets must not be NULL when flows have members");
      for (int32_t m = from; m < to; m++) {
        if (member_ranks[m] < 0) fail(PM_ERR_ARG, strf("member_ranks[%d] is %d but must be >= 0", m, member_ranks[m]));
        if (member_link_sets[m] < 0 || member_link_sets[m] >= PM_MAX_LINK_SETS)
          fail(PM_ERR_ARG, strf("member_link_sets[%d] is %d but must be in 0..%d", m, member_link_sets[m],
                                PM_MAX_LINK_SETS - 1));
        members[f].push_back({member_ranks[m], member_link_sets[m]});
      }
    }
    // the model only moves forward: add flows in order of arrival (ties in the caller's order)
    std::vector<int32_t> order(n_flows);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return arrive_s[a] < arrive_s[b]; });
    FluidModel model(congestion, links);
    std::vector<int64_t> ids(n_flows);
    for (int32_t f : order) ids[f] = model.add(members[f], bytes[f], arrive_s[f]);
    for (int32_t f = 0; f < n_flows; f++) out_end_s[f] = model.predicted_end(ids[f]);
  });
}

}  // extern "C"
