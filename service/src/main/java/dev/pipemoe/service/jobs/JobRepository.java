package dev.pipemoe.service.jobs;

import java.util.Optional;
import java.util.UUID;
import org.springframework.data.jpa.repository.JpaSpecificationExecutor;
import org.springframework.data.repository.Repository;

/** Jobs by id, by idempotency key, and filtered pages (keyset, see {@link JobQuery}). */
public interface JobRepository extends Repository<Job, UUID>, JpaSpecificationExecutor<Job> {

  Optional<Job> findById(UUID id);

  Optional<Job> findByOwnerAndIdempotencyKey(String owner, String idempotencyKey);

  Job save(Job job);

  Job saveAndFlush(Job job);
}
