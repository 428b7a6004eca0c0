-- The time split of each step (docs/engine.md, "The time split of a step"): the seconds of each
-- part, adding up to step_seconds. Workers older than the split send none: all seven parts are
-- null then, or none is. Nullable columns without a default: adding them rewrites no row.

alter table step_metrics
    add column split_attention_seconds    double precision,
    add column split_moe_compute_seconds  double precision,
    add column split_exposed_comm_seconds double precision,
    add column split_dp_reduction_seconds double precision,
    add column split_optimizer_seconds    double precision,
    add column split_other_seconds        double precision,
    add column split_idle_seconds         double precision,
    add constraint step_metrics_split_whole check (num_nulls(split_attention_seconds,
        split_moe_compute_seconds, split_exposed_comm_seconds, split_dp_reduction_seconds,
        split_optimizer_seconds, split_other_seconds, split_idle_seconds) in (0, 7));
