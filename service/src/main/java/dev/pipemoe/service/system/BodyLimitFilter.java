package dev.pipemoe.service.system;

import dev.pipemoe.service.jobs.JobsProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.server.PathContainer;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every request body has a size limit, checked before anything parses it (docs/service.md §6.1):
 * 413 problem details naming the limit and its property. A body that announces its length is
 * refused on the Content-Length alone, before a byte of it is read; one without (chunked) is read
 * into memory up to the limit and refused as soon as it holds one byte more, so what is parsed has
 * always been counted whole. The limit is the path's own ({@link #limits}) or {@code
 * pipemoe.http.max-body-size}.
 *
 * <p>A plain filter bean runs after Spring Security's chain, so a caller without a valid token and
 * role gets 401 or 403 whatever it sends; neither reads the body.
 */
@Component
class BodyLimitFilter extends OncePerRequestFilter {

  /** A path's limit and the property that sets it. */
  private record Limit(PathPattern path, int bytes, String property) {

    boolean matches(String path) {
      return this.path == null || this.path.matches(PathContainer.parsePath(path));
    }
  }

  private final List<Limit> limits;
  private final JsonMapper json;

  BodyLimitFilter(HttpProperties http, JobsProperties jobs, JsonMapper json) {
    PathPatternParser parser = PathPatternParser.defaultInstance;
    this.limits = List.of(
        new Limit(parser.parse("/api/v1/jobs"), bytes(jobs.maxBodySize().toBytes()), "pipemoe.jobs.max-body-size"),
        new Limit(parser.parse("/api/v1/workers/*/metrics"), bytes(http.maxMetricsBatchSize().toBytes()),
            "pipemoe.http.max-metrics-batch-size"),
        new Limit(null, bytes(http.maxBodySize().toBytes()), "pipemoe.http.max-body-size"));
    this.json = json;
  }

  private static int bytes(long size) {
    return Math.toIntExact(size); // the properties' records keep it below 2 GB
  }

  /** The limit of a request path (without the context path). */
  private Limit limit(String path) {
    return limits.stream().filter(l -> l.matches(path)).findFirst().orElseThrow();
  }

  @Override
  protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    long announced = request.getContentLengthLong();
    // in HTTP/1.1 a body of unknown length is chunked (RFC 9112 §6.3); HTTP/2 needs no header for one
    boolean chunked = announced < 0 && (request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null
        || !request.getProtocol().startsWith("HTTP/1"));
    if (announced <= 0 && !chunked) {
      chain.doFilter(request, response);
      return;
    }
    Limit limit = limit(request.getRequestURI().substring(request.getContextPath().length()));
    if (announced > limit.bytes()) {
      refuse(request, response, limit, announced + " bytes");
      return;
    }
    if (!chunked) {
      chain.doFilter(request, response); // the container reads no more than Content-Length
      return;
    }
    byte[] body = request.getInputStream().readNBytes(limit.bytes() + 1);
    if (body.length > limit.bytes()) {
      refuse(request, response, limit, "more than " + limit.bytes() + " bytes");
      return;
    }
    chain.doFilter(new Buffered(request, body), response);
  }

  private void refuse(HttpServletRequest request, HttpServletResponse response, Limit limit, String size)
      throws IOException {
    ProblemDetail problem = Problems.problem(HttpStatus.CONTENT_TOO_LARGE, Problems.BODY_TOO_LARGE, "Body too large",
        "the body has " + size + "; the limit is " + limit.bytes() + " bytes (" + limit.property() + ")").getBody();
    problem.setInstance(Problems.instance(request.getRequestURI()));
    response.setStatus(HttpStatus.CONTENT_TOO_LARGE.value());
    // nothing reads the rest of the body: the connection closes after the answer (Tomcat discards
    // at most server.tomcat.max-swallow-size of what follows, unparsed, first)
    response.setHeader(HttpHeaders.CONNECTION, "close");
    response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
    byte[] body = json.writeValueAsBytes(problem);
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
    response.flushBuffer();
  }

  /** The request with its body read already, within the limit. */
  private static final class Buffered extends HttpServletRequestWrapper {

    private final byte[] body;
    private final ServletInputStream in;

    Buffered(HttpServletRequest request, byte[] body) {
      super(request);
      this.body = body;
      ByteArrayInputStream bytes = new ByteArrayInputStream(body);
      this.in = new ServletInputStream() {
        @Override
        public int read() {
          return bytes.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
          return bytes.read(b, off, len);
        }

        @Override
        public boolean isFinished() {
          return bytes.available() == 0;
        }

        @Override
        public boolean isReady() {
          return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
          throw new UnsupportedOperationException("the body was read already; read it blocking");
        }
      };
    }

    @Override
    public int getContentLength() {
      return body.length;
    }

    @Override
    public long getContentLengthLong() {
      return body.length;
    }

    @Override
    public ServletInputStream getInputStream() {
      return in;
    }

    @Override
    public BufferedReader getReader() {
      String encoding = getCharacterEncoding();
      Charset charset = encoding == null ? StandardCharsets.ISO_8859_1 : Charset.forName(encoding);
      return new BufferedReader(new InputStreamReader(getInputStream(), charset));
    }
  }
}
