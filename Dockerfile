# The site as one container: the published database baked in, served read-only like `make serve`.
#   make demo-db            # or a nightly ingest: the file to bake is db/minhbach.db
#   docker build -t minhbach .            # another file: --build-arg DB=path/inside/the/context.db
#   docker run --rm -p 8001:8001 minhbach # Cloud Run and Fly set $PORT; 8001 otherwise
# A new database is a new image (the file is immutable inside it): roll it out like any deploy.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The code first (a layer that changes less often than the data).
COPY pyproject.toml ./
COPY db/*.py db/
COPY vn/ vn/
# The site only (the `serve` extra): no Scrapy, no spiders (plugins import db/ and vn/, never the crawler).
RUN pip install ".[serve]" && rm -rf build *.egg-info

COPY metadata.yml ./
COPY plugins/ plugins/
# Cache headers for a CDN, a content-hash ETag and /-/health (deploy/datasette_replica.py).
COPY deploy/datasette_replica.py plugins/
COPY templates/ templates/
COPY static/ static/
COPY locale/ locale/
COPY db/*.csv db/

# The data last: the published file and Datasette's inspect file (table counts, hash) made from it.
ARG DB=db/minhbach.db
COPY ${DB} db/minhbach.db
RUN datasette inspect db/minhbach.db --inspect-file db/minhbach.db.inspect.json

RUN useradd --system --uid 10001 --no-create-home minhbach
USER minhbach
ENV PORT=8001
EXPOSE 8001
# Datasette's options (metadata, plugins, settings, CORS) from db/serving.py, as `make serve` and the replicas.
CMD ["sh", "-c", "exec datasette serve -i db/minhbach.db --inspect-file db/minhbach.db.inspect.json $(python -m db.serving) --host 0.0.0.0 --port ${PORT}"]
