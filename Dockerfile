# syntax=docker/dockerfile:1
# Two images from one build: `docker build --target service -t pipemoe/service .` and
# `docker build --target worker -t pipemoe/worker .`. The build stage runs the same scripts as CI
# (scripts/install-build-deps.sh, scripts/build-dist.sh).

FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY scripts/install-build-deps.sh scripts/
RUN scripts/install-build-deps.sh
# the wrapper and the poms first, so dependency downloads are cached apart from source changes
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY engine/pom.xml engine/
COPY native-bridge/pom.xml native-bridge/
COPY worker/pom.xml worker/
COPY service/pom.xml service/
COPY client/pom.xml client/
COPY cli/pom.xml cli/
COPY src-test/pom.xml src-test/
RUN ./mvnw -B -q -pl service,worker -am dependency:go-offline -DexcludeReactor=true || true
COPY . .
RUN scripts/build-dist.sh

# What both runtime images share: a JRE 25, curl for the health check, a non-root user, and
# /app/aot, where the image's training run (scripts/image-aot.sh) writes its AOT cache as that user.
FROM eclipse-temurin:25-jre AS runtime
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 pipemoe \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin pipemoe \
 && install -d -o 10001 -g 10001 /app/aot
WORKDIR /app
USER 10001:10001

# The REST service. It loads no native code. Configure with PIPEMOE_DB_URL, PIPEMOE_DB_USER,
# PIPEMOE_DB_PASSWORD, and the tokens it creates at startup: PIPEMOE_ADMIN_TOKEN,
# PIPEMOE_WORKER_TOKEN, PIPEMOE_METRICS_TOKEN (docs/service.md).
# Both images run the jar's extracted form (/app/pipemoe-NAME.jar and /app/lib) with the JDK AOT
# cache a training run made in this image at build time (docs/deploy.md, "The images' start-up
# cache"); a missing or unusable cache only costs speed, and the JVM's [aot] lines say so.
FROM runtime AS service
COPY --from=build /src/dist/pipemoe-service/ /app/
RUN --mount=type=bind,source=scripts,target=/tmp/scripts /tmp/scripts/image-aot.sh service /app
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS http://localhost:8080/actuator/health/liveness || exit 1
ENTRYPOINT ["java", "-XX:AOTCache=/app/aot/app.aot", "-jar", "/app/pipemoe-service.jar"]

# A worker: the engine and the native runtime, whose BLAS travels inside the jar (no system
# OpenBLAS needed). Configure with PIPEMOE_WORKER_* (docs/worker.md).
FROM runtime AS worker
COPY --from=build /src/dist/pipemoe-worker/ /app/
RUN --mount=type=bind,source=scripts,target=/tmp/scripts /tmp/scripts/image-aot.sh worker /app
ENV SERVER_PORT=8081 \
    PIPEMOE_WORKER_SPOOLDIR=/var/spool/pipemoe
USER root
RUN mkdir -p /var/spool/pipemoe && chown 10001:10001 /var/spool/pipemoe
USER 10001:10001
VOLUME ["/var/spool/pipemoe"]
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS http://localhost:8081/actuator/health/liveness || exit 1
ENTRYPOINT ["java", "-XX:AOTCache=/app/aot/app.aot", "-jar", "/app/pipemoe-worker.jar"]
