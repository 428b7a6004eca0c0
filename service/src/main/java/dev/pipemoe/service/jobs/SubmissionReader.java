package dev.pipemoe.service.jobs;

import dev.pipemoe.service.system.Problems;
import dev.pipemoe.service.system.Problems.FieldError;
import java.math.BigDecimal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLParser;

/**
 * Reads a POST /api/v1/jobs body into a {@link Submission}, or throws the problem that says why it
 * cannot: 415 for a media type other than JSON or YAML, 400 for anything malformed (syntax,
 * duplicate keys, trailing content, a top level that is no object, unknown fields, wrong types,
 * {@code args} next to spec fields), listing every problem with its pointer. The size limit is
 * checked before, by {@code BodyLimitFilter}.
 *
 * <p>The body shape, the same in all three forms: {@code name} plus either the spec's sections at
 * the top level ({@code model}, {@code parallel}, {@code pipeExperts}, ...) or {@code args}, a
 * MindSpeed-style argument string. So a pointer into the body is also the pointer into the spec.
 */
@Component
class SubmissionReader {

  static final String NAME = "name";
  static final String ARGS = "args";
  static final String SYNTAX = "BODY-SYNTAX";
  static final String FORM = "BODY-FORM";

  static final List<MediaType> YAML_TYPES = List.of(MediaType.APPLICATION_YAML, MediaType.parseMediaType("application/x-yaml"),
      MediaType.parseMediaType("text/yaml"), MediaType.parseMediaType("text/x-yaml"));

  private final ObjectMapper json = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  private final ObjectMapper yaml = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  private final ObjectMapper canonical = JsonMapper.builder().enable(JsonNodeFeature.WRITE_PROPERTIES_SORTED).build();

  private final List<String> known;

  SubmissionReader() {
    List<String> names = new ArrayList<>(List.of(NAME, ARGS));
    names.addAll(SpecBinder.sectionNames());
    this.known = List.copyOf(names);
  }

