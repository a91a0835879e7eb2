# reewatch service image. The repository is copied whole: migrations/ and rules/ live beside
# the package, and the package is installed in editable mode so they are found at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY migrations ./migrations
COPY alembic.ini ./
RUN pip install --no-cache-dir -e .
# PYTHONDONTWRITEBYTECODE keeps the running service from writing bytecode, and an editable
# install compiles nothing: without this, every start compiles the whole package from source.
RUN python -m compileall -q service migrations
COPY rules ./rules

RUN useradd --create-home reewatch && mkdir -p /app/var && chown reewatch /app/var
USER reewatch
ENTRYPOINT ["reewatch"]
CMD ["run"]
