package dev.pipemoe.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A few canned answers over real HTTP/1.1 on a socket, for the client's own tests (the product
 * itself is driven by src-test's CliIT): plain answers by method and path, and streams written raw,
 * so that a test can cut a response off in the middle of a chunk the way a dropped connection does.
 */
final class FakeService implements AutoCloseable {
  /** A request as received: method, path with query, headers (names lower-case), body. */
  record Request(String method, String path, Map<String, String> headers, String body) {}

  /** Writes a whole response to the socket's stream; may close the socket to cut it off. */
  interface Raw {
    void write(Request r, Socket socket, OutputStream out) throws IOException;
  }

  private final ServerSocket server;
  private final Map<String, Raw> routes = new ConcurrentHashMap<>();
  final List<Request> requests = new CopyOnWriteArrayList<>();

  FakeService() {
    try {
      server = new ServerSocket(0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread.ofVirtual().start(this::serve);
  }

  String url() {
    return "http://localhost:" + server.getLocalPort();
  }

  FakeService json(String method, String path, int status, String body) {
    routes.put(method + " " + path, (r, s, out) -> writeJson(out, status, body));
    return this;
  }

  private static void writeJson(OutputStream out, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    out.write(("HTTP/1.1 " + status + " X\r\nContent-Type: " + (status >= 400 ? "application/problem+json" : "application/json")
        + "\r\nContent-Length: " + b.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    out.write(b);
  }

  FakeService raw(String method, String path, Raw raw) {
    routes.put(method + " " + path, raw);
    return this;
  }

  /** The start of a chunked event stream. */
  static void streamHead(OutputStream out) throws IOException {
    out.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        .getBytes(StandardCharsets.UTF_8));
  }

  static void chunk(OutputStream out, String text) throws IOException {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    out.write((Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.write(b);
    out.write("\r\n".getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  static void lastChunk(OutputStream out) throws IOException {
    out.write("0\r\n\r\n".getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private void serve() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        Thread.ofVirtual().start(() -> handle(s));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void handle(Socket s) {
    try (s) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String[] first = in.readLine().split(" ");
      Map<String, String> headers = new ConcurrentHashMap<>();
      String line;
      while ((line = in.readLine()) != null && !line.isEmpty()) {
        int c = line.indexOf(':');
        headers.put(line.substring(0, c).strip().toLowerCase(), line.substring(c + 1).strip());
      }
      char[] body = new char[Integer.parseInt(headers.getOrDefault("content-length", "0"))];
      int n = 0;
      while (n < body.length) {
        n += in.read(body, n, body.length - n);
      }
      Request r = new Request(first[0], first[1], headers, new String(body));
      requests.add(r);
      Raw route = routes.get(r.method() + " " + r.path().replaceFirst("\\?.*", ""));
      OutputStream out = s.getOutputStream();
      if (route == null) {
        writeJson(out, 404, "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no route " + r.path() + "\"}");
      } else {
        route.write(r, s, out);
      }
      out.flush();
    } catch (IOException | RuntimeException e) {
      // the client went away, or a route cut the connection: nothing to answer
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
