package dev.pipemoe.worker.client;

import tools.jackson.databind.json.JsonMapper;

/**
 * JSON of the protocol records, on the wire and in the spool: record components by name, java.time
 * values as ISO-8601 ({@code "PT10S"}, {@code "2026-11-27T17:50:32.007473Z"}), non-finite doubles
 * as the strings {@code "NaN"}/{@code "Infinity"} (Jackson 3's defaults), unknown fields in answers
 * ignored, so a newer service may add some.
 */
public final class ProtocolJson {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  private ProtocolJson() {}

  public static byte[] write(Object value) {
    return MAPPER.writeValueAsBytes(value);
  }

  public static String writeString(Object value) {
    return MAPPER.writeValueAsString(value);
  }

  public static <T> T read(byte[] json, Class<T> type) {
    return MAPPER.readValue(json, type);
  }

  public static <T> T read(String json, Class<T> type) {
    return MAPPER.readValue(json, type);
  }
}
