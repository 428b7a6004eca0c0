package dev.pipemoe.service.jobs;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.MindSpeedArgs;
import dev.pipemoe.engine.config.Severity;
import dev.pipemoe.engine.config.Validation;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.engine.config.Violation;
import dev.pipemoe.service.system.Problems;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;
import tools.jackson.databind.node.ArrayNode;

/**
 * Validates a submission with the engine's rules (the service adds none of its own to the spec)
 * and the one rule on the job around it, its name. Any error: 422 listing every error, with the
 * warnings and notes the engine gave, so one round trip shows everything to fix.
 */
@Component
class SubmissionValidator {

  static final String NAME_RULE = "JOB-NAME";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

  private final JobJson json;

  SubmissionValidator(JobJson json) {
    this.json = json;
  }

  Prepared validate(Submission submission) {
    Validation validation = submission.form() == SpecForm.ARGS
        ? Validator.validateArgs(submission.args())
        : Validator.validate(submission.spec());
    List<Violation> errors = new ArrayList<>(nameErrors(submission.name()));
    errors.addAll(validation.errors());
    if (!errors.isEmpty()) {
      throw invalid(errors, validation);
    }
    EngineConfig config = validation.effective();
    String spec = submission.form() == SpecForm.ARGS
        ? json.write(json.tree(MindSpeedArgs.read(submission.args()).spec()))
        : json.write(json.specAsGiven(submission.sections(), submission.spec()));
    return new Prepared(submission.form(), submission.name(), spec, submission.args(),
        json.write(json.effective(config)), json.write(json.violations(validation.warnings())),
        json.write(json.tree(validation.notes())), config.schedule().jsonName(),
        config.resources().deviceType().jsonName(), config.resources().devices());
  }

  private static List<Violation> nameErrors(String name) {
    if (name == null) {
      return List.of(new Violation("/name", null, NAME_RULE, Severity.ERROR,
          NAME_RULE + ": name is required: 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"));
    }
    if (!NAME.matcher(name).matches()) {
      String shown = name.length() > 40 ? name.substring(0, 40) + "..." : name;
      return List.of(new Violation("/name", null, NAME_RULE, Severity.ERROR, NAME_RULE
          + ": name must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit, was '" + shown + "'"));
    }
    return List.of();
  }

  private ErrorResponseException invalid(List<Violation> errors, Validation validation) {
    String listed = errors.stream().limit(5).map(v -> v.rule() + " at " + v.pointer()).collect(Collectors.joining(", "));
    String detail = "the job spec breaks " + errors.size() + (errors.size() == 1 ? " rule: " : " rules: ") + listed
        + (errors.size() > 5 ? ", ..." : "") + "; errors lists them all";
    ErrorResponseException e = Problems.problem(HttpStatus.UNPROCESSABLE_CONTENT, Problems.INVALID_JOB,
        "Invalid job spec", detail);
    ArrayNode errorNodes = json.violations(errors);
    e.getBody().setProperty("errors", errorNodes);
    e.getBody().setProperty("warnings", json.violations(validation.warnings()));
    e.getBody().setProperty("notes", validation.notes());
    return e;
  }
}
