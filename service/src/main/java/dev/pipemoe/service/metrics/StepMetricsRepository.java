package dev.pipemoe.service.metrics;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.metrics.StepSplit;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.UUID;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Repository;

/**
 * All SQL of {@code step_metrics}: the idempotent batch insert, and the reads (pages per step or
 * per rank, the summary's aggregates, the live stream's next steps). A step's aggregate over ranks
 * is defined once, in {@link #AGGREGATE}: the step takes as long as its slowest rank; busy times,
 * the split's parts, FLOP/s per device and loss are means over ranks; tokens/s and dropped tokens
 * are sums.
 */
@Repository
class StepMetricsRepository {

  /**
   * One statement per batch, whatever its size: the records travel as one array per column and
   * {@code unnest} turns them back into rows. The key (job, attempt, step, rank) makes a replayed
   * record a conflict that is skipped, so the update count is exactly the records newly stored.
   */
  /** The split's columns, one per {@link StepSplit.Part} in its order: {@code split_attention_seconds}, ... */
  static final List<String> SPLIT_COLUMNS = Arrays.stream(StepSplit.Part.values())
      .map(p -> "split_" + p.label() + "_seconds").toList();

  private static final String INSERT = """
      insert into step_metrics (job_id, attempt, step, rank, step_seconds, compute_busy_seconds, ep_busy_seconds,
                                tp_busy_seconds, other_comm_busy_seconds, exposed_comm_seconds, tflops_per_device,
                                hardware_tflops_per_device, tokens_per_second, loss, aux_loss, dropped_tokens, %s)
      select ?, ?, r.* from unnest(?::int4[], ?::int4[], ?::float8[], ?::float8[], ?::float8[], ?::float8[],
                                   ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[],
                                   ?::float8[], ?::int8[], %s) as r
      on conflict do nothing""".formatted(String.join(", ", SPLIT_COLUMNS),
      SPLIT_COLUMNS.stream().map(c -> "?::float8[]").collect(Collectors.joining(", ")));

  static final String AGGREGATE = """
      m.attempt, m.step, count(*) as ranks, max(m.step_seconds) as step_seconds,
      avg(m.compute_busy_seconds) as compute_busy_seconds, avg(m.ep_busy_seconds) as ep_busy_seconds,
      avg(m.tp_busy_seconds) as tp_busy_seconds, avg(m.other_comm_busy_seconds) as other_comm_busy_seconds,
      avg(m.exposed_comm_seconds) as exposed_comm_seconds, avg(m.tflops_per_device) as tflops_per_device,
      avg(m.hardware_tflops_per_device) as hardware_tflops_per_device, sum(m.tokens_per_second) as tokens_per_second,
      avg(m.loss) as loss, avg(m.aux_loss) as aux_loss, sum(m.dropped_tokens) as dropped_tokens, """
      + SPLIT_COLUMNS.stream().map(c -> "avg(m." + c + ") as " + c).collect(Collectors.joining(", "));

  /** The steps of one page: from a step on, every n-th, in order. */
  private static final String PAGE = """
      with page as (
          select distinct step from step_metrics
          where job_id = :job and attempt in (:attempts) and step >= :from and step % :every = 0
          order by step limit :limit)
      """;

  private final NamedParameterJdbcTemplate named;
  private final JdbcTemplate jdbc;

  StepMetricsRepository(NamedParameterJdbcTemplate named) {
    this.named = named;
    this.jdbc = named.getJdbcTemplate();
  }

  /**
   * One step aggregated over ranks (or, in the rank view, one rank's step: ranks = 1); {@code split}
   * absent when its workers sent none.
   */
  record StepRow(int attempt, int step, int ranks, double stepSeconds, double computeBusySeconds,
      double epBusySeconds, double tpBusySeconds, double otherCommBusySeconds, double exposedCommSeconds,
      double tflopsPerDevice, double hardwareTflopsPerDevice, double tokensPerSecond, double loss, double auxLoss,
      long droppedTokens, @JsonInclude(JsonInclude.Include.NON_NULL) StepSplit split) {}

  /** One rank's record of one step, as the worker sent it, with its attempt. */
  record RankRow(int attempt, int step, int rank, double stepSeconds, double computeBusySeconds,
      double epBusySeconds, double tpBusySeconds, double otherCommBusySeconds, double exposedCommSeconds,
      double tflopsPerDevice, double hardwareTflopsPerDevice, double tokensPerSecond, double loss, double auxLoss,
      long droppedTokens, @JsonInclude(JsonInclude.Include.NON_NULL) StepSplit split) {}

  /**
   * Stores the records not stored before; returns how many that were. The columns are primitive
   * arrays, which the PostgreSQL driver sends in binary: no number is formatted as text and parsed
   * back.
   */
  int insert(UUID jobId, int attempt, List<StepMetrics> records) {
    Columns c = Columns.of(records);
    return jdbc.execute((ConnectionCallback<Integer>) con -> {
      try (PreparedStatement ps = con.prepareStatement(INSERT)) {
        int i = 0;
        ps.setObject(++i, jobId);
        ps.setInt(++i, attempt);
        ps.setObject(++i, c.step());
        ps.setObject(++i, c.rank());
        for (double[] column : c.doubles()) {
          ps.setObject(++i, column);
        }
        ps.setObject(++i, c.dropped());
        for (Double[] column : c.split()) {
          ps.setObject(++i, column);
        }
        return ps.executeUpdate();
      }
    });
  }

