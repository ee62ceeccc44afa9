# cdcbridge services (sync, webhook receiver, forwarder, sandbox platform) in one image.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY cdcbridge ./cdcbridge
COPY streams ./streams
COPY webhook_bridge ./webhook_bridge
COPY sandbox_platform ./sandbox_platform
COPY local_stack ./local_stack
COPY schemas ./schemas
COPY connectors ./connectors
RUN pip install . && useradd --system --uid 10001 cdcbridge
USER cdcbridge
ENTRYPOINT ["cdcbridge"]
CMD ["--help"]
