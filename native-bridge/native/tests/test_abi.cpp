// The introspection and arithmetic entry points bindings rely on: op kind names, status names,
// struct layouts, the collective volume and the link model evaluated on flows given by hand.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "check.hpp"

namespace {

bool near(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

TEST(op_kind_names_come_from_the_list) {
  CHECK(pm_op_kind_count() == PM_OP_KIND_COUNT, "%d", pm_op_kind_count());
  CHECK(std::strcmp(pm_op_kind_name(PM_OP_FILL), "fill") == 0, "%s", pm_op_kind_name(PM_OP_FILL));
  CHECK(std::strcmp(pm_op_kind_name(PM_OP_GELU_BWD), "gelu_backward") == 0, "%s", pm_op_kind_name(PM_OP_GELU_BWD));
  CHECK(std::strcmp(pm_op_kind_name(PM_OP_ALL_REDUCE), "all_reduce") == 0, "%s", pm_op_kind_name(PM_OP_ALL_REDUCE));
  CHECK(std::strcmp(pm_op_kind_name(PM_OP_EVENT_WAIT), "event_wait") == 0, "%s", pm_op_kind_name(PM_OP_EVENT_WAIT));
  CHECK(std::strcmp(pm_op_kind_name(PM_OP_SHIFT), "shift") == 0, "%s", pm_op_kind_name(PM_OP_SHIFT));
  CHECK(pm_op_kind_name(-1) == nullptr && pm_op_kind_name(PM_OP_KIND_COUNT) == nullptr, "out of range: NULL");
  for (int32_t k = 0; k < PM_OP_KIND_COUNT; k++)
    for (int32_t j = 0; j < k; j++)
      CHECK(std::strcmp(pm_op_kind_name(k), pm_op_kind_name(j)) != 0, "kinds %d and %d share a name", j, k);
}

TEST(status_names_cover_every_code) {
  CHECK(pm_status_count() == PM_ERR_INTERNAL + 1, "%d", pm_status_count());
  CHECK(std::strcmp(pm_status_name(PM_ERR_TIMEOUT), "PM_ERR_TIMEOUT") == 0, "%s", pm_status_name(PM_ERR_TIMEOUT));
  CHECK(std::strcmp(pm_status_name(pm_status_count()), "PM_ERR_UNKNOWN") == 0, "past the end");
}

TEST(struct_layouts_are_the_compilers) {
  int64_t off = -1, size = -1;
  CHECK(pm_struct_layout("pm_op_record", nullptr, &off, &size) == PM_OK && off == 0 &&
            size == (int64_t)sizeof(pm_op_record), "%lld %lld", (long long)off, (long long)size);
  CHECK(pm_struct_layout("pm_op_record", "modelled_ns", &off, &size) == PM_OK &&
            off == (int64_t)offsetof(pm_op_record, modelled_ns) && size == 8, "%lld %lld", (long long)off,
        (long long)size);
  CHECK(pm_struct_layout("pm_error", "message", &off, &size) == PM_OK && off == (int64_t)offsetof(pm_error, message) &&
            size == (int64_t)sizeof(((pm_error*)nullptr)->message), "%lld %lld", (long long)off, (long long)size);
  CHECK_FAILS(pm_struct_layout("pm_nothing", nullptr, &off, &size), PM_ERR_ARG, "not a struct of pipemoe.h");
  CHECK_FAILS(pm_struct_layout("pm_error", "msg", &off, &size), PM_ERR_ARG, "pm_error has no field 'msg'");
  CHECK_FAILS(pm_struct_layout("pm_error", nullptr, nullptr, &size), PM_ERR_ARG, "must not be NULL");
}

TEST(collective_bytes) {
  double b = -1;
  CHECK(pm_collective_bytes(PM_OP_ALL_TO_ALL, 4, 400, &b) == PM_OK && near(b, 300), "a2a %g", b);
  CHECK(pm_collective_bytes(PM_OP_REDUCE_SCATTER, 4, 400, &b) == PM_OK && near(b, 300), "rs %g", b);
  CHECK(pm_collective_bytes(PM_OP_ALL_GATHER, 4, 400, &b) == PM_OK && near(b, 1200), "ag %g", b);
  CHECK(pm_collective_bytes(PM_OP_ALL_REDUCE, 4, 400, &b) == PM_OK && near(b, 600), "ar %g", b);
  CHECK(pm_collective_bytes(PM_OP_ALL_REDUCE, 1, 400, &b) == PM_OK && b == 0, "a group of one: %g", b);
  CHECK(pm_collective_bytes(PM_OP_SHIFT, 4, 400, &b) == PM_OK && near(b, 400), "shift: one step %g", b);
  CHECK(pm_collective_bytes(PM_OP_SHIFT, 1, 400, &b) == PM_OK && b == 0, "shift in a group of one: %g", b);
  CHECK_FAILS(pm_collective_bytes(PM_OP_GEMM, 4, 400, &b), PM_ERR_ARG, "must be a collective");
  CHECK_FAILS(pm_collective_bytes(PM_OP_ALL_TO_ALL, 0, 400, &b), PM_ERR_ARG, "members is 0");
  CHECK_FAILS(pm_collective_bytes(PM_OP_ALL_TO_ALL, 2, -1, &b), PM_ERR_ARG, "in_bytes is -1");
}

// Flows by hand on link set 0 (B = 1e6 bytes/s, alpha = 0.01 s) with congestion 1.5.
constexpr double B = 1e6, alpha = 0.01, kappa = 1.5;

struct Flows {
  std::vector<double> arrive, bytes;
  std::vector<int32_t> offsets{0}, ranks, sets;
  void add(double at, double b, std::vector<std::pair<int32_t, int32_t>> members) {
    arrive.push_back(at);
    bytes.push_back(b);
    for (auto [r, l] : members) {
      ranks.push_back(r);
      sets.push_back(l);
    }
    offsets.push_back((int32_t)ranks.size());
  }
  std::vector<double> eval(pm_status* status = nullptr) {
    const double bw[] = {B, 0}, lat[] = {alpha, 0};
    std::vector<double> end(arrive.size(), -1);
    pm_status s = pm_link_model_eval(kappa, 2, bw, lat, (int32_t)arrive.size(), arrive.data(), bytes.data(),
                                     offsets.data(), ranks.data(), sets.data(), end.data());
    if (status) *status = s;
    else CHECK(s == PM_OK, "%s", pm_last_error()->message);
    return end;
  }
};

TEST(link_model_eval_two_flows_share_a_link) {
  Flows f;
  f.add(0, 1e6, {{0, 0}, {1, 0}});
  f.add(0, 1e6, {{0, 0}, {1, 0}});
  auto end = f.eval();
  double want = alpha + 2 * kappa * 1e6 / B;  // both at B / (2 kappa) throughout: 3.01 s
  CHECK(near(end[0], want) && near(end[1], want), "%g %g, expected %g", end[0], end[1], want);
}

TEST(link_model_eval_staggered_given_out_of_order) {
  Flows f;
  // b first in the arrays, though it arrives later: the model takes them in order of arrival
  f.add(0.5, 2e5, {{0, 0}, {1, 0}});
  f.add(0, 1e6, {{0, 0}, {1, 0}});
  f.add(0.2, 1e5, {{2, 0}, {3, 0}});  // other ranks: shares no link, alone
  f.add(0.3, 5e5, {{0, 1}, {1, 1}});  // link set 1 is unmodelled: ends when it arrives
  f.add(0.4, 5e5, {{0, 5}});          // past n_link_sets: unmodelled too
  auto end = f.eval();
  // a alone from 0.01 to 0.51 (b is active from 0.5 + alpha): 5e5 bytes done; then both at
  // B / (2 kappa) = B / 3 until b's 2e5 bytes are done at 1.11; a's last 3e5 alone: 1.41
  CHECK(near(end[0], 1.11), "b ends at %g", end[0]);
  CHECK(near(end[1], 1.41), "a ends at %g", end[1]);
  CHECK(near(end[2], 0.2 + alpha + 0.1), "c ends at %g", end[2]);
  CHECK(end[3] == 0.3 && end[4] == 0.4, "unmodelled: %g %g", end[3], end[4]);
}

TEST(link_model_eval_refuses_bad_input) {
  Flows f;
  f.add(0, 1e6, {{0, 0}, {1, 0}});
  f.sets[1] = PM_MAX_LINK_SETS;
  pm_status s;
  f.eval(&s);
  CHECK(s == PM_ERR_ARG && std::string(pm_last_error()->message).find("member_link_sets[1] is 8") != std::string::npos,
        "%s", pm_last_error()->message);
  Flows g;
  g.add(-1, 1e6, {{0, 0}});
  g.eval(&s);
  CHECK(s == PM_ERR_ARG && std::string(pm_last_error()->message).find("arrive_s[0] is -1") != std::string::npos,
        "%s", pm_last_error()->message);
  double end = 0;
  const double bw[] = {B};
  CHECK_FAILS(pm_link_model_eval(0.5, 1, bw, bw, 0, nullptr, nullptr, nullptr, nullptr, nullptr, &end), PM_ERR_ARG,
              "congestion is 0.5");
  const int32_t offsets[] = {0, 2, 1};
  const double at[] = {0, 0}, by[] = {1, 1};
  const int32_t ranks[] = {0, 1}, sets[] = {0, 0};
  double ends[2];
  CHECK_FAILS(pm_link_model_eval(1, 1, bw, bw, 2, at, by, offsets, ranks, sets, ends), PM_ERR_ARG,
              "must not decrease");
}

}  // namespace

int main(int argc, char** argv) { return test::main(argc, argv); }
