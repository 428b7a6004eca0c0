package dev.pipemoe.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The admin token API (docs/service.md §7), with an admin token. */
@Command(name = "token", description = {"Create, list and revoke tokens (admins).",
    "Takes the admin token from --token, else PIPEMOE_ADMIN_TOKEN, else admin-token= in the config file."},
    subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class})
final class TokenCommand implements Runnable {
  @ParentCommand
  Pipemoe root;

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "which? create, list or revoke");
  }

  @Command(name = "create", description = "Create a token; its secret is shown this once.")
  static final class Create implements Runnable {
    @ParentCommand
    TokenCommand parent;

    @Option(names = "--owner", required = true, paramLabel = "OWNER", description = "whose: a user or a fleet name")
    String owner;

    @Option(names = "--role", required = true, paramLabel = "ROLE", description = "USER, WORKER, METRICS or ADMIN")
    String role;

    @Option(names = "--description", paramLabel = "TEXT", description = "what it is for (at most 200 characters)")
    String description;

    @Override
    public void run() {
      ObjectNode body = Api.JSON.createObjectNode().put("owner", owner).put("role", role.toUpperCase(Locale.ROOT));
      if (description != null) {
        body.put("description", description);
      }
      Pipemoe root = parent.root;
      JsonNode t = root.adminApi().post("/api/v1/admin/tokens", "application/json", body.toString(), Map.of(), 201);
      if (root.output().json()) {
        root.printJson(t);
      } else {
        root.out().println(t.path("token").asString());
        root.spec.commandLine().getErr().println("token " + t.path("id").asString() + " for " + t.path("owner").asString()
            + " (" + t.path("role").asString() + "): the secret above is shown only this once");
      }
    }
  }

  @Command(name = "list", description = "List the tokens (without their secrets).")
  static final class ListTokens implements Runnable {
    @ParentCommand
    TokenCommand parent;

    @Override
    public void run() {
      Pipemoe root = parent.root;
      JsonNode list = root.adminApi().get("/api/v1/admin/tokens");
      if (root.output().json()) {
        root.printJson(list);
      } else {
        root.out().print(Views.tokens(list).text());
      }
    }
  }

  @Command(name = "revoke", description = "Revoke a token: it stops working on its next request.")
  static final class Revoke implements Runnable {
    @ParentCommand
    TokenCommand parent;

    @Parameters(paramLabel = "ID", description = "the token's id (pipemoe token list)")
    String id;

    @Override
    public void run() {
      Pipemoe root = parent.root;
      JsonNode t = root.adminApi().post("/api/v1/admin/tokens/" + Api.segment(id) + "/revoke", null, null, Map.of(), 200);
      if (root.output().json()) {
        root.printJson(t);
      } else {
        root.out().println("revoked " + t.path("id").asString() + " (" + t.path("owner").asString() + ", "
            + t.path("role").asString() + ")");
      }
    }
  }
}
