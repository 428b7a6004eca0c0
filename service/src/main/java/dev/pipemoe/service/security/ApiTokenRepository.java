package dev.pipemoe.service.security;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.data.repository.Repository;

/** Only what the security feature uses. */
public interface ApiTokenRepository extends Repository<ApiToken, UUID> {

  Optional<ApiToken> findByTokenHash(byte[] tokenHash);

  Optional<ApiToken> findById(UUID id);

  List<ApiToken> findAllByOrderByCreatedAtAscIdAsc();

  boolean existsByRoleAndRevokedAtIsNull(Role role);

  ApiToken save(ApiToken token);

  ApiToken saveAndFlush(ApiToken token);
}
