# The watchdog service image: `watchdog run` by default, any other `watchdog` command on demand.
#
#   docker build -t stokly-magento-watchdog .
#   docker run --rm -v $PWD/watchdog.toml:/etc/watchdog/watchdog.toml:ro --env-file watchdog.env \
#       -p 9464:9464 stokly-magento-watchdog
#
# The configuration must listen on 0.0.0.0 inside a container ([server] listen = "0.0.0.0:9464").
# Secrets come from the environment (the *_env keys name the variables); the PostgreSQL
# password from PGPASSWORD (libpq), so it never sits in the file. See docs/deployment.md.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY watchdog ./watchdog
COPY checks ./checks
COPY alerts ./alerts
RUN pip install --no-cache-dir --root-user-action=ignore --prefix=/install ".[postgres]"

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/watchdog --create-home watchdog
USER watchdog
WORKDIR /var/lib/watchdog
# UTC: the scheduler computes every slot from the UTC clock; daily times use each integration's zone.
ENV TZ=UTC PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
EXPOSE 9464
# `watchdog run` finishes or releases its running slots on SIGTERM within ~6 s; docker stop waits 10 s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/readyz', timeout=4)"]
ENTRYPOINT ["watchdog"]
CMD ["run", "--config", "/etc/watchdog/watchdog.toml"]
