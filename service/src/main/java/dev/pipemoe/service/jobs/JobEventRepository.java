package dev.pipemoe.service.jobs;

import java.util.List;
import java.util.UUID;
import org.springframework.data.repository.Repository;

public interface JobEventRepository extends Repository<JobEvent, Long> {

  List<JobEvent> findByJobIdOrderByIdAsc(UUID jobId);

  JobEvent save(JobEvent event);
}
