// Collectives on the local fabric with 2, 4 and 8 ranks (one thread each): data, strided views,
// BF16, the link model against the clock, and the failures that must not hang. No check depends on
// how the threads happen to interleave: timing-dependent facts are replayed through the model.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <future>
#include <random>
#include <thread>

#include "check.hpp"

namespace {

struct World {
  pm::fabric_ptr fabric;
  std::vector<pm::device_ptr> devs;
  World(int n, double kappa = 1.0) : fabric(pm::make_fabric(n, kappa)) {
    for (int r = 0; r < n; r++) devs.push_back(pm::make_device(fabric.get(), r));
  }
  // Runs body(rank) on one thread per rank, as the engine does.
  template <class Body>
  void run(Body body) {
    std::vector<std::thread> ts;
    for (int r = 0; r < (int)devs.size(); r++) ts.emplace_back([&, r] { body(r); });
    for (auto& t : ts) t.join();
  }
};

pm_stream_t compute(pm_device_t d) {
  pm_stream_t s = 0;
  pm::check(pm_device_stream(d, &s));
  return s;
}

std::vector<int32_t> iota_ranks(int n) {
  std::vector<int32_t> r(n);
  for (int i = 0; i < n; i++) r[i] = i;
  return r;
}

// Small multiples of 1/4 are exact in BF16 and their sums are exact in fp32.
float val(int rank, int64_t i) { return (float)(rank * 8 + (i % 13)) * 0.25f; }

std::vector<float> read(pm_tensor_t t, int64_t n) {
  std::vector<float> v(n);
  pm::check(pm_tensor_read(t, v.data(), n));
  return v;
}

void data_correctness(int p, pm_dtype dt) {
  World w(p);
  const int64_t b = 3, M = 5;  // block rows per member, row width
  std::vector<int> bad(p, 0);
  w.run([&](int r) {
    pm_device_t d = w.devs[r].get();
    auto comm = pm::make_comm(d, "g", iota_ranks(p));
    pm_stream_t s = compute(d);
    auto in = pm::make_tensor(d, dt, {p * b, M});
    std::vector<float> x(p * b * M);
    for (int64_t i = 0; i < (int64_t)x.size(); i++) x[i] = val(r, i);
    pm::check(pm_tensor_write(in.get(), x.data(), (int64_t)x.size()));
    auto a2a = pm::make_tensor(d, dt, {p * b, M});
    auto ag = pm::make_tensor(d, dt, {p * p * b, M});
    auto rs = pm::make_tensor(d, dt, {b, M});
    auto ar = pm::make_tensor(d, dt, {p * b, M});
    pm::check(pm_all_to_all(s, comm.get(), in.get(), a2a.get(), 0));
    pm::check(pm_all_gather(s, comm.get(), in.get(), ag.get(), 0));
    pm::check(pm_reduce_scatter(s, comm.get(), in.get(), rs.get(), 0));
    pm::check(pm_all_reduce(s, comm.get(), in.get(), ar.get(), 0));
    pm::check(pm_device_synchronize(d));
    auto A = read(a2a.get(), p * b * M), G = read(ag.get(), p * p * b * M), R = read(rs.get(), b * M),
         S = read(ar.get(), p * b * M);
    for (int j = 0; j < p; j++)
      for (int64_t e = 0; e < b * M; e++) {
        bad[r] += A[j * b * M + e] != val(j, r * b * M + e);  // block r of member j
      }
    for (int j = 0; j < p; j++)
      for (int64_t e = 0; e < p * b * M; e++) bad[r] += G[j * p * b * M + e] != val(j, e);
    for (int64_t e = 0; e < b * M; e++) {
      float sum = 0;
      for (int j = 0; j < p; j++) sum += val(j, r * b * M + e);
      bad[r] += R[e] != sum;
    }
    for (int64_t e = 0; e < p * b * M; e++) {
      float sum = 0;
      for (int j = 0; j < p; j++) sum += val(j, e);
      bad[r] += S[e] != sum;
    }
  });
  for (int r = 0; r < p; r++) CHECK(bad[r] == 0, "p=%d %s rank %d: %d wrong values", p, dt == PM_F32 ? "F32" : "BF16", r, bad[r]);
}

TEST(data_2_4_8_ranks_f32_bf16) {
  for (int p : {2, 4, 8})
    for (pm_dtype dt : {PM_F32, PM_BF16}) data_correctness(p, dt);
}

// The pipe-experts case: all-to-all of a capacity slice [ep, c, M] of a [ep, C, M] buffer, into the
// same slice of another buffer; and an in-place all-reduce with random values, identical on all.
TEST(strided_slices_and_in_place) {
  const int p = 4, C = 6, c0 = 2, c = 3, M = 7;
  World w(p);
  std::vector<std::vector<float>> outs(p), sums(p);
  w.run([&](int r) {
    pm_device_t d = w.devs[r].get();
    auto comm = pm::make_comm(d, "ep", iota_ranks(p));
    pm_stream_t s = compute(d);
    auto in = pm::make_tensor(d, PM_F32, {p, C, M}), out = pm::make_tensor(d, PM_F32, {p, C, M});
    std::vector<float> x(p * C * M);
    for (int64_t i = 0; i < (int64_t)x.size(); i++) x[i] = val(r, i);
    pm::check(pm_tensor_write(in.get(), x.data(), (int64_t)x.size()));
    auto vin = pm::make_view(in.get(), c0 * M, {p, c, M}, {C * M, M, 1});
    auto vout = pm::make_view(out.get(), c0 * M, {p, c, M}, {C * M, M, 1});
    pm::check(pm_all_to_all(s, comm.get(), vin.get(), vout.get(), 0));
    auto rnd = pm::make_tensor(d, PM_F32, {33, 65});
    pm::check(pm_random(s, rnd.get(), 100 + r, PM_NORMAL, 0, 1));
    pm::check(pm_all_reduce(s, comm.get(), rnd.get(), rnd.get(), 0));
    pm::check(pm_device_synchronize(d));
    outs[r] = read(out.get(), p * C * M);
    sums[r] = read(rnd.get(), 33 * 65);
  });
  for (int r = 0; r < p; r++) {
    int bad = 0;
    for (int j = 0; j < p; j++)
      for (int cc = 0; cc < C; cc++)
        for (int m = 0; m < M; m++) {
          float got = outs[r][(j * C + cc) * M + m];
          float want = (cc >= c0 && cc < c0 + c) ? val(j, (r * C + cc) * M + m) : 0.0f;  // outside the slice: untouched
          bad += got != want;
        }
    CHECK(bad == 0, "rank %d: %d wrong values in the slice all-to-all", r, bad);
    CHECK(std::memcmp(sums[r].data(), sums[0].data(), sums[0].size() * 4) == 0, "rank %d all-reduce bits differ", r);
  }
}

TEST(collective_waits_for_its_stream_and_records_done) {
  const int p = 2;
  World w(p);
  std::vector<int> ok(p, 0);
  w.run([&](int r) {
    pm_device_t d = w.devs[r].get();
    auto comm = pm::make_comm(d, "g", iota_ranks(p));
    pm_stream_t s = compute(d);
    auto side = pm::make_stream(d);
    auto done = pm::make_event(d);
    auto x = pm::make_tensor(d, PM_F32, {2, 4}), y = pm::make_tensor(d, PM_F32, {2, 4});
    auto big = pm::make_tensor(d, PM_F32, {256, 256}), big2 = pm::make_tensor(d, PM_F32, {256, 256});
    pm::check(pm_gemm(s, 0, 0, 1, big.get(), big.get(), 0, big2.get()));  // takes a while
    pm::check(pm_fill(s, x.get(), (float)(r + 1)));                       // must be in what peers get
    pm::check(pm_all_gather(s, comm.get(), pm::make_view(x.get(), 0, {1, 4}, {4, 1}).get(), y.get(), done.get()));
    pm::check(pm_event_wait(side.get(), done.get()));
    pm::check(pm_scale(side.get(), 2.0f, y.get()));  // after the gather, on another stream
    pm::check(pm_device_synchronize(d));
    auto v = read(y.get(), 8);
    ok[r] = v[0] == 2.0f && v[4] == 4.0f;
  });
  CHECK(ok[0] && ok[1], "gathered the filled values, then scaled them");
}

struct Rec {
  pm_op_record r;
  double seconds() const { return (r.end_ns - r.start_ns) * 1e-9; }
  double modelled() const { return r.modelled_ns * 1e-9; }
};

std::vector<pm_op_record> timeline(pm_device_t d) {
  std::vector<pm_op_record> out(64);
  int64_t n = 0;
  pm::check(pm_device_timeline(d, out.data(), (int64_t)out.size(), &n));
  out.resize(n);
  return out;
}

std::vector<Rec> collectives_of(pm_device_t d) {
  std::vector<Rec> out;
  for (auto& r : timeline(d))
    if (r.kind >= PM_OP_ALL_TO_ALL && r.kind <= PM_OP_ALL_REDUCE) out.push_back({r});
  std::sort(out.begin(), out.end(), [](const Rec& a, const Rec& b) { return a.r.start_ns < b.r.start_ns; });
  return out;
}

// The link model paces every transfer: none ends before its modelled time. How close it comes
// (achieved/modelled) is a speed figure, for RuntimeBench and docs/benchmarks.md, not for a test
// that a loaded machine would fail.
bool paced(const Rec& r) { return r.seconds() >= r.modelled() * 0.999; }

// What the link model says for these records' arrivals, replayed by hand through
// pm_link_model_eval: every flow between ranks 0 and 1 on its link set. Whatever the threads'
// timing made overlap, the live fabric must have modelled exactly that.
std::vector<double> replayed_ends(const std::vector<Rec>& recs, const std::vector<int32_t>& link_sets, double kappa,
                                  double B, double alpha) {
  const int n = (int)recs.size();
  const int64_t origin = recs[0].r.start_ns;
  std::vector<double> arrive(n), bytes(n), end(n, -1);
  std::vector<int32_t> offsets{0}, ranks, sets;
  for (int f = 0; f < n; f++) {
    arrive[f] = (recs[f].r.start_ns - origin) * 1e-9;
    bytes[f] = (double)recs[f].r.bytes;
    for (int32_t r : {0, 1}) {
      ranks.push_back(r);
      sets.push_back(link_sets[f]);
    }
    offsets.push_back((int32_t)ranks.size());
  }
  const double bw[] = {B, B}, lat[] = {alpha, alpha};
  pm::check(pm_link_model_eval(kappa, 2, bw, lat, n, arrive.data(), bytes.data(), offsets.data(), ranks.data(),
                               sets.data(), end.data()));
  return end;
}

TEST(link_model_in_real_time) {
  const int p = 2;
  const double B = 20e6, alpha = 0.005, kappa = 2.0;
  World w(p, kappa);
  pm::check(pm_fabric_set_link(w.fabric.get(), 0, B, alpha));
  pm::check(pm_fabric_set_link(w.fabric.get(), 1, B, alpha));
  const int64_t rows = 2, M = 100000;  // 800 kB in: a2a sends half of it, 20 ms at B
  std::vector<std::vector<Rec>> recs(p);
  w.run([&](int r) {
    pm_device_t d = w.devs[r].get();
    auto ep = pm::make_comm(d, "ep", iota_ranks(p), 0), ep2 = pm::make_comm(d, "ep2", iota_ranks(p), 0);
    auto tp = pm::make_comm(d, "tp", iota_ranks(p), 1);
    pm_stream_t s = compute(d);
    auto x = pm::make_tensor(d, PM_F32, {rows, M}), y = pm::make_tensor(d, PM_F32, {rows, M});
    auto x2 = pm::make_tensor(d, PM_F32, {rows, M}), y2 = pm::make_tensor(d, PM_F32, {rows, M});
    // 1. alone; 2. then again, FIFO on the same communicator; 3. two groups sharing link set 0;
    // 4. two groups on separate link sets
    pm::check(pm_all_to_all(s, ep.get(), x.get(), y.get(), 0));
    pm::check(pm_all_to_all(s, ep.get(), x.get(), y.get(), 0));
    pm::check(pm_device_synchronize(d));
    // issued in opposite orders on the two ranks: this finishes only because communicator queues
    // run independently of each other (a rank that ran them in issue order would wait forever)
    if (r == 0) {
      pm::check(pm_all_to_all(s, ep.get(), x.get(), y.get(), 0));
      pm::check(pm_all_to_all(s, ep2.get(), x2.get(), y2.get(), 0));
    } else {
      pm::check(pm_all_to_all(s, ep2.get(), x2.get(), y2.get(), 0));
      pm::check(pm_all_to_all(s, ep.get(), x.get(), y.get(), 0));
    }
    pm::check(pm_device_synchronize(d));
    pm::check(pm_all_to_all(s, ep.get(), x.get(), y.get(), 0));
    pm::check(pm_all_to_all(s, tp.get(), x2.get(), y2.get(), 0));
    pm::check(pm_device_synchronize(d));
    recs[r] = collectives_of(d);
  });
  const double solo = alpha + (rows * M * 4 / 2.0) / B;
  for (int r = 0; r < p; r++) {
    auto& v = recs[r];
    CHECK(v.size() == 6, "rank %d: %zu collective records", r, v.size());
    if (v.size() != 6) continue;
    CHECK(v[0].r.bytes == rows * M * 4 / 2, "bytes %lld", (long long)v[0].r.bytes);
    CHECK(std::fabs(v[0].modelled() - solo) < 1e-3, "modelled %g s, formula %g s", v[0].modelled(), solo);
    for (auto& x : v) CHECK(paced(x), "achieved %g s vs modelled %g s", x.seconds(), x.modelled());
    CHECK(v[1].r.start_ns >= v[0].r.end_ns, "FIFO: the second starts after the first ends");
    // shared link: however much the two overlapped, the fabric modelled what the fluid model says
    // for their arrivals (test_link_model checks by hand that full overlap takes 2 kappa times as
    // long), and neither was faster than alone
    std::vector<Rec> shared(v.begin() + 2, v.begin() + 4);
    std::vector<double> end = replayed_ends(shared, {0, 0}, kappa, B, alpha);
    for (int f = 0; f < 2; f++) {
      double got = (shared[f].r.start_ns - shared[0].r.start_ns) * 1e-9 + shared[f].modelled();
      CHECK(std::fabs(got - end[f]) < 1e-6, "rank %d shared flow %d: modelled end %.9f s, the model says %.9f s", r,
            f, got, end[f]);
      CHECK(shared[f].modelled() >= solo - 1e-6, "shared: %g vs solo %g", shared[f].modelled(), solo);
    }
    // separate link sets never slow each other, whatever the timing
    CHECK(std::fabs(v[4].modelled() - solo) < 1e-6 && std::fabs(v[5].modelled() - solo) < 1e-6,
          "apart: %g and %g vs solo %g", v[4].modelled(), v[5].modelled(), solo);
  }
}

// Shift (collective permute): member r receives member (r - offset) mod p's input, for offsets
// below 0 and at or beyond p, F32 and BF16, from a non-compute stream, and in place (every
// member's out is its in, so the transport must not overwrite what a peer still reads).
void shift_data(int p, pm_dtype dt) {
  World w(p);
  const int64_t b = 3, M = 5;
  std::vector<int> bad(p, 0);
  w.run([&](int r) {
    pm_device_t d = w.devs[r].get();
    auto comm = pm::make_comm(d, "cp", iota_ranks(p));
    auto side = pm::make_stream(d);
    auto in = pm::make_tensor(d, dt, {b, M});
    std::vector<float> x(b * M);
    for (int64_t i = 0; i < b * M; i++) x[i] = val(r, i);
    pm::check(pm_tensor_write(in.get(), x.data(), b * M));
    for (int offset : {1, -1, p + 1, 0, -2 * p}) {
      auto out = pm::make_tensor(d, dt, {b, M});
      pm::check(pm_shift(side.get(), comm.get(), offset, in.get(), out.get(), 0));
      pm::check(pm_device_synchronize(d));
      int from = ((r - offset) % p + p) % p;
      auto got = read(out.get(), b * M);
      for (int64_t i = 0; i < b * M; i++) bad[r] += got[i] != val(from, i);
    }
    pm::check(pm_shift(side.get(), comm.get(), 1, in.get(), in.get(), 0));  // the ring's step, in place
    pm::check(pm_device_synchronize(d));
    auto got = read(in.get(), b * M);
    for (int64_t i = 0; i < b * M; i++) bad[r] += got[i] != val((r - 1 + p) % p, i);
  });
  for (int r = 0; r < p; r++)
    CHECK(bad[r] == 0, "shift p=%d %s rank %d: %d wrong values", p, dt == PM_F32 ? "F32" : "BF16", r, bad[r]);
}

TEST(shift_2_4_ranks_f32_bf16) {
  for (int p : {2, 4})
    for (pm_dtype dt : {PM_F32, PM_BF16}) shift_data(p, dt);
}

// Under the link model a shift is one step: bytes(in) per rank, alpha + bytes / B alone.
TEST(shift_is_one_step_under_the_link_model) {
  const int p = 4;
  const double B = 50e6, alpha = 0.002;
  World w(p);
  pm::check(pm_fabric_set_link(w.fabric.get(), 0, B, alpha));
  const int64_t n = 50000;  // 200 kB: 4 ms at B
  std::vector<std::vector<pm_op_record>> recs(p);
  w.run([&](int r) {
    pm_device_t d = w.devs[r].get();
    auto comm = pm::make_comm(d, "cp", iota_ranks(p));
    auto x = pm::make_tensor(d, PM_F32, {1, n}), y = pm::make_tensor(d, PM_F32, {1, n});
    pm::check(pm_shift(compute(d), comm.get(), 1, x.get(), y.get(), 0));
    pm::check(pm_device_synchronize(d));
    recs[r] = timeline(d);
  });
  for (int r = 0; r < p; r++) {
    CHECK(recs[r].size() == 1 && recs[r][0].kind == PM_OP_SHIFT, "rank %d: %zu records", r, recs[r].size());
    if (recs[r].size() != 1) continue;
    Rec x{recs[r][0]};
    CHECK(x.r.bytes == n * 4, "rank %d: bytes %lld, in is %lld", r, (long long)x.r.bytes, (long long)(n * 4));
    CHECK(std::fabs(x.modelled() - (alpha + n * 4 / B)) < 1e-6, "rank %d: modelled %g s", r, x.modelled());
    CHECK(paced(x), "rank %d: achieved %g s vs modelled %g s", r, x.seconds(), x.modelled());
  }
}

// Members that issue different collectives (or shifts by different offsets: the same peer on 2
// ranks, but not the same call) all fail with PM_ERR_MISMATCH naming both; the communicator
// works again afterwards.
TEST(mismatch_fails_every_member_then_recovers) {
  const int p = 2;
  World w(p);
  std::vector<pm_status> first(p), second(p), shifted(p), shifted_again(p);
  std::vector<std::string> msg(p), shift_msg(p);
  w.run([&](int r) {
    pm_device_t d = w.devs[r].get();
    auto comm = pm::make_comm(d, "g", iota_ranks(p));
    pm_stream_t s = compute(d);
    auto x = pm::make_tensor(d, PM_F32, {2, 3}), y = pm::make_tensor(d, PM_F32, {2, 3});
    auto g = pm::make_tensor(d, PM_F32, {4, 3});
    if (r == 0) pm::check(pm_all_to_all(s, comm.get(), x.get(), y.get(), 0));
    else pm::check(pm_all_gather(s, comm.get(), x.get(), g.get(), 0));
    first[r] = pm_device_synchronize(d);
    msg[r] = pm_last_error()->message;
    pm::check(pm_all_reduce(s, comm.get(), x.get(), y.get(), 0));
    second[r] = pm_device_synchronize(d);
    pm::check(pm_shift(s, comm.get(), r == 0 ? 1 : -1, x.get(), y.get(), 0));
    shifted[r] = pm_device_synchronize(d);
    shift_msg[r] = pm_last_error()->message;
    pm::check(pm_shift(s, comm.get(), 1, x.get(), y.get(), 0));
    shifted_again[r] = pm_device_synchronize(d);
  });
  for (int r = 0; r < p; r++) {
    CHECK(first[r] == PM_ERR_MISMATCH && msg[r].find("all_gather") != std::string::npos &&
              msg[r].find("all_to_all") != std::string::npos,
          "rank %d: %s %s", r, pm_status_name(first[r]), msg[r].c_str());
    CHECK(shifted[r] == PM_ERR_MISMATCH && shift_msg[r].find("shift(offset 1)") != std::string::npos &&
              shift_msg[r].find("shift(offset -1)") != std::string::npos,
          "rank %d: %s %s", r, pm_status_name(shifted[r]), shift_msg[r].c_str());
    CHECK(second[r] == PM_OK && shifted_again[r] == PM_OK, "rank %d: the next collective works (%s, %s)", r,
          pm_status_name(second[r]), pm_status_name(shifted_again[r]));
  }
}

TEST(freed_peer_and_timeout_do_not_hang) {
  World w(2);
  // generous while rank 1 frees its endpoint (a loaded machine may start its thread late), short
  // once only the timeout is left to see
  pm::check(pm_fabric_set_timeout(w.fabric.get(), 60));
  pm_status freed = PM_OK, timed_out = PM_OK;
  std::string freed_msg, timeout_msg;
  std::promise<void> rank0_done;
  std::shared_future<void> rank0_finished = rank0_done.get_future().share();
  w.run([&](int r) {
    pm_device_t d = w.devs[r].get();
    auto comm = pm::make_comm(d, "g", iota_ranks(2));
    auto lonely = pm::make_comm(d, "lonely", iota_ranks(2));
    pm_stream_t s = compute(d);
    auto x = pm::make_tensor(d, PM_F32, {2, 3}), y = pm::make_tensor(d, PM_F32, {2, 3});
    if (r == 1) {
      comm.reset();  // rank 1 leaves; rank 0's collective must fail, not wait for the timeout
      rank0_finished.wait();  // but keeps "lonely" open, so that one can only time out
      return;
    }
    pm::check(pm_all_to_all(s, comm.get(), x.get(), y.get(), 0));
    freed = pm_device_synchronize(d);
    freed_msg = pm_last_error()->message;
    pm::check(pm_fabric_set_timeout(w.fabric.get(), 0.3));
    pm::check(pm_all_reduce(s, lonely.get(), x.get(), y.get(), 0));  // rank 1 never issues it
    timed_out = pm_device_synchronize(d);
    timeout_msg = pm_last_error()->message;
    rank0_done.set_value();
  });
  CHECK(freed == PM_ERR_STATE && freed_msg.find("freed") != std::string::npos, "%s %s", pm_status_name(freed),
        freed_msg.c_str());
  CHECK(timed_out == PM_ERR_TIMEOUT && timeout_msg.find("rank 1") != std::string::npos, "%s %s",
        pm_status_name(timed_out), timeout_msg.c_str());
}

}  // namespace

int main(int argc, char** argv) { return test::main(argc, argv); }
