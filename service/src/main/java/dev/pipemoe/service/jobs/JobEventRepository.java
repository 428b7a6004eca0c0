package dev.pipemoe.service.jobs;

import java.util.List;
import java.util.UUID;
import org.springframework.data.domain.Limit;
import org.springframework.data.repository.Repository;

public interface JobEventRepository extends Repository<JobEvent, Long> {

  List<JobEvent> findByJobIdOrderByIdAsc(UUID jobId);

  /** The next events of a job after the one with id {@code afterId}, in order (the live stream's catch-up). */
  List<JobEvent> findByJobIdAndIdGreaterThanOrderByIdAsc(UUID jobId, long afterId, Limit limit);

  JobEvent save(JobEvent event);
}
