package dev.pipemoe.worker.client;

/**
 * A call to the service that did not succeed, by what the worker should do about it: HTTP status
 * 0 means the service was not reached (connection refused, timeout, broken response).
 */
public final class ServiceException extends Exception {

  /** What the failure means for the caller. */
  public enum Kind {
    /** 401 or 403: the token is wrong, revoked or of the wrong role; a configuration error. */
    UNAUTHORIZED,
    /** 404 on a worker call: the service does not know this worker id; register again. */
    UNKNOWN_WORKER,
    /** 409: the attempt is no longer this worker's; stop it and report nothing more. */
    CONFLICT,
    /** Not reached, 5xx, 429 or an unexpected answer: try again later, with backoff. */
    RETRYABLE
  }

  private final Kind kind;
  private final int status;

  public ServiceException(Kind kind, int status, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.status = status;
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status, or 0 when the service was not reached. */
  public int status() {
    return status;
  }

  static Kind kindOf(int status) {
    return switch (status) {
      case 401, 403 -> Kind.UNAUTHORIZED;
      case 404 -> Kind.UNKNOWN_WORKER;
      case 409 -> Kind.CONFLICT;
      default -> Kind.RETRYABLE;
    };
  }
}