  /** The form a content type announces; 415 for anything but JSON and YAML. */
  SpecForm form(String contentType) {
    if (contentType == null) {
      throw unsupported("Content-Type is missing");
    }
    MediaType type;
    try {
      type = MediaType.parseMediaType(contentType);
    } catch (InvalidMediaTypeException e) {
      throw unsupported("Content-Type '" + contentType + "' is no media type");
    }
    if (MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type) || "json".equals(type.getSubtypeSuffix())) {
      return SpecForm.JSON;
    }
    if (YAML_TYPES.stream().anyMatch(t -> t.equalsTypeAndSubtype(type))) {
      return SpecForm.YAML;
    }
    throw unsupported("Content-Type " + type + " is not supported");
  }

  /** @param hashed whether to hash the body (only an Idempotency-Key needs it) */
  Submission read(SpecForm form, byte[] body, boolean hashed) {
    if (body.length == 0) {
      throw Problems.malformed("the body is empty", List.of(new FieldError("", SYNTAX,
          "the body is empty; send a job: {\"name\": ..., \"model\": {...}, ...} or {\"name\": ..., \"args\": \"...\"}")));
    }
    JsonNode root = parse(form, body);
    if (!root.isObject()) {
      throw Problems.malformed("the body must be an object", List.of(new FieldError("", SpecBinder.TYPE,
          "the body must be an object with name and the spec's fields (or args), was " + root.getNodeType().name().toLowerCase())));
    }
    List<FieldError> errors = new ArrayList<>();
    Set<String> sections = new LinkedHashSet<>();
    for (String field : root.propertyNames()) {
      if (SpecBinder.sectionNames().contains(field)) {
        sections.add(field);
      } else if (!field.equals(NAME) && !field.equals(ARGS)) {
        errors.add(SpecBinder.unknown("", field, known, "the body"));
      }
    }
    String name = string(root, NAME, errors);
    String args = string(root, ARGS, errors);
    boolean argsForm = root.hasNonNull(ARGS);
    if (argsForm) {
      for (String section : sections) {
        if (!root.get(section).isNull()) {
          errors.add(new FieldError("/" + section, FORM, "/" + section + " cannot be combined with /args:"
              + " give the spec either as fields or as an argument string"));
        }
      }
    }
    SpecBinder binder = new SpecBinder();
    var spec = argsForm ? null : binder.bind(root, sections);
    errors.addAll(binder.errors());
    if (!errors.isEmpty()) {
      throw Problems.malformed(errors.size() == 1 ? errors.get(0).message()
          : errors.size() + " problems with the body, listed in errors", errors);
    }
    ObjectNode given = null;
    if (!argsForm) {
      given = ((ObjectNode) root).deepCopy();
      given.remove(List.of(NAME, ARGS));
    }
    return new Submission(argsForm ? SpecForm.ARGS : form, name, given, spec, args, hashed ? hash(root) : null);
  }

  private JsonNode parse(SpecForm form, byte[] body) {
    ObjectMapper mapper = form == SpecForm.YAML ? yaml : json;
    try {
      if (form == SpecForm.YAML) {
        refuseAliases(body);
      }
      JsonNode root = mapper.readTree(body);
      if (root == null || root.isMissingNode()) {
        throw Problems.malformed("the body holds no " + form.jsonName() + " value",
            List.of(new FieldError("", SYNTAX, "the body holds no " + form.jsonName() + " value")));
      }
      return root;
    } catch (ErrorResponseException e) {
      throw e;
    } catch (JacksonException e) {
      TokenStreamLocation at = e.getLocation();
      String where = at == null || at.getLineNr() < 1 ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
      throw syntax(form, e.getOriginalMessage() + where);
    } catch (RuntimeException e) {
      // the YAML engine signals some malformed input with its own unchecked exceptions
      throw syntax(form, e.getMessage());
    }
  }

  /**
   * The YAML reader would turn an alias ({@code *mt}) into a string of the anchor's name instead of
   * the anchored value; a job spec is small enough to write out, so an alias is refused, naming
   * where it is (docs/service.md, 3.1).
   */
  private void refuseAliases(byte[] body) {
    try (JsonParser parser = yaml.createParser(body)) {
      while (parser.nextToken() != null) {
        if (parser instanceof YAMLParser y && y.isCurrentAlias()) {
          String pointer = parser.streamReadContext().pathAsPointer().toString();
          TokenStreamLocation at = parser.currentTokenLocation();
          String message = (pointer.isEmpty() ? "the body" : pointer) + " is a YAML alias (*" + parser.getString()
              + ", line " + at.getLineNr() + "): aliases and anchors are not supported, write the value out";
          throw Problems.malformed(message, List.of(new FieldError(pointer, SYNTAX, message)));
        }
      }
    }
  }

  private static RuntimeException syntax(SpecForm form, String message) {
    String text = form.jsonName().toUpperCase() + " syntax: " + message;
    return Problems.malformed("the body is not well-formed " + form.jsonName().toUpperCase(),
        List.of(new FieldError("", SYNTAX, text)));
  }

  private static String string(JsonNode root, String field, List<FieldError> errors) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isString()) {
      errors.add(new FieldError("/" + field, SpecBinder.TYPE, "/" + field + " must be a string, was "
          + node.getNodeType().name().toLowerCase()));
      return null;
    }
    return node.stringValue();
  }

  private byte[] hash(JsonNode root) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(canonical.writeValueAsBytes(numbersCanonical(root)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }

  /**
   * The same number written alike: an integral value ({@code 3}, {@code 3.0}, {@code 3e0}) as an
   * integer, any other as a double, so that {@code 8.0} for an integer field, which the binder
   * takes as 8, is the same body as {@code 8} for the Idempotency-Key.
   */
  static JsonNode numbersCanonical(JsonNode node) {
    if (node.isObject()) {
      ObjectNode copy = JsonNodeFactory.instance.objectNode();
      node.properties().forEach(e -> copy.set(e.getKey(), numbersCanonical(e.getValue())));
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = JsonNodeFactory.instance.arrayNode();
      node.values().forEach(v -> copy.add(numbersCanonical(v)));
      return copy;
    }
    if (node.isNumber() && !node.isIntegralNumber() && Double.isFinite(node.doubleValue())) {
      BigDecimal value = node.decimalValue().stripTrailingZeros();
      return value.scale() <= 0 ? JsonNodeFactory.instance.numberNode(value.toBigIntegerExact())
          : JsonNodeFactory.instance.numberNode(node.doubleValue());
    }
    return node;
  }

  private static ErrorResponseException unsupported(String problem) {
    ErrorResponseException e = Problems.status(HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        problem + ": send the job as application/json or application/yaml");
    e.getHeaders().setAccept(List.of(MediaType.APPLICATION_JSON, MediaType.APPLICATION_YAML));
    return e;
  }
}
