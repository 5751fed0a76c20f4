# syntax=docker/dockerfile:1
# Builder: install the gateway and its dependencies into a virtual environment.
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY schema ./schema
# GraphiQL's pinned, hash-checked assets are in the package: the gateway serves them itself.
RUN pip install .

# Runtime: only the installed environment, as a non-root user. It listens on 0.0.0.0, so it
# refuses to start without GATEWAY_MONGODB_URI (GATEWAY_DEMO=true serves the demo data instead).
FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin gateway
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GATEWAY_PORT', '8000'), timeout=2)"]
CMD ["jobs-gateway"]
