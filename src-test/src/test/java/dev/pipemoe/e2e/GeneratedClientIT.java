package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.DeserializationFeature;
import dev.pipemoe.client.ApiClient;
import dev.pipemoe.client.ApiException;
import dev.pipemoe.client.api.JobsApi;
import dev.pipemoe.client.api.TokensApi;
import dev.pipemoe.client.api.WorkersApi;
import dev.pipemoe.client.model.CreateToken;
import dev.pipemoe.client.model.EffectiveConfig;
import dev.pipemoe.client.model.FabricSpec;
import dev.pipemoe.client.model.FieldError;
import dev.pipemoe.client.model.JobEvent;
import dev.pipemoe.client.model.JobListEntry;
import dev.pipemoe.client.model.JobPage;
import dev.pipemoe.client.model.JobState;
import dev.pipemoe.client.model.JobSubmission;
import dev.pipemoe.client.model.JobSummary;
import dev.pipemoe.client.model.JobView;
import dev.pipemoe.client.model.MetricsPage;
import dev.pipemoe.client.model.ModelSpec;
import dev.pipemoe.client.model.ParallelSpec;
import dev.pipemoe.client.model.PipeExpertsSpec;
import dev.pipemoe.client.model.Problem;
import dev.pipemoe.client.model.ResourcesSpec;
import dev.pipemoe.client.model.TrainingSpec;
import dev.pipemoe.client.model.Waiting;
import dev.pipemoe.client.model.WorkerView;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's walk-through through the Java client that the build generates from
 * docs/openapi.json (module client), against the real service and worker processes: what a team
 * that generates its client from /v3/api-docs gets. The client's mapper is made strict, so a field
 * the document does not declare fails here as a wrong type does; enums fail on undeclared values.
 */
class GeneratedClientIT {
  static final Duration RUN = Duration.ofSeconds(120);
  static final int STEPS = 8;
  /** Larger than any worker here (4 devices): such a job waits in the queue until it is cancelled. */
  static final String ARGS_8_RANKS = "--moe-model-type deepspeed_moe --num-experts 8 --tensor-model-parallel-size 2"
      + " --expert-model-parallel-size 4 --sequence-parallel --use-pipe-experts --pipe-experts-multi-data 2";

  @RegisterExtension
  static final E2eSystem system = new E2eSystem(Map.of("pipemoe.scheduler.poll-timeout", "5s"));

  static String userToken;
  static JobsApi jobs;

  @BeforeAll
  static void clients() throws ApiException {
    system.worker("node-a");
    // an admin makes a token for a user
    TokensApi tokens = new TokensApi(client(system.api().adminToken()));
    userToken = tokens.createToken(new CreateToken().owner("carol").role(CreateToken.RoleEnum.USER)).getToken();
    jobs = new JobsApi(client(userToken));
  }

  @Test
  void aJobSubmittedAsJsonRunsAndItsEventsMetricsAndSummaryRead() throws ApiException, IOException {
    List<WorkerView> fleet = new WorkersApi(client(userToken)).listWorkers().getWorkers();
    assertThat(fleet).anySatisfy(w -> {
      assertThat(w.getName()).isEqualTo("node-a");
      assertThat(w.getState()).isEqualTo(WorkerView.StateEnum.ONLINE);
    });

    JobView submitted = jobs.submitJob(quick("client-json"), null, null);
    assertThat(submitted.getId()).isNotNull();
    assertThat(submitted.getForm()).isEqualTo(JobView.FormEnum.JSON);
    assertThat(submitted.getSpec().getModel().getNumExperts()).isEqualTo(4);
    assertThat(submitted.getEffective().getSchedule()).isEqualTo(EffectiveConfig.ScheduleEnum.MINDSPEED);
    assertThat(submitted.getEffective().getWorldSize()).isEqualTo(4);
    assertThat(submitted.getNotes()).isNotEmpty();
    String id = submitted.getId().toString();

    JobView ended = Await.until("job " + id + " to end", RUN, () -> get(id),
        j -> Set.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED).contains(j.getState()));
    assertThat(ended.getState()).isEqualTo(JobState.SUCCEEDED);
    assertThat(ended.getSummary().getStepsCompleted()).isEqualTo(STEPS);

    assertThat(jobs.listJobEvents(id).getEvents()).extracting(JobEvent::getReason)
        .containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");

    MetricsPage steps = jobs.getJobMetrics(id, null, null, null, null, null, null, null);
    assertThat(steps.getSteps()).hasSize(STEPS);
    assertThat(steps.getSteps()).allSatisfy(s -> assertThat(s.getTflopsPerDevice()).isPositive());
    MetricsPage ranks = jobs.getJobMetrics(id, "all", "rank", null, null, null, null, null);
    assertThat(ranks.getRecords()).hasSize(STEPS * JobSpecs.RANKS);

    JobSummary summary = jobs.getJobSummary(id, null);
    assertThat(summary.getState()).isEqualTo(JobState.SUCCEEDED);
    assertThat(summary.getStepsDone()).isEqualTo(STEPS);
    assertThat(summary.getTflopsPerDevice()).isPositive();
    assertThat(summary.getStepSeconds().getP50()).isPositive();

