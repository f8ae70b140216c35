# The web app and the worker share this image; docker-compose.yml runs both on PostgreSQL.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm libpango-1.0-0 libpangoft2-1.0-0 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend ./frontend
RUN npm run --silent build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .
COPY processes ./processes
COPY forms ./forms
RUN useradd --create-home --uid 1000 trigger && mkdir -p /app/instance/documents && chown -R trigger /app/instance
USER trigger
ENV TRIGGER_WORKFLOW_PROCESSES_DIR=/app/processes \
    TRIGGER_WORKFLOW_FORMS_DIR=/app/forms \
    TRIGGER_WORKFLOW_ASSETS_DIR=/app/node_modules/govuk-frontend/dist/govuk \
    TRIGGER_WORKFLOW_EDITOR_ASSETS_DIR=/app/build/editor \
    TRIGGER_WORKFLOW_INSTANCE_PATH=/app/instance
EXPOSE 8000
# /healthz: the database answers and is migrated to the head (no sign-in, no personal data).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# JSON logs on standard error; the access log keeps paths, never query strings (logs.py).
CMD ["gunicorn", "-c", "python:trigger_workflow.gunicorn_config", "trigger_workflow.app:create_app()"]
