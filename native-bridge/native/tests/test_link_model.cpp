// The link model's arithmetic, driven by hand: no threads, no clock.
#include <cmath>

#include "check.hpp"
#include "link_model.hpp"

namespace {

using pm::FluidModel;
using pm::Link;
using pm::LinkSets;

constexpr double B = 1e6, alpha = 0.01;

LinkSets links() {
  LinkSets l;
  l[0] = Link{B, alpha};
  l[1] = Link{2 * B, 0.0};
  return l;
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

TEST(solo_transfer_and_volumes) {
  CHECK(near(pm::solo_seconds(Link{B, alpha}, 5e5), alpha + 0.5), "alpha + b/B");
  CHECK(pm::solo_seconds(Link{0, alpha}, 5e5) == 0, "unmodelled costs nothing");
  CHECK(near(pm::collective_bytes(PM_OP_ALL_TO_ALL, 4, 400), 300), "a2a (p-1)/p");
  CHECK(near(pm::collective_bytes(PM_OP_REDUCE_SCATTER, 4, 400), 300), "rs (p-1)/p");
  CHECK(near(pm::collective_bytes(PM_OP_ALL_GATHER, 4, 400), 1200), "ag (p-1)");
  CHECK(near(pm::collective_bytes(PM_OP_ALL_REDUCE, 4, 400), 600), "ar 2(p-1)/p");
  CHECK(pm::collective_bytes(PM_OP_ALL_REDUCE, 1, 400) == 0, "a group of one moves nothing");
  CHECK(near(pm::collective_bytes(PM_OP_SHIFT, 4, 400), 400), "shift: one step of the input");
  FluidModel m(1.0, links());
  int64_t f = m.add({{0, 0}, {1, 0}}, 5e5, 2.0);
  CHECK(near(m.predicted_end(f), 2.0 + alpha + 0.5), "alone: %g", m.predicted_end(f));
  m.advance(2.0 + alpha + 0.5);
  CHECK(m.finished(f), "finished at its end");
}

TEST(two_flows_share_a_link) {
  for (double kappa : {1.0, 1.5}) {
    FluidModel m(kappa, links());
    int64_t a = m.add({{0, 0}, {1, 0}}, 1e6, 0.0);
    int64_t b = m.add({{0, 0}, {1, 0}}, 1e6, 0.0);
    // both at B / (2 kappa) for the whole transfer
    double end = alpha + 2 * kappa * 1e6 / B;
    CHECK(near(m.predicted_end(a), end) && near(m.predicted_end(b), end), "kappa %g: %g and %g, expected %g",
          kappa, m.predicted_end(a), m.predicted_end(b), end);
  }
}

TEST(staggered_flows_speed_up_when_one_ends) {
  const double kappa = 2.0;
  FluidModel m(kappa, links());
  int64_t a = m.add({{0, 0}, {1, 0}}, 1e6, 0.0);  // alone from alpha to alpha + 0.5: 5e5 bytes done
  m.advance(alpha + 0.5);
  int64_t b = m.add({{0, 0}, {1, 0}}, 2e5, alpha + 0.5);  // active from 2 alpha + 0.5
  // a alone until 2a+0.5 (another 1e4 bytes), then both at B/4 until b's 2e5 bytes are done
  double t_b = 2 * alpha + 0.5 + 2e5 / (B / 4);
  double left_a = 1e6 - 5e5 - 1e4 - 2e5;
  CHECK(near(m.predicted_end(b), t_b), "b ends at %g, expected %g", m.predicted_end(b), t_b);
  CHECK(near(m.predicted_end(a), t_b + left_a / B), "a ends at %g, expected %g", m.predicted_end(a),
        t_b + left_a / B);
}

TEST(three_flows_with_different_members) {
  const double kappa = 1.5;
  FluidModel m(kappa, links());
  int64_t a = m.add({{0, 0}, {1, 0}}, 3e5, 0.0);  // shares rank 1 with b
  int64_t b = m.add({{1, 0}, {2, 0}}, 3e5, 0.0);
  int64_t c = m.add({{3, 0}, {4, 0}}, 3e5, 0.0);  // alone
  double shared = alpha + 3e5 / (B / (2 * kappa));
  CHECK(near(m.predicted_end(a), shared) && near(m.predicted_end(b), shared), "a %g b %g, expected %g",
        m.predicted_end(a), m.predicted_end(b), shared);
  CHECK(near(m.predicted_end(c), alpha + 0.3), "c %g", m.predicted_end(c));
  // a flow on another link set of rank 1 does not slow a or b
  int64_t d = m.add({{1, 1}, {2, 1}}, 2e5, 0.0);
  CHECK(near(m.predicted_end(a), shared), "link sets are apart: a %g", m.predicted_end(a));
  CHECK(near(m.predicted_end(d), 2e5 / (2 * B)), "d on link set 1: %g", m.predicted_end(d));
}

TEST(slowest_member_and_unmodelled_members) {
  LinkSets l = links();
  FluidModel m(1.0, l);
  int64_t busy = m.add({{0, 0}, {5, 0}}, 1e6, 0.0);
  int64_t f = m.add({{0, 1}, {1, 0}}, 1e5, 0.0);  // rank 1's set 0 is free, rank 0's set 1 too
  CHECK(near(m.predicted_end(f), alpha + 1e5 / B), "min over members: %g", m.predicted_end(f));
  (void)busy;
  int64_t g = m.add({{6, 2}, {7, 2}}, 1e9, 0.0);  // link set 2 unmodelled: done at once
  CHECK(m.finished(g) && m.predicted_end(g) == 0.0, "unmodelled flow finishes at arrival");
}

TEST(fifo_per_communicator_is_sequential_flows) {
  // a communicator runs its collectives one after another: the second flow starts when the first ends
  FluidModel m(1.0, links());
  int64_t a = m.add({{0, 0}, {1, 0}}, 1e5, 0.0);
  double end_a = m.predicted_end(a);
  m.advance(end_a);
  CHECK(m.finished(a), "first done");
  int64_t b = m.add({{0, 0}, {1, 0}}, 1e5, end_a);
  CHECK(near(m.predicted_end(b), end_a + alpha + 0.1), "second alone after the first: %g", m.predicted_end(b));
}

}  // namespace

int main(int argc, char** argv) { return test::main(argc, argv); }