  /** Steps from {@code fromStep} on, every {@code every}-th, at most {@code limit}, aggregated over ranks. */
  List<StepRow> steps(UUID jobId, List<Integer> attempts, int fromStep, int every, int limit) {
    return named.query(PAGE + """
        select %s from step_metrics m join page on page.step = m.step
        where m.job_id = :job and m.attempt in (:attempts)
        group by m.attempt, m.step order by m.step, m.attempt""".formatted(AGGREGATE),
        page(jobId, attempts, fromStep, every, limit), STEP);
  }

  /** The same page per rank ({@code rank} null: all ranks). */
  List<RankRow> ranks(UUID jobId, List<Integer> attempts, int fromStep, int every, int limit, Integer rank) {
    return named.query(PAGE + """
        select m.* from step_metrics m join page on page.step = m.step
        where m.job_id = :job and m.attempt in (:attempts) and (cast(:rank as int4) is null or m.rank = :rank)
        order by m.step, m.attempt, m.rank""",
        page(jobId, attempts, fromStep, every, limit).addValue("rank", rank, java.sql.Types.INTEGER), RANK);
  }

  /** The first and last step stored for these attempts; empty when there are none. */
  Optional<int[]> stepRange(UUID jobId, List<Integer> attempts) {
    return named.query("""
        select min(step), max(step) from step_metrics where job_id = :job and attempt in (:attempts)""",
        new MapSqlParameterSource("job", jobId).addValue("attempts", attempts),
        (rs, n) -> rs.getObject(1) == null ? null : new int[] {rs.getInt(1), rs.getInt(2)})
        .stream().filter(r -> r != null).findFirst();
  }

  /** The steps of one attempt after {@code afterStep}, in order, aggregated (the live stream). */
  List<StepRow> stepsAfter(UUID jobId, int attempt, int afterStep, int limit) {
    return named.query("""
        select %s from step_metrics m where m.job_id = :job and m.attempt = :attempt and m.step > :after
        group by m.attempt, m.step order by m.step limit :limit""".formatted(AGGREGATE),
        new MapSqlParameterSource("job", jobId).addValue("attempt", attempt).addValue("after", afterStep)
            .addValue("limit", limit), STEP);
  }

  /** The aggregates of {@link JobSummary}, over one attempt's complete steps (all ranks reported). */
  record Totals(int stepsDone, Integer lastStep, int measuredSteps, Double tflopsPerDevice,
      Double hardwareTflopsPerDevice, Double tokensPerSecond, Double meanStepSeconds, Double meanStepSecondsAll,
      Double p50, Double p90, Double p99, Double exposedCommShare, long droppedTokens, Double lastLoss,
      StepSplit split, LossTrend lossTrend) {}

  /**
   * Whether training learns: the loss (ranks' mean per step) averaged over an attempt's first and
   * last {@code window} complete steps, window = min(20, steps / 2), warm-up included; the bench
   * prints the same (docs/engine.md, "The bench command").
   */
  record LossTrend(int window, double firstMean, double lastMean) {}

  Totals totals(UUID jobId, int attempt, int ranks, int warmupSteps) {
    return named.queryForObject("""
        with per_step as (
            select %s, sum(m.exposed_comm_seconds) as exposed, sum(m.step_seconds) as rank_seconds
            from step_metrics m where m.job_id = :job and m.attempt = :attempt
            group by m.attempt, m.step having count(*) = :ranks),
        ranked as (
            select loss, row_number() over (order by step) as up, row_number() over (order by step desc) as down,
                   least(20, count(*) over () / 2) as window_steps
            from per_step)
        select count(*) as steps_done, max(step) as last_step,
               count(*) filter (where step >= :warmup) as measured,
               avg(tflops_per_device) filter (where step >= :warmup) as tflops,
               avg(hardware_tflops_per_device) filter (where step >= :warmup) as hw,
               avg(tokens_per_second) filter (where step >= :warmup) as tps,
               avg(step_seconds) filter (where step >= :warmup) as mean_step,
               avg(step_seconds) as mean_step_all,
               percentile_disc(0.5) within group (order by step_seconds) filter (where step >= :warmup) as p50,
               percentile_disc(0.9) within group (order by step_seconds) filter (where step >= :warmup) as p90,
               percentile_disc(0.99) within group (order by step_seconds) filter (where step >= :warmup) as p99,
               sum(exposed) filter (where step >= :warmup)
                   / nullif(sum(rank_seconds) filter (where step >= :warmup), 0) as exposed_share,
               coalesce(sum(dropped_tokens), 0) as dropped,
               (select loss from per_step order by step desc limit 1) as last_loss,
               (select min(window_steps) from ranked) as loss_window,
               (select avg(loss) from ranked where up <= window_steps) as loss_first,
               (select avg(loss) from ranked where down <= window_steps) as loss_last,
               %s
        from per_step""".formatted(AGGREGATE, SPLIT_COLUMNS.stream()
            .map(c -> "avg(" + c + ") filter (where step >= :warmup) as " + c).collect(Collectors.joining(", "))),
        new MapSqlParameterSource("job", jobId).addValue("attempt", attempt).addValue("ranks", ranks)
            .addValue("warmup", warmupSteps),
        (rs, n) -> new Totals(rs.getInt("steps_done"), (Integer) rs.getObject("last_step"), rs.getInt("measured"),
            number(rs, "tflops"), number(rs, "hw"), number(rs, "tps"), number(rs, "mean_step"),
            number(rs, "mean_step_all"), number(rs, "p50"), number(rs, "p90"), number(rs, "p99"),
            number(rs, "exposed_share"), rs.getLong("dropped"), number(rs, "last_loss"), split(rs),
            lossTrend(rs)));
  }