    // the stream of a finished job: every event, then the end
    assertThat(Files.readString(jobs.streamJob(id, null).toPath())).contains("event:state", "event:step", "event:end");
  }

  @Test
  void yamlAndArgsSubmitsDryRunListAndCancel() throws ApiException {
    JobView fromArgs = jobs.submitJob(new JobSubmission().name("client-args").args(ARGS_8_RANKS), null, null);
    assertThat(fromArgs.getForm()).isEqualTo(JobView.FormEnum.ARGS);
    assertThat(fromArgs.getArgs()).isEqualTo(ARGS_8_RANKS);
    assertThat(fromArgs.getSpec().getParallel().getTensor()).isEqualTo(2);
    assertThat(fromArgs.getState()).isEqualTo(JobState.QUEUED);
    assertThat(fromArgs.getWaiting().getReason()).isEqualTo(Waiting.ReasonEnum.NO_WORKER_LARGE_ENOUGH);

    JobView fromYaml = submitYaml("""
        name: client-yaml
        model: {moeModelType: deepspeed_moe, numExperts: 8}
        parallel: {tensor: 2, expert: 4, sequenceParallel: true}
        pipeExperts: {enabled: true, multiStream: true, multiData: 2}
        """);
    assertThat(fromYaml.getForm()).isEqualTo(JobView.FormEnum.YAML);
    assertThat(fromYaml.getEffective()).isEqualTo(jobs.submitJob(new JobSubmission().name("client-same")
        .args(ARGS_8_RANKS + " --pipe-experts-multi-stream"), null, true).getEffective());

    JobView dry = jobs.submitJob(quick("client-dry"), null, true);
    assertThat(dry.getDryRun()).isTrue();
    assertThat(dry.getId()).isNull();
    assertThat(dry.getState()).isNull();
    assertThat(dry.getEffective().getResources().getDevices()).isEqualTo(JobSpecs.RANKS);

    // newest first, one per page, the token leads on
    JobPage first = jobs.listJobs(List.of("QUEUED"), "client-", null, 1, null);
    assertThat(first.getJobs()).extracting(JobListEntry::getId).containsExactly(fromYaml.getId());
    JobPage second = jobs.listJobs(List.of("QUEUED"), "client-", null, 1, first.getNextPageToken());
    assertThat(second.getJobs()).extracting(JobListEntry::getId).containsExactly(fromArgs.getId());

    for (JobView job : List.of(fromArgs, fromYaml)) {
      JobView cancelled = jobs.cancelJob(job.getId().toString());
      assertThat(cancelled.getState()).isEqualTo(JobState.CANCELLED);
      assertThat(cancelled.getFinishedAt()).isNotNull();
    }
  }

  @Test
  void anInvalidSubmitIsAProblemThatListsEveryBrokenRule() {
    JobSubmission tooFine = new JobSubmission().name("too-fine")
        .model(new ModelSpec().moeModelType("deepspeed_moe").numExperts(8))
        .parallel(new ParallelSpec().expert(4))
        .pipeExperts(new PipeExpertsSpec().enabled(true).multiStream(true).multiData(600));

    ApiException refused = catchThrowableOfType(ApiException.class, () -> jobs.submitJob(tooFine, null, null));

    assertThat(refused.getCode()).isEqualTo(422);
    assertThat(refused.getResponseHeaders().firstValue("Content-Type")).hasValue("application/problem+json");
    Problem problem = read(refused.getResponseBody(), Problem.class);
    assertThat(problem.getStatus()).isEqualTo(422);
    assertThat(problem.getType()).hasToString("https://pipemoe.dev/problems/invalid-job");
    assertThat(problem.getErrors()).extracting(FieldError::getRule, FieldError::getPointer, FieldError::getFlag)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("V2", "/pipeExperts/multiStream", "--pipe-experts-multi-stream"),
            org.assertj.core.groups.Tuple.tuple("V7", "/pipeExperts/multiData", "--pipe-experts-multi-data"));

    ApiException unknown = catchThrowableOfType(ApiException.class, () -> jobs.getJob(UUID.randomUUID().toString()));
    assertThat(unknown.getCode()).isEqualTo(404);
    assertThat(read(unknown.getResponseBody(), Problem.class).getStatus()).isEqualTo(404);
  }

  /** A client of the service for one token, as strict as a client can be about what it reads. */
  static ApiClient client(String token) {
    ApiClient client = new ApiClient();
    client.updateBaseUri(system.service().url());
    client.setRequestInterceptor(request -> request.header("Authorization", "Bearer " + token));
    client.getObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    return client;
  }

  /** The quick job of {@link JobSpecs} with {@link #STEPS} steps, built from the generated model. */
  static JobSubmission quick(String name) {
    return new JobSubmission().name(name)
        .model(new ModelSpec().moeModelType("deepspeed_moe").numExperts(4).hiddenSize(64).ffnHiddenSize(128)
            .seqLength(64))
        .parallel(new ParallelSpec().expert(4).data(4))
        .pipeExperts(new PipeExpertsSpec().enabled(true).multiData(2))
        .training(new TrainingSpec().steps(STEPS).warmupSteps(JobSpecs.WARMUP))
        .fabric(new FabricSpec().commRatio(20.0))
        .resources(new ResourcesSpec().deviceType("cpu").devices(JobSpecs.RANKS));
  }

  static JobView get(String id) {
    try {
      return jobs.getJob(id);
    } catch (ApiException e) {
      throw new IllegalStateException("GET job " + id + ": " + e.getCode() + " " + e.getResponseBody(), e);
    }
  }

  /**
   * A YAML submit. The generated Java client writes JSON bodies only (the document offers both), so
   * the request's body and type are replaced before it is sent; the answer is the generated model.
   */
  static JobView submitYaml(String yaml) throws ApiException {
    ApiClient client = client(userToken);
    client.setRequestInterceptor(request -> request.header("Authorization", "Bearer " + userToken)
        .setHeader("Content-Type", "application/yaml")
        .POST(HttpRequest.BodyPublishers.ofString(yaml)));
    return new JobsApi(client).submitJob(new JobSubmission().name("replaced-by-the-yaml"), null, null);
  }

  static <T> T read(String body, Class<T> type) {
    try {
      return client(userToken).getObjectMapper().readValue(body, type);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError("not a " + type.getSimpleName() + ": " + body, e);
    }
  }
}
