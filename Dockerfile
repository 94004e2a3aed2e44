# One image for every dnsrace process on kind: the operators (dnsrace.operators.planner, dnsrace.operators.enactor,
# dnsrace.operators.scenario_controller) and the mock services (mockaws.store, mockaws.frontend, mockaws.dwfm, ...).
# The entrypoint is `python -m`; each Deployment names its module in `args`:
#   args: [dnsrace.operators.planner]            ->  python -m dnsrace.operators.planner
#   args: [mockaws.dwfm, --port, ...]  ->  python -m mockaws.dwfm --port ...
#
#   docker build -t dnsrace:dev .      (what `make kind-up` runs)
#
# Plain Dockerfile syntax only (no parser directive naming a frontend, no mounts on RUN): builds with the
# legacy builder and with BuildKit alike, offline too (a frontend image cannot be fetched there).
#
# The base is a build argument: pinned by tag (Python 3.11, as pyproject.toml requires) for
# users; offline, hack/kind-offline/up.sh passes the Debian-built dnsrace.local/python:3.11-bookworm.
# Whoever has registry access should pin the digest as well:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm
#   then: ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest>
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- build: wheels of the project and of every pinned dependency, installed into a venv -------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY services ./services
RUN pip wheel --no-cache-dir --wheel-dir /wheels . \
    && python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --no-cache-dir --no-index \
        --find-links /wheels /wheels/dnsrace-*.whl \
    && /opt/venv/bin/python -m dnsrace.lab.permissions > /dev/null

# --- runtime: the same base and that venv, nothing else of the build stage ---------------------
# No compilers, no wheels, no pip inside the venv. The venv's python points at the base's
# python3.11 (/usr/local/bin on python:3.11, /usr/bin on the offline Debian base), the same in
# both stages.
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=build /opt/venv /opt/venv
# A numeric non-root user (no passwd entry needed: the operators give kopf their identity
# themselves); the pods' runAsUser/runAsNonRoot match it.
USER 65532:65532
ENTRYPOINT ["python", "-m"]
CMD ["dnsrace.operators.planner"]