  /** Null until two complete steps with a loss exist. */
  private static LossTrend lossTrend(ResultSet rs) throws SQLException {
    Double first = number(rs, "loss_first");
    Double last = number(rs, "loss_last");
    int window = rs.getInt("loss_window");
    return window == 0 || first == null || last == null ? null : new LossTrend(window, first, last);
  }

  private static MapSqlParameterSource page(UUID jobId, List<Integer> attempts, int fromStep, int every, int limit) {
    return new MapSqlParameterSource("job", jobId).addValue("attempts", attempts).addValue("from", fromStep)
        .addValue("every", every).addValue("limit", limit);
  }

  private static Double number(ResultSet rs, String column) throws SQLException {
    double value = rs.getDouble(column);
    return rs.wasNull() ? null : value;
  }

  /** The split of a row, null where its parts are (all are, or none: the table's check). */
  static StepSplit split(ResultSet rs) throws SQLException {
    double[] parts = new double[SPLIT_COLUMNS.size()];
    for (int i = 0; i < parts.length; i++) {
      parts[i] = rs.getDouble(SPLIT_COLUMNS.get(i));
      if (rs.wasNull()) {
        return null;
      }
    }
    return StepSplit.ofParts(parts);
  }

  private static final RowMapper<StepRow> STEP = (rs, n) -> new StepRow(rs.getInt("attempt"), rs.getInt("step"),
      rs.getInt("ranks"), rs.getDouble("step_seconds"), rs.getDouble("compute_busy_seconds"),
      rs.getDouble("ep_busy_seconds"), rs.getDouble("tp_busy_seconds"), rs.getDouble("other_comm_busy_seconds"),
      rs.getDouble("exposed_comm_seconds"), rs.getDouble("tflops_per_device"),
      rs.getDouble("hardware_tflops_per_device"), rs.getDouble("tokens_per_second"), rs.getDouble("loss"),
      rs.getDouble("aux_loss"), rs.getLong("dropped_tokens"), split(rs));

  private static final RowMapper<RankRow> RANK = (rs, n) -> new RankRow(rs.getInt("attempt"), rs.getInt("step"),
      rs.getInt("rank"), rs.getDouble("step_seconds"), rs.getDouble("compute_busy_seconds"),
      rs.getDouble("ep_busy_seconds"), rs.getDouble("tp_busy_seconds"), rs.getDouble("other_comm_busy_seconds"),
      rs.getDouble("exposed_comm_seconds"), rs.getDouble("tflops_per_device"),
      rs.getDouble("hardware_tflops_per_device"), rs.getDouble("tokens_per_second"), rs.getDouble("loss"),
      rs.getDouble("aux_loss"), rs.getLong("dropped_tokens"), split(rs));

  /** A batch turned into one array per column, in the insert's column order. */
  private record Columns(int[] step, int[] rank, double[][] doubles, long[] dropped, Double[][] split) {

    static Columns of(List<StepMetrics> records) {
      int n = records.size();
      int[] step = new int[n];
      int[] rank = new int[n];
      double[][] d = new double[11][n];
      long[] dropped = new long[n];
      // boxed: a record without a split stores nulls
      Double[][] split = new Double[SPLIT_COLUMNS.size()][n];
      for (int i = 0; i < n; i++) {
        StepMetrics r = records.get(i);
        step[i] = r.step();
        rank[i] = r.rank();
        d[0][i] = r.stepSeconds();
        d[1][i] = r.computeBusySeconds();
        d[2][i] = r.epBusySeconds();
        d[3][i] = r.tpBusySeconds();
        d[4][i] = r.otherCommBusySeconds();
        d[5][i] = r.exposedCommSeconds();
        d[6][i] = r.tflopsPerDevice();
        d[7][i] = r.hardwareTflopsPerDevice();
        d[8][i] = r.tokensPerSecond();
        d[9][i] = r.loss();
        d[10][i] = r.auxLoss();
        dropped[i] = r.droppedTokens();
        if (r.split() != null) {
          for (StepSplit.Part p : StepSplit.Part.values()) {
            split[p.ordinal()][i] = p.of(r.split());
          }
        }
      }
      return new Columns(step, rank, d, dropped, split);
    }
  }
}
