# cdcbridge services (sync, webhook receiver, forwarder, sandbox platform) in one image.
# Stage 1 builds the wheel (the same artifact tests/artifacts/test_wheel.py installs and runs)
# and the wheels of its dependencies; stage 2 installs only those into a slim runtime and runs
# as a non-root user.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY connectors ./connectors
COPY jvm ./jvm
COPY cdcbridge ./cdcbridge
COPY streams ./streams
COPY webhook_bridge ./webhook_bridge
COPY sandbox_platform ./sandbox_platform
COPY local_stack ./local_stack
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip wheel --wheel-dir /wheels /wheels/cdcbridge-*.whl

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CDCBRIDGE_SYNC_HEALTH_PORT=8081 \
    CDCBRIDGE_SYNC_HEALTH_HOST=0.0.0.0 \
    CDCBRIDGE_HEALTHCHECK_URL=http://127.0.0.1:8081/healthz
RUN useradd --system --uid 10001 --user-group --create-home --shell /usr/sbin/nologin cdcbridge
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels /wheels/cdcbridge-*.whl \
 && rm -rf /wheels
USER 10001:10001
WORKDIR /home/cdcbridge
# 8080 webhook receiver, 8081 sync health, 9102 Prometheus /metrics (when enabled).
EXPOSE 8080 8081 9102
# Probes the running service's health endpoint: sync's by default; the receiver sets
# CDCBRIDGE_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz (see docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['CDCBRIDGE_HEALTHCHECK_URL'], timeout=2)"]
ENTRYPOINT ["cdcbridge"]
CMD ["--help"]
