package dev.pipemoe.service.jobs;

import dev.pipemoe.service.system.Problems;
import jakarta.persistence.criteria.Predicate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.data.domain.Sort;
import org.springframework.data.jpa.domain.Specification;

/**
 * One page of a job listing: newest first, ordered by (createdAt, id) descending, filtered by
 * states, a name prefix and an owner. Keyset paging: the next page starts after the last row's
 * (createdAt, id), so it costs one index range scan however deep the page.
 *
 * @param owner only this owner's jobs; null for all (admins only, enforced by the caller)
 */
record JobQuery(Set<JobState> states, String namePrefix, String owner, int pageSize, PageToken after) {

  static final Sort ORDER = Sort.by(Sort.Order.desc("createdAt"), Sort.Order.desc("id"));

  JobQuery {
    states = Set.copyOf(states);
  }

  /** Fingerprint of the filters a page token is only valid with. */
  int hash() {
    return Objects.hash(new TreeSet<>(states), namePrefix, owner);
  }

  /** The query after {@code token}, which must come from a query with the same filters. */
  JobQuery after(String token) {
    if (token == null || token.isEmpty()) {
      return this;
    }
    PageToken decoded = PageToken.decode(token);
    if (decoded.queryHash() != hash()) {
      throw Problems.invalidParameter("pageToken",
          "pageToken belongs to a listing with other filters (state, namePrefix, owner); start without one");
    }
    return new JobQuery(states, namePrefix, owner, pageSize, decoded);
  }

  Specification<Job> specification() {
    return (root, query, cb) -> {
      List<Predicate> where = new ArrayList<>();
      if (owner != null) {
        where.add(cb.equal(root.get("owner"), owner));
      }
      if (!states.isEmpty()) {
        where.add(root.get("state").in(states));
      }
      if (namePrefix != null && !namePrefix.isEmpty()) {
        where.add(cb.like(root.get("name"), escapeLike(namePrefix) + "%", '\\'));
      }
      if (after != null) {
        where.add(cb.or(
            cb.lessThan(root.<java.time.Instant>get("createdAt"), after.createdAt()),
            cb.and(cb.equal(root.get("createdAt"), after.createdAt()), cb.lessThan(root.<java.util.UUID>get("id"), after.id()))));
      }
      return cb.and(where.toArray(Predicate[]::new));
    };
  }

  PageToken tokenAfter(Job last) {
    return new PageToken(last.createdAt(), last.id(), hash());
  }

  private static String escapeLike(String text) {
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }
}
